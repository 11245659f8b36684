// The n-gram model: its native kernels (embedding bag forward/backward, sparse AdamW) against float64
// oracles and finite differences, the featurizer's documented hash, the model's round trip through a
// model directory and the loader's rejections.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadBinding } from '../../dist/binding.js';
import { featurize, featurizeBatch, groupByRow, tokenize } from '../../dist/ngram_features.js';
import { Trainer, Classifier, getThreads, setThreads } from '../../dist/index.js';
import { mulberry32 } from '../../dist/random.js';
import { NgramTextModel, NGRAM_DEFAULTS, ngramDefaultsFor } from '../../dist/ngram_model.js';
import { readSafetensors } from '../../dist/safetensors.js';

const native = loadBinding();
const scratch = mkdtempSync(join(tmpdir(), 'fml-ngram-'));
const close = (a, b, atol, rtol, what) => {
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

function randomBags(seed, V, C, B) {
  const r = mulberry32(seed);
  const weight = Float32Array.from({ length: V * C }, () => 2 * r() - 1);
  const offsets = new Int32Array(B + 1);
  const ids = [];
  for (let b = 0; b < B; b++) {
    const n = b === 1 ? 0 : 1 + Math.floor(r() * 6); // bag 1 is empty
    for (let i = 0; i < n; i++) ids.push(Math.floor(r() * V));
    offsets[b + 1] = ids.length;
  }
  return { weight, ids: Int32Array.from(ids), offsets };
}

// float64 oracle of embedding_bag.h's forward
function oracleForward(weight, ids, offsets, mode, B, C) {
  const out = new Float64Array(B * C);
  for (let b = 0; b < B; b++) {
    const n = offsets[b + 1] - offsets[b];
    const s = n === 0 ? 0 : mode === 0 ? 1 / n : 1 / Math.sqrt(n);
    for (let i = offsets[b]; i < offsets[b + 1]; i++) for (let c = 0; c < C; c++) out[b * C + c] += s * weight[ids[i] * C + c];
  }
  return out;
}

for (const mode of [0, 1]) {
  test(`embedding bag forward (${mode ? 'sqrt-n' : 'mean'}) matches the float64 oracle, empty bags give 0`, () => {
    const [V, C, B] = [13, 5, 7];
    const { weight, ids, offsets } = randomBags(3 + mode, V, C, B);
    const out = new Float32Array(B * C).fill(NaN);
    const scale = new Float32Array(B);
    native.embeddingBagForward(out, scale, weight, ids, offsets, mode, B, C);
    close(out, oracleForward(weight, ids, offsets, mode, B, C), 1e-6, 1e-5, 'out');
    assert.equal(Array.from(out.subarray(C, 2 * C)), new Array(C).fill(0));
  });

  test(`embedding bag backward (${mode ? 'sqrt-n' : 'mean'}): the gradient of Σ dout·out matches finite differences, only used rows`, () => {
    const [V, C, B] = [9, 4, 6];
    const { weight, ids, offsets } = randomBags(11 + mode, V, C, B);
    const r = mulberry32(5);
    const dout = Float32Array.from({ length: B * C }, () => 2 * r() - 1);
    const out = new Float32Array(B * C);
    const scale = new Float32Array(B);
    native.embeddingBagForward(out, scale, weight, ids, offsets, mode, B, C);
    const g = groupByRow(ids, offsets, new Int32Array(V).fill(-1));
    const drows = new Float32Array(g.rows.length * C).fill(NaN);
    native.embeddingBagBackward(drows, dout, scale, g.occBag, g.rowPtr, g.rows.length, C);
    const f = (w) => oracleForward(w, ids, offsets, mode, B, C).reduce((s, x, i) => s + x * dout[i], 0);
    const used = new Set(ids);
    assert.is(g.rows.length, used.size);
    const w64 = Float64Array.from(weight);
    for (let u = 0; u < g.rows.length; u++)
      for (let c = 0; c < C; c++) {
        const k = g.rows[u] * C + c;
        const h = 1e-4;
        w64[k] += h;
        const up = f(w64);
        w64[k] -= 2 * h;
        const down = f(w64);
        w64[k] += h;
        const fd = (up - down) / (2 * h);
        assert.ok(Math.abs(drows[u * C + c] - fd) < 1e-4, `row ${g.rows[u]} col ${c}: ${drows[u * C + c]} vs ${fd}`);
      }
  });
}

test('sparse AdamW updates exactly the listed rows, as PyTorch AdamW on those rows (float64 oracle)', () => {
  const [V, C] = [6, 3];
  const r = mulberry32(9);
  const w = Float32Array.from({ length: V * C }, () => r() - 0.5);
  const m = Float32Array.from({ length: V * C }, () => (r() - 0.5) * 0.1);
  const v = Float32Array.from({ length: V * C }, () => r() * 0.01);
  const rows = Int32Array.from([4, 1]);
  const g = Float32Array.from({ length: rows.length * C }, () => r() - 0.5);
  const [w0, m0, v0] = [w.slice(), m.slice(), v.slice()];
  const a = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, t: 3 };
  native.sparseAdamW(w, m, v, g, rows, a, rows.length, C);
  const bc1 = 1 - a.beta1 ** a.t, bc2 = Math.sqrt(1 - a.beta2 ** a.t);
  for (let row = 0; row < V; row++) {
    const u = Array.from(rows).indexOf(row);
    for (let c = 0; c < C; c++) {
      const k = row * C + c;
      if (u < 0) {
        assert.equal([w[k], m[k], v[k]], [w0[k], m0[k], v0[k]], `row ${row} untouched`);
        continue;
      }
      const gg = g[u * C + c];
      const mm = a.beta1 * m0[k] + (1 - a.beta1) * gg, vv = a.beta2 * v0[k] + (1 - a.beta2) * gg * gg;
      const x = w0[k] * (1 - a.lr * a.weightDecay) - (a.lr / bc1) * (mm / (Math.sqrt(vv) / bc2 + a.eps));
      close([w[k], m[k], v[k]], [x, mm, vv], 1e-6, 1e-5, `row ${row}`);
    }
  }
});

