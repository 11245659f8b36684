// Encoder API: create, save → fromPretrained round trip, base checkpoints, dropout, argument errors
// (all before any kernel runs), ERR_DISPOSED, ERR_BUSY, memory().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { join } from 'node:path';
import { Encoder, getThreads, normalizeEncoderConfig, readSafetensors, setThreads, writeSafetensors } from '../../dist/index.js';
import { assertRejectsCode, assertClose } from '../helpers/assert.js';
import { cudaTest } from '../helpers/cuda.js';

const FIX = new URL('../fixtures/encoder/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'fml-encoder-'));

const small = {
  architecture: 'bert', vocabSize: 30, hiddenSize: 16, numLayers: 2, numHeads: 4, intermediateSize: 32,
  maxPositions: 8, numLabels: 5,
};

function batchOf(B, T, V = 30) {
  const inputIds = Int32Array.from({ length: B * T }, (_, i) => 1 + ((i * 7) % (V - 1)));
  const attentionMask = Uint8Array.from({ length: B * T }, (_, i) => (i % T < T - (i / T | 0) % 3 ? 1 : 0));
  return { inputIds, attentionMask, batchSize: B, seqLen: T };
}

test('create: BERT initialisation (N(0, 0.02), LayerNorm 1/0, biases 0, [PAD] row 0)', async () => {
  const enc = await Encoder.create(small, { device: 'cpu', seed: 1 });
  const p = enc.parameters();
  assert.equal(enc.parameterShapes().get('bert.encoder.layer.1.intermediate.dense.weight'), [32, 16]);
  assert.ok(p.get('bert.embeddings.LayerNorm.weight').every((x) => x === 1));
  assert.ok(p.get('bert.encoder.layer.0.attention.self.query.bias').every((x) => x === 0));
  const w = p.get('bert.encoder.layer.0.intermediate.dense.weight');
  const mean = w.reduce((a, b) => a + b, 0) / w.length;
  const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
  assert.ok(Math.abs(mean) < 0.005 && Math.abs(sd - 0.02) < 0.004, `mean ${mean} sd ${sd}`);
  assert.ok(p.get('bert.embeddings.word_embeddings.weight').subarray(0, 16).every((x) => x === 0));
  const again = (await Encoder.create(small, { device: 'cpu', seed: 1 })).parameters();
  assert.equal(Array.from(again.get('classifier.weight')), Array.from(p.get('classifier.weight')), 'same seed, same weights');
  const other = (await Encoder.create(small, { device: 'cpu', seed: 2 })).parameters();
  assert.not.equal(Array.from(other.get('classifier.weight')), Array.from(p.get('classifier.weight')));
  const m = enc.memory();
  assert.is(m.parameters, [...p.values()].reduce((a, t) => a + 4 * t.length, 0));
  assert.is(m.gradients, 0, 'no gradient arena before the first backward');
  assert.ok(enc.gradients().get('classifier.weight').every((x) => x === 0), 'gradients read as zeros');
  assert.is(m.optimizer, 0);
  enc.dispose();
});

test('save → fromPretrained is bit-identical, with a Hugging Face config.json', async () => {
  const enc = await Encoder.fromPretrained(FIX + 'bert', { device: 'cpu' });
  const dir = join(tmp, 'saved');
  await enc.save(dir, { labels: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.architectures, ['BertForSequenceClassification']);
  assert.is(cfg.model_type, 'bert');
  assert.is(cfg.problem_type, 'multi_label_classification');
  assert.is(cfg.hidden_size, 64);
  assert.equal(cfg.id2label, { 0: 'a', 1: 'b', 2: 'c', 3: 'd', 4: 'e', 5: 'f', 6: 'g' });
  assert.is(cfg.label2id.g, 6);
  assert.equal(readdirSync(dir).sort(), ['config.json', 'model.safetensors'], 'no temporary files left');
  const back = await Encoder.fromPretrained(dir, { device: 'cpu' });
  assert.equal(back.labels, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  const p1 = enc.parameters();
  const p2 = back.parameters();
  for (const [n, t] of p1) assert.ok(Buffer.from(t.buffer).equals(Buffer.from(p2.get(n).buffer)), n);
  const dir2 = join(tmp, 'saved2');
  await back.save(dir2);
  assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(readFileSync(join(dir2, 'model.safetensors'))));
  // the original fixture (written by torch) and ours hold the same tensors
  const orig = readSafetensors(FIX + 'bert/model.safetensors').tensors;
  for (const [n, t] of orig) assert.equal(Array.from(p2.get(n)), Array.from(t.data), n);
  // freshHead: the head of create() with the same seed (native Philox init), the rest from the checkpoint
  const fresh = await Encoder.fromPretrained(dir, { device: 'cpu', seed: 9, freshHead: true });
  const init = await Encoder.create(back.config, { device: 'cpu', seed: 9 });
  const pf = fresh.parameters();
  for (const [n, t] of pf) {
    const want = n.startsWith('classifier.') ? init.parameters().get(n) : p2.get(n);
    assert.ok(Buffer.from(t.buffer).equals(Buffer.from(want.buffer)), n);
  }
  assert.not.ok(Buffer.from(pf.get('classifier.weight').buffer).equals(Buffer.from(p2.get('classifier.weight').buffer)));
  await assertRejectsCode(() => Encoder.fromPretrained(dir, { freshHead: 'yes' }), 'ERR_INVALID_ARG', TypeError, /options\.freshHead/);
  fresh.dispose();
  init.dispose();
  enc.dispose();
  back.dispose();
});

test('distilbert save round trip keeps the architecture', async () => {
  const enc = await Encoder.fromPretrained(FIX + 'distilbert', { device: 'cpu' });
  const dir = join(tmp, 'distil');
  await enc.save(dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.architectures, ['DistilBertForSequenceClassification']);
  assert.is(cfg.dim, 64);
  assert.is(cfg.n_layers, 2);
  const back = await Encoder.fromPretrained(dir, { device: 'cpu' });
  assert.is(back.config.architecture, 'distilbert');
  assert.is(back.config.numLabels, 7);
  const a = enc.parameters(), b = back.parameters();
  for (const [n, t] of a) assert.equal(Array.from(b.get(n)), Array.from(t), n);
});

test('a base checkpoint (no prefix, no head) loads with a fresh head of numLabels outputs', async () => {
  const { tensors } = readSafetensors(FIX + 'bert/model.safetensors');
  const base = new Map();
  for (const [n, t] of tensors) if (!n.startsWith('classifier.')) base.set(n.replace(/^bert\./, ''), { shape: t.shape, data: t.data });
  const dir = join(tmp, 'base');
  await (await Encoder.create(small, { device: 'cpu' })).save(dir);  // a config.json to overwrite below
  const cfg = JSON.parse(readFileSync(FIX + 'bert/config.json', 'utf8'));
  delete cfg.id2label;
  delete cfg.label2id;
  cfg.architectures = ['BertModel'];
  (await import('node:fs')).writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  writeSafetensors(join(dir, 'model.safetensors'), base);
  await assertRejectsCode(() => Encoder.fromPretrained(dir, { device: 'cpu' }), 'ERR_INVALID_ARG', RangeError, /numLabels/);
  const enc = await Encoder.fromPretrained(dir, { device: 'cpu', numLabels: 3, seed: 5 });
  const p = enc.parameters();
  assert.equal(Array.from(p.get('bert.encoder.layer.1.output.dense.weight')), Array.from(tensors.get('bert.encoder.layer.1.output.dense.weight').data));
  assert.is(p.get('classifier.weight').length, 3 * 64);
  assert.ok(p.get('classifier.bias').every((x) => x === 0));
  // a missing body tensor is named
  base.delete('encoder.layer.0.output.dense.bias');
  writeSafetensors(join(dir, 'model.safetensors'), base);
  await assertRejectsCode(() => Encoder.fromPretrained(dir, { device: 'cpu', numLabels: 3 }), 'ERR_INVALID_FILE', Error, /layer\.0\.output\.dense\.bias/);
});

test('checkpoint tensors that are not parameters (an I64 position_ids buffer, a pre-training head) are skipped', async () => {
  const dir = join(tmp, 'extra');
  const enc = await Encoder.create(small, { device: 'cpu', seed: 8 });
  await enc.save(dir);
  const { tensors } = readSafetensors(join(dir, 'model.safetensors'));
  // rebuild the file by hand with two extra entries: I64 position_ids and an F32 MLM bias
  const entries = [...tensors].map(([n, t]) => [n, 'F32', t.shape, Buffer.from(t.data.buffer)]);
  const ids = Buffer.alloc(8 * 8);
  for (let i = 0; i < 8; i++) ids.writeBigInt64LE(BigInt(i), 8 * i);
  entries.push(['bert.embeddings.position_ids', 'I64', [1, 8], ids], ['cls.predictions.bias', 'F32', [30], Buffer.alloc(120)]);
  const header = {};
  let off = 0;
  for (const [n, dtype, shape, data] of entries) {
    header[n] = { dtype, shape, data_offsets: [off, off + data.length] };
    off += data.length;
  }
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([len, h, ...entries.map((e) => e[3])]));
  const back = await Encoder.fromPretrained(dir, { device: 'cpu' });
  const p = enc.parameters();
  for (const [n, t] of back.parameters()) assert.equal(Array.from(t), Array.from(p.get(n)), n);
});

test('pooling cls and mean change the logits; dropout is deterministic per seed and step', async () => {
  const b = batchOf(3, 8);
  const z = {};
  for (const pooling of ['pooler', 'cls', 'mean']) {
    const enc = await Encoder.create({ ...small, pooling }, { device: 'cpu', seed: 9 });
    z[pooling] = await enc.forward(b);
  }
  assert.not.equal(Array.from(z.cls), Array.from(z.mean));
  assert.not.equal(Array.from(z.cls), Array.from(z.pooler));
  const e1 = await Encoder.create({ ...small, hiddenDropout: 0.3, attentionDropout: 0.3 }, { device: 'cpu', seed: 4 });
  const e2 = await Encoder.create({ ...small, hiddenDropout: 0.3, attentionDropout: 0.3 }, { device: 'cpu', seed: 4 });
  const eval1 = await e1.forward(b);
  const t1 = await e1.forward(b, { train: true });
  const t2 = await e2.forward(b, { train: true });
  assert.equal(Array.from(t1), Array.from(t2), 'same seed and step: same masks');
  assert.not.equal(Array.from(t1), Array.from(eval1), 'dropout changes the training forward');
  const t1b = await e1.forward(b, { train: true });
  assert.not.equal(Array.from(t1b), Array.from(t1), 'the next step draws new masks');
  assertClose(await e1.forward(b), eval1, { atol: 0, rtol: 0, label: 'eval is deterministic' });
});

test('trainStep takes bceWithLogits loss options (posWeight, mask, Int8 targets with -1 ignored)', async () => {
  const b = batchOf(2, 6);
  const enc = await Encoder.create({ ...small, hiddenDropout: 0, attentionDropout: 0 }, { device: 'cpu', seed: 2 });
  const targets = Int8Array.from([1, 0, -1, 1, 0, 0, 1, 1, -1, 0]);
  const r1 = await enc.trainStep(b, targets, { posWeight: new Float32Array([2, 1, 1, 1, 3]) }, { lr: 1e-3, weightDecay: 0.01, maxGradNorm: 1 });
  assert.ok(Number.isFinite(r1.loss) && r1.loss > 0);
  assert.ok(r1.gradNorm > 0);
  assert.ok(enc.memory().optimizer > 0);
  const mask = Uint8Array.from([1, 1, 0, 1, 1, 1, 1, 1, 0, 1]);
  const r2 = await enc.trainStep(b, Float32Array.from(targets, (x) => Math.max(x, 0)), { mask, reduction: 'sum' }, { lr: 1e-3 });
  assert.ok(Number.isFinite(r2.loss));
  await assertRejectsCode(() => enc.trainStep(b, targets, { pos_weight: 1 }, { lr: 1 }), 'ERR_INVALID_ARG', TypeError, /posWeight/);
  await assertRejectsCode(() => enc.trainStep(b, new Float32Array(10).fill(2), undefined, { lr: 1 }), 'ERR_INVALID_ARG', RangeError, /targets/);
  await assertRejectsCode(() => enc.trainStep(b, targets, undefined, {}), 'ERR_INVALID_ARG', TypeError, /lr/);
  await assertRejectsCode(() => enc.trainStep(b, targets, undefined, { lr: 1, betas: 1 }), 'ERR_INVALID_ARG', TypeError, /betas/);
});

test('activations grow with the batch; gradients after a larger batch equal a fresh encoder\'s', async () => {
  const a = await Encoder.create({ ...small, hiddenDropout: 0, attentionDropout: 0 }, { device: 'cpu', seed: 6 });
  const b = await Encoder.create({ ...small, hiddenDropout: 0, attentionDropout: 0 }, { device: 'cpu', seed: 6 });
  await a.forward(batchOf(1, 3));
  const m1 = a.memory().activations;
  const big = batchOf(6, 8);
  const za = await a.forward(big);
  const m2 = a.memory().activations;
  assert.ok(m2 > m1, 'the activation arena grew');
  const zb = await b.forward(big);
  assert.equal(Array.from(za), Array.from(zb));
  const d = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i));
  await a.backward(d);
  await b.backward(d);
  const ga = a.gradients(), gb = b.gradients();
  for (const [n, t] of ga) assert.equal(Array.from(t), Array.from(gb.get(n)), n);
  // backward after an evaluation forward adds the training arena (the inference one has no saved
  // activations); a smaller batch afterwards reuses both
  assert.is(a.memory().gradients, a.memory().parameters, 'backward allocated the gradients');
  const m3 = a.memory().activations;
  assert.ok(m3 > m2, 'backward allocated the saved activations');
  await a.forward(batchOf(2, 4));
  await a.backward(d.subarray(0, 10));
  assert.is(a.memory().activations, m3);
});

