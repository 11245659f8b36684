// tuneThresholds(): known best thresholds, agreement of the sweep with evaluate(), fallbacks, errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tuneThresholds, evaluate } from '../../dist/index.js';
import { assertClose, assertThrowsCode } from '../helpers/assert.js';
import { mulberry32 } from '../../dist/random.js';


test('separable single label: the global threshold lies in the gap and F1 is 1', () => {
  const y = Int8Array.from([1, 1, 1, 0, 0, 0]);
  const s = Float32Array.from([0.6, 0.7, 0.8, 0.1, 0.2, 0.3]);
  const r = tuneThresholds(y, s, { shape: [6, 1], objective: 'micro-f1', perClass: false });
  assert.ok(r.global > 0.3 && r.global <= 0.6, `global ${r.global}`);
  assertClose(r.value, 1, { label: 'value' });
  assert.is(r.curve.length, 999);
  assert.is(r.perClass, undefined);
  // the middle of the plateau (0.301 .. 0.600)
  assertClose(r.global, 0.45, { atol: 0.002, label: 'plateau middle' });
});

test('two labels separable at different thresholds: per-class finds both, global cannot', () => {
  const n = 40;
  const y = new Int8Array(n * 2);
  const s = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const p0 = i % 2;
    const p1 = (i >> 1) % 2;
    y[i * 2] = p0;
    s[i * 2] = p0 ? 0.25 + 0.001 * i : 0.05 + 0.001 * i; // gap (0.09, 0.25]
    y[i * 2 + 1] = p1;
    s[i * 2 + 1] = p1 ? 0.9 + 0.001 * i : 0.6 + 0.001 * i; // gap (0.64, 0.9]
  }
  for (const objective of ['macro-f1', 'micro-f1']) {
    const r = tuneThresholds(y, s, { shape: [n, 2], objective, perClass: true, minSupport: 1 });
    assert.ok(r.value < 1, `${objective}: global value ${r.value} < 1`);
    assert.ok(r.perClass[0] > 0.09 && r.perClass[0] <= 0.25, `${objective}: label 0 threshold ${r.perClass[0]}`);
    assert.ok(r.perClass[1] > 0.64 && r.perClass[1] <= 0.9, `${objective}: label 1 threshold ${r.perClass[1]}`);
    assertClose(r.perClassValue, 1, { label: `${objective} per-class value` });
    assert.is(r.tunedLabels, 2);
    // the thresholds give exactly that score in evaluate()
    const e = evaluate(y, s, { shape: [n, 2], threshold: r.perClass });
    assertClose(objective === 'micro-f1' ? e.micro.f1 : e.macro.f1, 1, { label: 'evaluate' });
  }
});

test('the curve equals evaluate() at every grid threshold (micro and macro F1), with masked targets', () => {
  const R = mulberry32(7);
  const n = 300;
  const k = 8;
  const y = new Int8Array(n * k);
  const s = new Float32Array(n * k);
  for (let i = 0; i < n * k; i++) {
    const pos = R() < 0.2 ? 1 : 0;
    y[i] = R() < 0.1 ? -1 : pos;
    s[i] = Math.round(Math.min(1, R() * 0.7 + 0.3 * pos) * 50) / 50; // ties on the grid points
  }
  const grid = Array.from({ length: 49 }, (_, t) => (t + 1) / 50);
  for (const objective of ['micro-f1', 'macro-f1']) {
    const r = tuneThresholds(y, s, { shape: [n, k], objective, grid });
    let best = -1;
    for (const { threshold, value } of r.curve) {
      const e = evaluate(y, s, { shape: [n, k], threshold });
      assertClose(value, objective === 'micro-f1' ? e.micro.f1 : e.macro.f1, { atol: 1e-12, label: `${objective} at ${threshold}` });
      best = Math.max(best, value);
    }
    assertClose(r.value, best, { atol: 1e-12, label: 'global is a best point' });
    const pc = tuneThresholds(y, s, { shape: [n, k], objective, grid, perClass: true, minSupport: 1 });
    assert.ok(pc.perClassValue >= pc.value - 1e-12, 'per-class is at least as good as global');
    const e = evaluate(y, s, { shape: [n, k], threshold: pc.perClass });
    assertClose(objective === 'micro-f1' ? e.micro.f1 : e.macro.f1, pc.perClassValue, { atol: 1e-12, label: 'per-class value' });
  }
});

test('labels with too little support fall back to the global threshold', () => {
  const n = 20;
  const y = new Int8Array(n * 2);
  const s = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    y[i * 2] = i % 2;
    s[i * 2] = i % 2 ? 0.7 : 0.2;
    y[i * 2 + 1] = i < 2 ? 1 : 0; // two positives only
    s[i * 2 + 1] = i < 2 ? 0.05 : 0.01;
  }
  const r = tuneThresholds(y, s, { shape: [n, 2], objective: 'macro-f1', perClass: true, minSupport: 3 });
  assert.is(r.perClass[1], Math.fround(r.global));
  assert.is(r.tunedLabels, 1);
  const r2 = tuneThresholds(y, s, { shape: [n, 2], objective: 'macro-f1', perClass: true, minSupport: 2 });
  assert.ok(r2.perClass[1] > 0.01 && r2.perClass[1] <= 0.05, `rare label tuned: ${r2.perClass[1]}`);
});