// The dense layers and the direct path's update (native/ops/ngram_head.h) against the loops they replaced,
// written here in JavaScript: each sum in double in the same order, rounded to float where stored. Shapes with
// odd sizes (vector tails), zeros in dy (skipped, as the loops did), 1 and 2 threads.
test('denseForward / denseBackward / rowsSgd / sumSquares / scaleRounded: the bits of the loops written here (double sums in a fixed order)', () => {
  const r = mulberry32(21);
  const rand = (n, zeros = 0) => Float32Array.from({ length: n }, () => (r() < zeros ? 0 : (r() - 0.5) * 4));
  const threads = getThreads();
  try {
    for (const t of [1, 2]) {
      setThreads(t);
      for (const [B, I, O] of [[1, 1, 1], [5, 7, 3], [33, 64, 598], [64, 19, 37]]) {
        const x = rand(B * I), W = rand(O * I), b = rand(O), dy = rand(B * O, 0.3);
        const y = new Float32Array(B * O);
        native.denseForward(y, x, W, b, B, I, O);
        const yRef = new Float32Array(B * O);
        for (let n = 0; n < B; n++)
          for (let o = 0; o < O; o++) {
            let acc = b[o];
            for (let i = 0; i < I; i++) acc += x[n * I + i] * W[o * I + i];
            yRef[n * O + o] = acc;
          }
        assert.equal(Array.from(y), Array.from(yRef), `forward ${B}×${I}×${O}, ${t} threads`);
        const dW = new Float32Array(O * I).fill(7), db = new Float32Array(O).fill(7), dx = new Float32Array(B * I).fill(7);
        native.denseBackward(dW, db, dx, dy, x, W, B, I, O);
        const dWr = new Float32Array(O * I), dbr = new Float32Array(O), dxr = new Float32Array(B * I);
        for (let n = 0; n < B; n++)
          for (let o = 0; o < O; o++) {
            const g = dy[n * O + o];
            if (g === 0) continue;
            dbr[o] += g;
            for (let i = 0; i < I; i++) {
              dWr[o * I + i] += g * x[n * I + i];
              dxr[n * I + i] += g * W[o * I + i];
            }
          }
        assert.equal(Array.from(dW), Array.from(dWr), `dW ${B}×${I}×${O}`);
        assert.equal(Array.from(db), Array.from(dbr), `db ${B}×${I}×${O}`);
        assert.equal(Array.from(dx), Array.from(dxr), `dx ${B}×${I}×${O}`);
        const dW2 = new Float32Array(O * I);
        native.denseBackward(dW2, new Float32Array(O), null, dy, x, W, B, I, O);
        assert.equal(Array.from(dW2), Array.from(dWr), 'dW without dx');
      }
      const K = 37, V = 50, rows = Int32Array.from([3, 49, 0, 17, 8]), step = 0.3 * 100 * 32 * K;
      const p = rand(V * K), g = rand(rows.length * K, 0.2), pr = p.slice();
      native.rowsSgd(p, g, rows, rows.length, K, step);
      for (let u = 0; u < rows.length; u++) for (let k = 0; k < K; k++) pr[rows[u] * K + k] -= step * g[u * K + k];
      assert.equal(Array.from(p), Array.from(pr), 'rowsSgd');
      const arrays = [rand(1000), rand(3), rand(70001, 0.1)];
      // each array in 8 lanes (element i into lane i mod 8) added by a fixed tree, the arrays in order
      let sq = 0;
      for (const a of arrays) {
        const lane = new Float64Array(8);
        for (let i = 0; i < a.length; i++) lane[i % 8] += a[i] * a[i];
        sq += ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
      }
      assert.is(native.sumSquares(arrays), sq, 'sumSquares: 8 lanes and a fixed tree per array');
      const sc = arrays[2].slice(), scr = arrays[2].slice(), factor = 1 / (Math.sqrt(sq) + 1e-6);
      native.scaleRounded(sc, factor);
      for (let i = 0; i < scr.length; i++) scr[i] *= factor;
      assert.equal(Array.from(sc), Array.from(scr), 'scaleRounded');
    }
  } finally {
    setThreads(threads);
  }
});

