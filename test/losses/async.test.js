// The async variant (worker thread), thread-count independence, and the class-weight helpers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bceWithLogits, bceWithLogitsAsync, classBalancedWeights, getThreads, posWeightFromCounts, setThreads, Tensor } from '../../dist/index.js';
import { assertClose, assertThrowsCode } from '../helpers/assert.js';
import { inputs, maskOf, weights } from './inputs.js';

const N = 700;
const K = 131;
const { x, y } = inputs(N, K, true);
const variants = [
  {},
  { posWeight: weights(K, 6), mask: maskOf(N * K) },
  { focal: { gamma: 2, alpha: 0.25 } },
  { asymmetric: {} },
  { distributionBalanced: { classCounts: Float32Array.from({ length: K }, (_, k) => (k * 13) % 300), trainSize: 2000 } },
];

test('async equals sync for every variant and reduction', async () => {
  for (const v of variants)
    for (const reduction of ['mean', 'sum', 'none']) {
      const opts = { shape: [N, K], reduction, ...v };
      const a = bceWithLogits(x, y, opts);
      const b = await bceWithLogitsAsync(x, y, opts);
      assert.is(b.count, a.count);
      if (reduction === 'none') assert.ok(Buffer.from(b.loss.buffer).equals(Buffer.from(a.loss.buffer)));
      else assert.is(b.loss, a.loss);
      assert.ok(Buffer.from(b.grad.buffer).equals(Buffer.from(a.grad.buffer)), `${JSON.stringify(Object.keys(v))} ${reduction} grad`);
    }
});

test('async: many calls in flight, with gradOut, and a pinned tensor cannot be disposed meanwhile', async () => {
  const outs = Array.from({ length: 8 }, () => new Float32Array(N * K));
  const ref = bceWithLogits(x, y, { shape: [N, K] });
  const rs = await Promise.all(outs.map((o) => bceWithLogitsAsync(x, y, { shape: [N, K], gradOut: o })));
  rs.forEach((r, i) => {
    assert.ok(r.grad === outs[i]);
    assert.is(r.loss, ref.loss);
  });
  const lt = Tensor.from(x, [N, K], { device: 'cpu' });
  const p = bceWithLogitsAsync(lt, y);
  assertThrowsCode(() => lt.dispose(), 'ERR_BUSY');
  const r = await p;
  assert.instance(r.grad, Tensor);
  assert.is(r.loss, ref.loss);
  lt.dispose();
  r.grad.dispose();
});

test('1 vs 2 threads: identical loss (fp64 row sums added in row order) and gradient', () => {
  const before = getThreads();
  try {
    for (const v of variants) {
      setThreads(1);
      const a = bceWithLogits(x, y, { shape: [N, K], ...v });
      setThreads(2);
      const b = bceWithLogits(x, y, { shape: [N, K], ...v });
      assert.is(b.loss, a.loss, `${JSON.stringify(Object.keys(v))} loss`);
      assert.ok(Buffer.from(b.grad.buffer).equals(Buffer.from(a.grad.buffer)));
    }
  } finally {
    setThreads(before);
  }
});

test('posWeightFromCounts: methods, scale, clamp, zero counts', () => {
  const pos = [10, 50, 0, 100];
  assertClose(posWeightFromCounts(pos, 100), [9, 1, 99, 1 / 99], { rtol: 1e-6 });
  assertClose(posWeightFromCounts(pos, 100, { method: 'sqrt-neg-pos' }), [3, 1, Math.sqrt(99), Math.sqrt(1 / 99)], { rtol: 1e-6 });
  assertClose(posWeightFromCounts(pos, 100, { method: 'inverse' }), [10, 2, 100, 100 / 99], { rtol: 1e-6 });
  assertClose(posWeightFromCounts(pos, 100, { method: 'sqrt-inverse', scale: 2 }), [2 * Math.sqrt(10), 2 * Math.sqrt(2), 20, 2 * Math.sqrt(100 / 99)], { rtol: 1e-6 });
  assertClose(posWeightFromCounts(pos, 100, { clamp: [0.5, 20] }), [9, 1, 20, 0.5], { rtol: 1e-6 });
  assert.instance(posWeightFromCounts(new Float32Array(pos), 100), Float32Array);
});

test('classBalancedWeights: (1-β)/(1-β^n), normalised to sum K', () => {
  const pos = [1, 10, 100, 0];
  const beta = 0.99;
  const raw = pos.map((n) => (1 - beta) / (1 - beta ** Math.max(n, 1)));
  assertClose(classBalancedWeights(pos, { beta, normalize: false }), raw, { rtol: 1e-6 });
  const s = raw.reduce((a, b) => a + b, 0);
  const w = classBalancedWeights(pos, { beta });
  assertClose(w, raw.map((v) => (v * 4) / s), { rtol: 1e-6 });
  assertClose(w.reduce((a, b) => a + b, 0), 4, { rtol: 1e-6 });
  assertClose(classBalancedWeights([5, 7], { beta: 0 }), [1, 1]);
  // β close to 1 keeps precision: weights approach 1/n
  assertClose(classBalancedWeights([10, 1000], { beta: 0.999999, normalize: false }), [1 / 10, 1 / 1000], { rtol: 1e-3 });
});

test.run();