test('an inference batch split between threads (a small encoder) keeps each row\'s bits; backward after it equals a training forward\'s', async () => {
  // the tiny preset's shape: its layers' weights fit a core's L2, so an evaluation forward on 2+ threads runs
  // one group of rows per thread (encoder.cpp forward_grouped); 8 × 100 tokens is well above the one-thread size
  const config = { architecture: 'bert', vocabSize: 300, hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 256, maxPositions: 128, numLabels: 5, hiddenDropout: 0, attentionDropout: 0, classifierDropout: 0 };
  const threads = getThreads();
  setThreads(2);
  try {
    const a = await Encoder.create(config, { device: 'cpu', seed: 8 });
    const b = await Encoder.create(config, { device: 'cpu', seed: 8 });
    const batch = batchOf(8, 100, 300);
    const before = a.memory().activations;
    const z = await a.forward(batch);
    assert.ok(a.memory().activations > before, 'the group arenas are counted');
    for (let r = 0; r < 8; r++) {
      const row = { inputIds: batch.inputIds.slice(r * 100, r * 100 + 100), attentionMask: batch.attentionMask.slice(r * 100, r * 100 + 100), batchSize: 1, seqLen: 100 };
      assert.equal(Array.from(await b.forward(row)), Array.from(z.subarray(r * 5, r * 5 + 5)), `row ${r}`);
    }
    const d = Float32Array.from({ length: 40 }, (_, i) => Math.cos(i));
    await a.backward(d); // reruns the forward, saving, from the grouped forward's inputs
    await b.forward(batch, { train: true }); // every dropout 0: the same operations
    await b.backward(d);
    const ga = a.gradients(), gb = b.gradients();
    for (const [n, t] of ga) assert.equal(Array.from(t), Array.from(gb.get(n)), n);
  } finally {
    setThreads(threads);
  }
});