test('the kernels reject bad indices and shapes before running (RangeError/TypeError with ERR_INVALID_ARG)', () => {
  const w = new Float32Array(8);
  const bad = (fn, re) => assert.throws(fn, (e) => e.code === 'ERR_INVALID_ARG' && re.test(e.message));
  bad(() => native.embeddingBagForward(new Float32Array(2), new Float32Array(1), w, Int32Array.from([4]), Int32Array.from([0, 1]), 0, 1, 2), /ids\[0\] in \[0, 4\)/);
  bad(() => native.embeddingBagForward(new Float32Array(2), new Float32Array(1), w, Int32Array.from([1]), Int32Array.from([0, 2]), 0, 1, 2), /offsets\[last\] = 1/);
  bad(() => native.embeddingBagForward(new Float32Array(2), new Float32Array(1), w, [1], Int32Array.from([0, 1]), 0, 1, 2), /Int32Array for ids/);
  bad(() => native.sparseAdamW(w, new Float32Array(8), new Float32Array(8), new Float32Array(4), Int32Array.from([1, 1]), { lr: 1, beta1: 0.9, beta2: 0.9, eps: 1, weightDecay: 0, t: 1 }, 2, 2), /distinct rows/);
  bad(() => native.rowsSgd(w, new Float32Array(4), Int32Array.from([1, 1]), 2, 2, 1), /distinct rows/);
  bad(() => native.rowsSgd(w, new Float32Array(4), Int32Array.from([1, 4]), 2, 2, 1), /rows\[1\] in \[0, 4\)/);
  bad(() => native.denseForward(new Float32Array(5), new Float32Array(6), new Float32Array(6), new Float32Array(2), 3, 2, 2), /length 6 for y/);
  bad(() => native.denseBackward(new Float32Array(4), new Float32Array(2), null, new Float32Array(6), new Float32Array(5), new Float32Array(4), 3, 2, 2), /length 6 for x/);
});