// Labels of n rows with `pos` positives each; a positive's score is drawn from U(lo_j, 1) and a negative's
// from U(0, hi_j): `spread` moves each label's (lo, hi) window, so 0 gives every label the same calibration.
function fewPositives(seed, n, k, pos, spread, overlap) {
  const r = mulberry32(seed);
  const y = new Int8Array(n * k);
  const s = new Float32Array(n * k);
  for (let j = 0; j < k; j++) {
    const shift = spread * ((j % 8) / 7 - 0.5);
    const lo = 0.5 - overlap / 2 + shift, hi = 0.5 + overlap / 2 + shift;
    for (let i = 0; i < n; i++) {
      const p = i % Math.floor(n / pos) === j % 7 && i < pos * Math.floor(n / pos);
      y[i * k + j] = p ? 1 : 0;
      s[i * k + j] = p ? lo + (1 - lo) * r() : hi * r();
    }
  }
  return { y, s };
}

test("minSupport 'auto': a handful of noisy positives keep the global threshold, clean ones get their own", () => {
  const n = 3000, k = 40;
  // every label calibrated alike, heavily overlapping classes, 12 positives each: own thresholds fit noise
  const noisy = fewPositives(11, n, k, 12, 0, 0.9);
  const a = tuneThresholds(noisy.y, noisy.s, { shape: [n, k], objective: 'micro-f1', perClass: true, minSupport: 'auto' });
  assert.ok(a.minSupport >= 20, `noisy: picked ${a.minSupport} (${JSON.stringify(a.minSupportScores)})`);
  assert.is(a.minSupportScores.length, 6);
  assert.is(a.tunedLabels, 0);
  // the result is the plain tuning at the value picked
  const same = tuneThresholds(noisy.y, noisy.s, { shape: [n, k], objective: 'micro-f1', perClass: true, minSupport: a.minSupport });
  assert.equal(Array.from(a.perClass), Array.from(same.perClass));
  // each label separable at its own place: the global threshold cannot serve them, so per-label ones stay
  const clean = fewPositives(12, n, k, 12, 0.8, -0.1);
  for (const objective of ['micro-f1', 'macro-f1']) {
    const b = tuneThresholds(clean.y, clean.s, { shape: [n, k], objective, perClass: true, minSupport: 'auto' });
    assert.ok(b.minSupport <= 10, `clean ${objective}: picked ${b.minSupport} (${JSON.stringify(b.minSupportScores)})`);
    assert.is(b.tunedLabels, k);
    const e = evaluate(clean.y, clean.s, { shape: [n, k], threshold: b.perClass });
    assert.ok(e.macro.f1 > 0.99, `clean ${objective}: macro-F1 ${e.macro.f1}`);
  }
  // without perClass there is nothing to choose; a number is used as given
  assert.is(tuneThresholds(clean.y, clean.s, { shape: [n, k], minSupport: 'auto' }).minSupport, undefined);
  assert.is(tuneThresholds(clean.y, clean.s, { shape: [n, k], perClass: true, minSupport: 3 }).minSupport, 3);
});

/** n rows × K labels: prevalence 10–24 %, scores sigmoid(N(0,1) ± shift), so each label's best threshold is noisy on a small sample. */
function noisyScores(n, K, r) {
  const y = new Int8Array(n * K), s = new Float32Array(n * K);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < K; j++) {
      const pos = r() < 0.1 + 0.02 * j;
      const g = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
      y[i * K + j] = pos ? 1 : 0;
      s[i * K + j] = 1 / (1 + Math.exp(-(g + (pos ? 1.5 : -1))));
    }
  return { y, s };
}

test('bags: thresholds averaged over bootstrap resamples land nearer the best thresholds on the population', () => {
  const K = 8, n = 1500;
  const big = noisyScores(200000, K, mulberry32(1));
  for (const objective of ['macro-f1', 'micro-f1']) {
    const best = tuneThresholds(big.y, big.s, { shape: [200000, K], perClass: true, objective, minSupport: 0 }).perClass;
    let plain = 0, bagged = 0;
    for (let trial = 0; trial < 4; trial++) {
      const v = noisyScores(n, K, mulberry32(100 + trial));
      const a = tuneThresholds(v.y, v.s, { shape: [n, K], perClass: true, objective, minSupport: 0 });
      const b = tuneThresholds(v.y, v.s, { shape: [n, K], perClass: true, objective, minSupport: 0, bags: 20 });
      assert.is(b.bags, 20);
      assert.is(b.baggedLabels, K); // every label has 150+ positives
      for (let j = 0; j < K; j++) {
        plain += Math.abs(a.perClass[j] - best[j]);
        bagged += Math.abs(b.perClass[j] - best[j]);
      }
      // perClassValue is the objective of the thresholds returned
      const m = evaluate(v.y, v.s, { shape: [n, K], threshold: b.perClass });
      assertClose(b.perClassValue, objective === 'micro-f1' ? m.micro.f1 : m.macro.f1, { atol: 1e-9, label: `${objective} perClassValue` });
    }
    assert.ok(bagged < 0.85 * plain, `${objective}: mean distance to the population's best thresholds ${(bagged / 4 / K).toFixed(4)} bagged against ${(plain / 4 / K).toFixed(4)}`);
  }
});