test('trainStep with the focal variant and classWeight runs and lowers its loss', async () => {
  const enc = await Encoder.create({ ...small, hiddenDropout: 0, attentionDropout: 0, classifierDropout: 0 }, { device: 'cpu', seed: 3 });
  const b = batchOf(4, 6);
  const targets = Uint8Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const opts = { focal: { gamma: 2 }, classWeight: new Float32Array([1, 2, 1, 1, 0.5]) };
  const first = await enc.trainStep(b, targets, opts, { lr: 1e-2 });
  let last = first;
  for (let i = 0; i < 15; i++) last = await enc.trainStep(b, targets, opts, { lr: 1e-2 });
  assert.ok(last.loss < first.loss * 0.8, `${first.loss} -> ${last.loss}`);
});

test('bad input is rejected before any kernel runs', async () => {
  const enc = await Encoder.create(small, { device: 'cpu', seed: 1 });
  const b = batchOf(2, 4);
  const before = enc.parameters().get('classifier.weight');
  const bad = [
    [{ ...b, inputIds: Int32Array.from(b.inputIds, (x, i) => (i === 5 ? 30 : x)) }, RangeError, /inputIds\[5\] is 30/],
    [{ ...b, inputIds: Int32Array.from(b.inputIds, (x, i) => (i === 1 ? -1 : x)) }, RangeError, /inputIds\[1\]/],
    [{ ...batchOf(1, 9) }, RangeError, /maxPositions/],
    [{ ...b, batchSize: 3 }, RangeError, /inputIds/],
    [{ ...b, attentionMask: new Uint8Array(7) }, RangeError, /attentionMask/],
    [{ ...b, inputIds: Array.from(b.inputIds) }, TypeError, /Int32Array/],
    [{ ...b, tokenTypeIds: new Int32Array(8).fill(2) }, RangeError, /tokenTypeIds/],
    [{ ...b, seqLen: 4.5 }, RangeError, /seqLen/],
    [{ ...b, inputIDs: b.inputIds }, TypeError, /did you mean "inputIds"/],
  ];
  for (const [batch, Ctor, re] of bad) await assertRejectsCode(() => enc.forward(batch), 'ERR_INVALID_ARG', Ctor, re);
  await assertRejectsCode(() => enc.backward(new Float32Array(10)), 'ERR_INVALID_ARG', RangeError, /forward/);
  await enc.forward(b);
  await assertRejectsCode(() => enc.backward(new Float32Array(9)), 'ERR_INVALID_ARG', RangeError, /dlogits/);
  await assertRejectsCode(() => enc.backward(new Float64Array(10)), 'ERR_INVALID_ARG', TypeError, /dlogits/);
  await assertRejectsCode(() => Encoder.create({ ...small, numHeads: 3 }), 'ERR_INVALID_ARG', RangeError, /numHeads/);
  await assertRejectsCode(() => Encoder.create({ ...small, hidenSize: 3 }), 'ERR_INVALID_ARG', TypeError, /hiddenSize/);
  await assertRejectsCode(() => Encoder.create({ ...small, architecture: 'gpt2' }), 'ERR_INVALID_ARG', TypeError, /architecture/);
  await assertRejectsCode(() => Encoder.fromPretrained(join(tmp, 'nope')), 'ERR_INVALID_FILE', Error, /config\.json/);
  assert.equal(Array.from(enc.parameters().get('classifier.weight')), Array.from(before));
  // the raw binding checks again
  const { loadBinding } = await import('../../dist/binding.js');
  const N = loadBinding().NativeEncoder;
  const raw = new N(normalizeEncoderConfig(small), 'cpu', 0);  // the complete config (test/encoder/contract.test.js)
  assert.throws(() => raw.forward(new Int32Array([99]), new Uint8Array(1), null, 1, 1, false), (e) => e.code === 'ERR_INVALID_ARG' && /inputIds/.test(e.message));
  assert.throws(() => raw.forward(new Float32Array(1), new Uint8Array(1), null, 1, 1, false), (e) => e instanceof TypeError);
  raw.dispose();
});