test('featurizer: FNV-1a 32-bit of tag 1 + the word (the documented hash), bigrams, character n-grams', () => {
  const fnv = (units) => units.reduce((h, u) => Math.imul(h ^ u, 16777619) >>> 0, 2166136261);
  const cfg = { buckets: 1 << 30, wordNgrams: 2, charNgrams: [0, 0], maxTokens: 100 };
  const out = [];
  featurize('Hi, you', cfg, out);
  const units = (s) => Array.from(s, (ch) => ch.charCodeAt(0));
  assert.equal(tokenize('Hi, you!!', 100), ['hi', ',', 'you', '!', '!']);
  assert.equal(out, [
    fnv([1, ...units('hi')]) % cfg.buckets, fnv([1, ...units('hi ,')]) % cfg.buckets,
    fnv([1, ...units(',')]) % cfg.buckets, fnv([1, ...units(', you')]) % cfg.buckets, fnv([1, ...units('you')]) % cfg.buckets,
  ]);
  const chars = [];
  featurize('ab', { ...cfg, wordNgrams: 1, charNgrams: [2, 3] }, chars);
  // "<ab>": 2-grams <a ab b>, 3-grams <ab ab>; the whole word "<ab>" is never a char n-gram
  assert.equal(chars.slice(1), ['<a', '<ab', 'ab', 'ab>', 'b>'].map((g) => fnv([2, ...units(g)]) % cfg.buckets));
  const { ids, offsets } = featurizeBatch(['a b', '', 'c'], { ...cfg, wordNgrams: 1 });
  assert.equal(Array.from(offsets), [0, 2, 2, 3]);
  assert.is(ids.length, 3);
});

const rows = [];
for (let i = 0; i < 240; i++) {
  const labels = [];
  if (i % 2 === 0) labels.push('billing');
  if (i % 3 === 0) labels.push('login');
  const words = [i % 2 === 0 ? 'invoice charged refund' : 'weather today', i % 3 === 0 ? 'password reset locked' : 'hello there', `n${i % 7}`];
  rows.push({ text: words.join(' '), labels });
}

test('Trainer({ model: "ngram" }) learns separable labels; the saved directory round-trips with the same scores', async () => {
  const trainer = new Trainer({ model: { ngram: { buckets: 4096, dim: 16, hidden: 8 } }, epochs: 8, lr: 0.05, seed: 1 });
  await trainer.fit(rows.slice(0, 200), rows.slice(200));
  const rep = await trainer.evaluate(rows.slice(200));
  assert.ok(rep.metrics.micro.f1 > 0.95, `micro-F1 ${rep.metrics.micro.f1}`);
  const dir = join(scratch, 'm');
  await trainer.save(dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.is(cfg.model_type, 'fused-ngram');
  assert.equal(cfg.ngram.charNgrams, [3, 5]);
  const texts = rows.slice(200, 210).map((r) => r.text);
  const loaded = await Classifier.load(dir);
  assert.equal(Array.from(await loaded.scores(texts)), Array.from(await trainer.classifier.scores(texts)));
  // a directory written before the direct path existed (no direct/directLr fields) loads as one without it
  const { direct, directLr, ...older } = cfg.ngram;
  assert.equal([direct, typeof directLr], [0, 'number']);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, ngram: older }));
  const old = await Classifier.load(dir);
  assert.equal(Array.from(await old.scores(texts)), Array.from(await trainer.classifier.scores(texts)));
  old.dispose();
  cfg.ngram.direct = -1;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  let bad;
  try { await Classifier.load(dir); } catch (e) { bad = e; }
  assert.is(bad?.code, 'ERR_INVALID_FILE');
  assert.match(bad.message, /ngram\.direct/);
  cfg.ngram.direct = 0;
  // a field it cannot read: ERR_INVALID_FILE naming the field
  cfg.ngram.pooling = 'max';
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  let err;
  try { await Classifier.load(dir); } catch (e) { err = e; }
  assert.is(err?.code, 'ERR_INVALID_FILE');
  assert.match(err.message, /ngram\.pooling/);
  trainer.dispose();
  loaded.dispose();
});

test('over 100 labels: a 64-wide bag plus a direct path (at most the bucket count, ⌊76 MB / 4K⌋ rows), unless the caller sets them', async () => {
  const many = Array.from({ length: 202 }, (_, i) => ({ text: `word${i % 101} other`, labels: [`l${i % 101}`] }));
  assert.equal(ngramDefaultsFor(28), NGRAM_DEFAULTS);
  assert.equal([ngramDefaultsFor(598).buckets, ngramDefaultsFor(598).dim, ngramDefaultsFor(598).direct], [65536, 64, Math.floor(76e6 / (4 * 598))]);
  assert.is(ngramDefaultsFor(101).direct, 65536);
  for (const [ngram, want] of [[{ buckets: 512 }, { dim: 64, direct: 512 }], [{ buckets: 512, dim: 8, direct: 0 }, { dim: 8, direct: 0 }], [{ buckets: 512, direct: 100 }, { dim: 64, direct: 100 }]]) {
    const t = new Trainer({ model: { ngram }, epochs: 1, earlyStopping: false });
    await t.fit(many);
    const dir = join(scratch, `many${want.dim}-${want.direct}`);
    await t.save(dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).ngram;
    assert.equal({ dim: cfg.dim, direct: cfg.direct }, want);
    const { tensors } = readSafetensors(join(dir, 'model.safetensors'));
    assert.is(tensors.has('direct.weight'), want.direct > 0);
    t.dispose();
  }
});