test('bags: only labels with 50+ positives (and minSupport) are averaged; the others keep their thresholds; deterministic', () => {
  const n = 600, K = 3;
  const r = mulberry32(4);
  const y = new Int8Array(n * K), s = new Float32Array(n * K);
  const want = [0.3, 0.05, 0.02]; // about 180, 30 and 12 positives
  for (let i = 0; i < n; i++)
    for (let j = 0; j < K; j++) {
      const pos = r() < want[j];
      y[i * K + j] = pos ? 1 : 0;
      s[i * K + j] = Math.min(1, Math.max(0, (pos ? 0.6 : 0.4) + 0.25 * (r() - 0.5) * 2));
    }
  const positives = [0, 1, 2].map((j) => y.filter((_, i) => i % K === j && _ === 1).length);
  assert.ok(positives[0] >= 50 && positives[1] < 50 && positives[2] < 50, `positives ${positives}`);
  for (const objective of ['micro-f1', 'macro-f1']) {
    const plain = tuneThresholds(y, s, { shape: [n, K], perClass: true, objective, minSupport: 5 });
    const bagged = tuneThresholds(y, s, { shape: [n, K], perClass: true, objective, minSupport: 5, bags: 15 });
    assert.is(bagged.baggedLabels, 1);
    assert.not.equal(bagged.perClass[0], plain.perClass[0]);
    assert.equal(Array.from(bagged.perClass.subarray(1)), Array.from(plain.perClass.subarray(1)));
    assert.equal(tuneThresholds(y, s, { shape: [n, K], perClass: true, objective, minSupport: 5, bags: 15 }).perClass, bagged.perClass);
    // bags 0 is no bagging; a minSupport above every label's positives leaves every label on the global threshold
    assert.equal(tuneThresholds(y, s, { shape: [n, K], perClass: true, objective, minSupport: 5, bags: 0 }).perClass, plain.perClass);
    assert.is(tuneThresholds(y, s, { shape: [n, K], perClass: true, objective, minSupport: 1000, bags: 15 }).baggedLabels, 0);
  }
  // without perClass there is nothing to average
  assert.is(tuneThresholds(y, s, { shape: [n, K], bags: 15 }).bags, undefined);
});

test('argument errors', () => {
  const y = new Int8Array(4);
  const s = new Float32Array(4);
  assertThrowsCode(() => tuneThresholds(y, s, { shape: [2, 2], objective: 'micro_f1' }), 'ERR_INVALID_ARG', TypeError, /did you mean "micro-f1"/);
  assertThrowsCode(() => tuneThresholds(y, s, { shape: [2, 2], grid: [0.5, 0.4] }), 'ERR_INVALID_ARG', RangeError, /ascending/);
  assertThrowsCode(() => tuneThresholds(y, s, { shape: [2, 2], perclass: true }), 'ERR_INVALID_ARG', TypeError, /did you mean "perClass"/);
  assertThrowsCode(() => tuneThresholds(y, s, { shape: [2, 3] }), 'ERR_INVALID_ARG', RangeError, /N\*K/);
  assertThrowsCode(() => tuneThresholds(y, s, { shape: [2, 2], minSupport: -1 }), 'ERR_INVALID_ARG', RangeError, /minSupport/);
  assertThrowsCode(() => tuneThresholds(y, s, { shape: [2, 2], minSupport: 'max' }), 'ERR_INVALID_ARG', TypeError, /an integer >= 0 or 'auto' for options\.minSupport but received string "max"/);
  for (const bags of [-1, 2.5, 1001]) assertThrowsCode(() => tuneThresholds(y, s, { shape: [2, 2], bags }), 'ERR_INVALID_ARG', RangeError, /options\.bags/);
  assertThrowsCode(() => tuneThresholds(y, s, { shape: [2, 2], bags: '20' }), 'ERR_INVALID_ARG', TypeError, /options\.bags/);
  assertThrowsCode(() => tuneThresholds(Int8Array.from([0, 0, 3, 0]), s, { shape: [2, 2] }), 'ERR_INVALID_ARG', RangeError, /element 2 \(row 1, label 0\) is 3/);
  assertThrowsCode(() => tuneThresholds(y, Float32Array.from([0, 0, 0, NaN]), { shape: [2, 2] }), 'ERR_INVALID_ARG', RangeError, /element 3 .* is NaN/);
  // a NaN under an unknown target is never read
  assert.ok(tuneThresholds(Int8Array.from([0, 0, 0, -1]), Float32Array.from([0, 0, 0, NaN]), { shape: [2, 2] }).curve.length > 0);
});

test.run();