test('a pending call survives garbage collection of the encoder and of its input arrays', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  let enc = await Encoder.create(small, { device: 'cpu', seed: 1 });
  const expected = await enc.forward(batchOf(8, 8));
  let pending = enc.forward(batchOf(8, 8));  // the batch object and arrays are referenced only by the call
  enc = null;
  gc();
  const z = await pending;
  pending = null;
  gc();
  assert.equal(Array.from(z), Array.from(expected));
});

test('concurrent calls queue in order (no ERR_BUSY); synchronous calls while they wait are ERR_BUSY; ERR_DISPOSED after dispose', async () => {
  const enc = await Encoder.create({ ...small, numLayers: 2 }, { device: 'cpu' });
  const b = batchOf(8, 8);
  const alone = await enc.forward(b);
  const pending = enc.forward(b);
  const second = enc.forward(b);
  const stepped = enc.step({ lr: 1 });  // no gradients yet: AdamW moves nothing, but it runs after both forwards
  assert.throws(() => enc.zeroGrad(), (e) => e.code === 'ERR_BUSY' && /queued or running/.test(e.message));
  assert.throws(() => enc.parameters(), (e) => e.code === 'ERR_BUSY');
  const [z, z2] = await Promise.all([pending, second]);
  await stepped;
  assert.is(z.length, 8 * 5);
  assert.equal(Array.from(z), Array.from(alone));
  assert.equal(Array.from(z2), Array.from(alone));
  await enc.forward(b);  // usable again
  enc.dispose();
  assert.ok(enc.disposed);
  enc.dispose();  // idempotent
  await assertRejectsCode(() => enc.forward(b), 'ERR_DISPOSED', Error, /disposed/);
  assert.throws(() => enc.parameters(), (e) => e.code === 'ERR_DISPOSED');
  assert.throws(() => enc.memory(), (e) => e.code === 'ERR_DISPOSED');
  await assertRejectsCode(() => enc.save(join(tmp, 'x')), 'ERR_DISPOSED', Error);
});