// float64 oracle of the n-gram model's logits (no hidden layer): classifier(bag) + bias + the direct path's bag (rows: feature ids mod direct)
function oracleLogits(cfg, p, K, texts) {
  const B = texts.length;
  const bag = featurizeBatch(texts, cfg);
  const pooled = oracleForward(p.get('embedding.weight'), bag.ids, bag.offsets, 1, B, cfg.dim);
  const words = { ids: bag.ids.map((x) => x % cfg.direct), offsets: bag.offsets };
  const direct = cfg.direct > 0 ? oracleForward(p.get('direct.weight'), words.ids, words.offsets, 1, B, K) : new Float64Array(B * K);
  const W = p.get('classifier.weight'), bias = p.get('classifier.bias');
  const z = new Float64Array(B * K);
  for (let b = 0; b < B; b++)
    for (let k = 0; k < K; k++) {
      let s = bias[k] + direct[b * K + k];
      for (let c = 0; c < cfg.dim; c++) s += W[k * cfg.dim + c] * pooled[b * cfg.dim + c];
      z[b * K + k] = s;
    }
  return { z, words };
}

test('direct path: logits = classifier(bag) + bias + the bag of direct.weight rows at feature ids mod direct (float64 oracle, saved and loaded)', async () => {
  const trainer = new Trainer({ model: { ngram: { buckets: 512, dim: 4, direct: 97 } }, epochs: 3, lr: 0.05, seed: 3 });
  await trainer.fit(rows.slice(0, 200), rows.slice(200));
  const dir = join(scratch, 'direct');
  await trainer.save(dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).ngram;
  assert.is(cfg.direct, 97);
  const { tensors } = readSafetensors(join(dir, 'model.safetensors'));
  assert.equal(tensors.get('direct.weight').shape, [97, 2]);
  const p = new Map([...tensors].map(([k, v]) => [k, v.data]));
  assert.ok(p.get('direct.weight').some((x) => x !== 0), 'the direct path was trained');
  const texts = rows.slice(200, 212).map((r) => r.text).concat(['', 'invoice']);
  const { z } = oracleLogits(cfg, p, 2, texts);
  const loaded = await Classifier.load(dir);
  close(await loaded.scores(texts), Array.from(z, (x) => 1 / (1 + Math.exp(-x))), 1e-6, 1e-5, 'scores');
  loaded.dispose();
  trainer.dispose();
});

test('direct path: one SGD step moves exactly the used direct rows by -lr·directLr·B·K × the float64 gradient of the mean BCE loss', async () => {
  const cfg = { ...NGRAM_DEFAULTS, buckets: 256, dim: 3, direct: 31, directLr: 5 };
  const K = 2;
  const model = NgramTextModel.create(cfg, K, 7);
  const texts = rows.slice(0, 16).map((r) => r.text);
  const y = new Int8Array(texts.length * K);
  rows.slice(0, 16).forEach((r, b) => { y[b * K] = r.labels.includes('billing') ? 1 : 0; y[b * K + 1] = r.labels.includes('login') ? 1 : 0; });
  const before = model.snapshot();
  const { z, words } = oracleLogits(cfg, before, K, texts);
  const grad = new Float64Array(cfg.direct * K);
  for (let b = 0; b < texts.length; b++) {
    const n = words.offsets[b + 1] - words.offsets[b];
    for (let i = words.offsets[b]; i < words.offsets[b + 1]; i++)
      for (let k = 0; k < K; k++) grad[words.ids[i] * K + k] += (1 / (1 + Math.exp(-z[b * K + k])) - y[b * K + k]) / Math.sqrt(n);
  }
  await model.trainStep(texts, y, {}, { lr: 1e-3, weightDecay: 0, maxGradNorm: 0 });
  const d0 = before.get('direct.weight'), d1 = model.snapshot().get('direct.weight');
  let moved = 0;
  for (let i = 0; i < grad.length; i++) {
    // SGD on the summed loss: Δ = -lr · directLr · (gradient of the sum) = -lr · directLr · B·K · (gradient of the mean)
    const want = -1e-3 * cfg.directLr * grad[i];
    assert.ok(Math.abs(d1[i] - d0[i] - want) <= 1e-6 + 1e-4 * Math.abs(want), `direct.weight[${i}]: moved ${d1[i] - d0[i]}, want ${want}`);
    if (grad[i] === 0) assert.is(d1[i], d0[i], `direct.weight[${i}] untouched`);
    else moved++;
  }
  assert.ok(moved > 10, `${moved} elements moved`);
  model.dispose();
});

test('endTraining drops the optimizer state: the next step is a fresh optimizer\'s first step', async () => {
  const cfg = { ...NGRAM_DEFAULTS, buckets: 256, dim: 4 };
  const K = 2;
  const texts = rows.slice(0, 8).map((r) => r.text);
  const y = new Int8Array(texts.length * K);
  rows.slice(0, 8).forEach((r, b) => { y[b * K] = r.labels.includes('billing') ? 1 : 0; });
  const opt = { lr: 1e-2, weightDecay: 0, maxGradNorm: 0 };
  const trained = NgramTextModel.create(cfg, K, 5);
  for (let i = 0; i < 3; i++) await trained.trainStep(texts, y, {}, opt);
  trained.endTraining();
  const fresh = NgramTextModel.create(cfg, K, 9);
  fresh.restore(trained.snapshot());
  const kept = NgramTextModel.create(cfg, K, 5); // the same three steps, moments kept
  for (let i = 0; i < 3; i++) await kept.trainStep(texts, y, {}, opt);
  for (const m of [trained, fresh, kept]) await m.trainStep(texts, y, {}, opt);
  const [a, b, c] = [trained, fresh, kept].map((m) => m.snapshot().get('classifier.weight'));
  assert.equal(Array.from(a), Array.from(b), 'after endTraining: as a fresh optimizer');
  assert.ok(a.some((x, i) => x !== c[i]), 'with the moments kept the step differs');
  for (const m of [trained, fresh, kept]) m.dispose();
});

test('the default model is auto → ngram, said in the options', () => {
  const t = new Trainer({});
  assert.is(t.options.model, 'ngram');
  assert.is(t.options.modelAuto.picked, 'ngram');
  assert.throws(() => new Trainer({ model: { ngram: { pooling: 'max' } } }), (e) => e.code === 'ERR_INVALID_ARG' && /options\.model\.ngram\.pooling/.test(e.message));
});

test('a label only the validation rows (or fit\'s labels) have: kept with count 0, warned, out of threshold tuning; evaluate still rejects unknown labels', async () => {
  const warnings = [];
  const onWarning = (w) => warnings.push(w.message);
  process.on('warning', onWarning);
  const val = [...rows.slice(200, 230), { text: 'surprise party', labels: ['party'] }];
  const trainer = new Trainer({ model: { ngram: { buckets: 2048, dim: 8 } }, epochs: 2, lr: 0.05, seed: 2 });
  const h = await trainer.fit(rows.slice(0, 200), val, { labels: ['gift'] });
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  assert.equal(trainer.labels, ['billing', 'login', 'gift', 'party']);
  assert.equal(h.data.zeroLabels, ['gift', 'party']);
  assert.is(h.data.trainCounts.party, 0);
  assert.ok(warnings.some((m) => /^2 labels never occur in the training rows.*gift, party/.test(m)), warnings.join('\n'));
  // out of tuning: no per-label threshold was searched for them (they keep the global one)
  assert.is(h.thresholds.perClass.party, h.thresholds.global);
  const rep = await trainer.evaluate([...rows.slice(230), { text: 'a gift', labels: ['gift'] }]);
  assert.ok(rep.metrics.groups.zero.labels.includes('gift'), JSON.stringify(rep.metrics.groups.zero));
  const dir = join(scratch, 'zero');
  await trainer.save(dir);
  const clf = await Classifier.load(dir);
  let err;
  try { await clf.evaluate([{ text: 'x', labels: ['never-seen'] }]); } catch (e) { err = e; }
  assert.match(String(err?.message), /never-seen/);
  clf.dispose();
  trainer.dispose();
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