cudaTest(test, 'CUDA twin matches the CPU twin with dropout on (same Philox masks): logits, gradients, steps', async () => {
  const cfg = { ...small, hiddenDropout: 0.2, attentionDropout: 0.2, classifierDropout: 0.2 };
  const b = batchOf(4, 8);
  const targets = Float32Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const out = {};
  for (const device of ['cpu', 'cuda']) {
    const enc = await Encoder.create(cfg, { device, seed: 11 });
    const z = await enc.forward(b, { train: true });
    await enc.backward(new Float32Array(z.length).fill(0.1));
    const g = enc.gradients();
    const losses = [];
    for (let i = 0; i < 3; i++) losses.push((await enc.trainStep(b, targets, undefined, { lr: 1e-3, weightDecay: 0.01, maxGradNorm: 1 })).loss);
    out[device] = { z, g, losses, p: enc.parameters() };
    enc.dispose();
  }
  assertClose(out.cuda.z, out.cpu.z, { atol: 1e-5, rtol: 1e-4, label: 'logits' });
  for (const [n, t] of out.cpu.g) assertClose(out.cuda.g.get(n), t, { atol: 1e-5, rtol: 1e-3, label: n });
  assertClose(Float64Array.from(out.cuda.losses), Float64Array.from(out.cpu.losses), { atol: 1e-5, rtol: 1e-4, label: 'losses' });
  for (const [n, t] of out.cpu.p) assertClose(out.cuda.p.get(n), t, { atol: 1e-5, rtol: 1e-4, label: n });
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test('weight decay: every parameter by default (torch AdamW); decayBiasAndNorm: false exempts biases and LayerNorm', async () => {
  // With zero gradients AdamW's update term is 0, so one step only applies the decay p · (1 - lr·wd).
  for (const decayBiasAndNorm of [undefined, false]) {
    const enc = await Encoder.create({ ...small, hiddenDropout: 0, attentionDropout: 0 }, { device: 'cpu', seed: 4 });
    const before = enc.parameters();
    enc.zeroGrad();
    await enc.step({ lr: 0.1, weightDecay: 0.5, ...(decayBiasAndNorm === undefined ? {} : { decayBiasAndNorm }) });
    const after = enc.parameters();
    let checked1d = 0;
    for (const [name, p] of before) {
      const oneD = /\.bias$|LayerNorm\.weight$/.test(name);
      const factor = oneD && decayBiasAndNorm === false ? 1 : 1 - 0.1 * 0.5;
      const q = after.get(name);
      for (let i = 0; i < p.length; i += Math.max(1, p.length >> 4)) {
        assert.ok(Math.abs(q[i] - p[i] * factor) <= 1e-6 * Math.abs(p[i]) + 1e-12, `${name}[${i}]: ${q[i]} vs ${p[i]} × ${factor}`);
      }
      if (oneD) checked1d++;
    }
    assert.ok(checked1d > 10, 'biases and LayerNorm weights were among the checked parameters');
    enc.dispose();
  }
  const enc = await Encoder.create(small, { device: 'cpu', seed: 4 });
  await assertRejectsCode(() => enc.step({ lr: 1, decayBiasAndNorm: 'no' }), 'ERR_INVALID_ARG', TypeError, /decayBiasAndNorm/);
  enc.dispose();
});

test.run();
