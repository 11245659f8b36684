// Every bad input of LOSS_SPEC.md §6 gets a TypeError/RangeError with code ERR_INVALID_ARG naming the
// argument, and nothing is written to gradOut (or to the logits with inPlace) then. The raw binding
// re-checks types and lengths itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bceWithLogits, bceWithLogitsAsync, classBalancedWeights, posWeightFromCounts } from '../../dist/index.js';
import { loadBinding } from '../../dist/binding.js';
import { inertLossArgs } from '../../dist/loss_contract.js';
import { assertRejectsCode, assertThrowsCode } from '../helpers/assert.js';

const X = new Float32Array([0.5, -1, 2, -0.3, 0.8, -2.5]);
const Y = new Float32Array([1, 0, 1, 0, 1, 1]);
const shape = [2, 3];
const E = 'ERR_INVALID_ARG';

// [label, logits, targets, options, Ctor, message regexp]
const bad = [
  ['Float64Array logits', new Float64Array(6), Y, { shape }, TypeError, /logits.*Float64Array/],
  ['number[] logits', [0, 1, 2, 3, 4, 5], Y, { shape }, TypeError, /logits/],
  ['Float64Array targets', X, new Float64Array(6), { shape }, TypeError, /targets.*Float64Array/],
  ['Int32Array targets', X, new Int32Array(6), { shape }, TypeError, /targets/],
  ['wrong logits length', new Float32Array(5), Y, { shape }, RangeError, /logits.*6 elements/],
  ['wrong targets length', X, new Float32Array(7), { shape }, RangeError, /targets/],
  ['missing shape', X, Y, {}, TypeError, /shape/],
  ['shape not a pair', X, Y, { shape: [6] }, TypeError, /shape/],
  ['N not an integer', X, Y, { shape: [2.5, 3] }, RangeError, /N/],
  ['N negative', X, Y, { shape: [-2, -3] }, RangeError, /N/],
  ['K zero', X, Y, { shape: [6, 0] }, RangeError, /K/],
  ['N·K mismatch', X, Y, { shape: [3, 3] }, RangeError, /logits/],
  ['posWeight NaN', X, Y, { shape, posWeight: [1, NaN, 1] }, RangeError, /posWeight/],
  ['posWeight Infinity', X, Y, { shape, posWeight: [1, Infinity, 1] }, RangeError, /posWeight/],
  ['posWeight negative', X, Y, { shape, posWeight: [1, -1, 1] }, RangeError, /posWeight/],
  ['posWeight wrong length', X, Y, { shape, posWeight: [1, 1] }, RangeError, /posWeight of length 3/],
  ['posWeight Float64Array', X, Y, { shape, posWeight: new Float64Array(3) }, TypeError, /posWeight/],
  ['classWeight negative', X, Y, { shape, classWeight: [1, -0.5, 1] }, RangeError, /classWeight/],
  ['sampleWeight wrong length', X, Y, { shape, sampleWeight: [1, 1, 1] }, RangeError, /sampleWeight of length 2/],
  ['elementWeight NaN', X, Y, { shape, elementWeight: [1, 1, 1, 1, 1, NaN] }, RangeError, /elementWeight/],
  ['mask not Uint8Array', X, Y, { shape, mask: [1, 1, 1, 1, 1, 1] }, TypeError, /mask/],
  ['mask wrong length', X, Y, { shape, mask: new Uint8Array(5) }, RangeError, /mask/],
  ['focal α > 1', X, Y, { shape, focal: { gamma: 2, alpha: 1.5 } }, RangeError, /focal\.alpha/],
  ['focal α < 0', X, Y, { shape, focal: { gamma: 2, alpha: -0.1 } }, RangeError, /focal\.alpha/],
  ['focal γ negative', X, Y, { shape, focal: { gamma: -1 } }, RangeError, /focal\.gamma/],
  ['focal γ NaN', X, Y, { shape, focal: { gamma: NaN } }, RangeError, /focal\.gamma/],
  ['focal γ missing', X, Y, { shape, focal: {} }, TypeError, /focal\.gamma/],
  ['asymmetric γ- negative', X, Y, { shape, asymmetric: { gammaNeg: -2 } }, RangeError, /gammaNeg/],
  ['asymmetric clip 1', X, Y, { shape, asymmetric: { clip: 1 } }, RangeError, /clip/],
  ['DB λ zero', X, Y, { shape, distributionBalanced: { classCounts: [1, 2, 3], trainSize: 10, negScale: 0 } }, RangeError, /negScale/],
  ['DB λ NaN', X, Y, { shape, distributionBalanced: { classCounts: [1, 2, 3], trainSize: 10, negScale: NaN } }, RangeError, /negScale/],
  ['DB κ Infinity', X, Y, { shape, distributionBalanced: { classCounts: [1, 2, 3], trainSize: 10, initBias: Infinity } }, RangeError, /initBias/],
  ['DB counts wrong length', X, Y, { shape, distributionBalanced: { classCounts: [1, 2], trainSize: 10 } }, RangeError, /classCounts/],
  ['DB counts negative', X, Y, { shape, distributionBalanced: { classCounts: [1, -2, 3], trainSize: 10 } }, RangeError, /classCounts/],
  ['DB trainSize missing', X, Y, { shape, distributionBalanced: { classCounts: [1, 2, 3] } }, TypeError, /trainSize/],
  ['DB focal α > 1', X, Y, { shape, distributionBalanced: { classCounts: [1, 2, 3], trainSize: 10, focal: { alpha: 2 } } }, RangeError, /focal\.alpha/],
  ['ε = 1', X, Y, { shape, labelSmoothing: 1 }, RangeError, /labelSmoothing/],
  ['ε negative', X, Y, { shape, labelSmoothing: -0.1 }, RangeError, /labelSmoothing/],
  ['ε NaN', X, Y, { shape, labelSmoothing: NaN }, RangeError, /labelSmoothing/],
  ['two variants', X, Y, { shape, focal: { gamma: 2 }, asymmetric: {} }, TypeError, /at most one/],
  ['unknown option', X, Y, { shape, pos_weight: [1, 1, 1] }, TypeError, /did you mean "posWeight"/],
  ['bad reduction', X, Y, { shape, reduction: 'avg' }, TypeError, /reduction/],
  ['gradOut wrong length', X, Y, { shape, gradOut: new Float32Array(5) }, RangeError, /gradOut/],
  ['gradOut with grad false', X, Y, { shape, grad: false, gradOut: new Float32Array(6) }, TypeError, /gradOut/],
  // targets out of range: detected by the kernel's fused check (the class-index mistake)
  ['target 2 (float)', X, new Float32Array([1, 0, 2, 0, 1, 1]), { shape }, RangeError, /targets in \[0, 1\].*2 at row 0, column 2/],
  ['target -0.5 (float)', X, new Float32Array([1, 0, 1, -0.5, 1, 1]), { shape }, RangeError, /-0\.5 at row 1, column 0/],
  ['target NaN (float)', X, new Float32Array([1, 0, 1, 0, NaN, 1]), { shape }, RangeError, /NaN/],
  ['target 3 (int8)', X, new Int8Array([1, 0, 1, 0, 3, 1]), { shape }, RangeError, /3 at row 1, column 1/],
  ['target -1 (int8, ignoreValue null)', X, new Int8Array([1, 0, -1, 0, 1, 1]), { shape, ignoreValue: null }, RangeError, /-1 at row 0/],
  ['target 5 (uint8)', X, new Uint8Array([1, 0, 1, 0, 1, 5]), { shape }, RangeError, /5 at row 1, column 2/],
  ['target -1 (float without ignoreValue)', X, new Float32Array([1, 0, -1, 0, 1, 1]), { shape }, RangeError, /-1/],
];

for (const [label, logits, targets, options, Ctor, re] of bad) {
  test(`error: ${label}; gradOut untouched`, () => {
    assertThrowsCode(() => bceWithLogits(logits, targets, options), E, Ctor, re);
    if (options.gradOut === undefined && options.grad !== false && logits instanceof Float32Array && logits.length === 6) {
      const out = new Float32Array(6).fill(7);
      assertThrowsCode(() => bceWithLogits(logits, targets, { ...options, gradOut: out }), E, Ctor, re);
      assert.equal(Array.from(out), [7, 7, 7, 7, 7, 7], 'gradOut untouched');
      const xi = logits.slice();
      assertThrowsCode(() => bceWithLogits(xi, targets, { ...options, inPlace: true }), E, Ctor, re);
      assert.equal(Array.from(xi), Array.from(logits), 'inPlace logits untouched');
    }
  });
}

test('bad target in a large batch: gradOut untouched (validated before any write)', () => {
  const N = 3000;
  const K = 40;
  const x = new Float32Array(N * K).fill(0.25);
  const y = new Int8Array(N * K);
  y[N * K - 3] = 4;
  const out = new Float32Array(N * K).fill(7);
  assertThrowsCode(() => bceWithLogits(x, y, { shape: [N, K], gradOut: out }), E, RangeError, /4 at row 2999, column 37/);
  assert.ok(out.every((v) => v === 7));
});

// Rows longer than a tile run through one whole-row loop (AVX-512 builds); the kernel's own range check
// must still name the first bad used target, skipping masked and ignored ones before it.
test('bad target deep in a long row: reported at its row and column (fused check, every target kind)', () => {
  const N = 4;
  const K = 1000;
  const x = new Float32Array(N * K).fill(-0.5);
  const yf = new Float32Array(N * K);
  yf[2 * K + 700] = 1.5;
  assertThrowsCode(() => bceWithLogits(x, yf, { shape: [N, K] }), E, RangeError, /1\.5 at row 2, column 700/);
  assertThrowsCode(() => bceWithLogits(x, yf, { shape: [N, K], reduction: 'none' }), E, RangeError, /row 2, column 700/);
  const y8 = new Int8Array(N * K);
  y8[2 * K + 650] = 3; // masked out below
  y8[2 * K + 700] = 2;
  const mask = new Uint8Array(N * K).fill(1);
  mask[2 * K + 650] = 0;
  for (const opts of [{ mask }, { mask, focal: { gamma: 2 } }, { mask, reduction: 'none' }])
    assertThrowsCode(() => bceWithLogits(x, y8, { shape: [N, K], ...opts }), E, RangeError, /2 at row 2, column 700/);
});

// Fresh gradients and 'none' losses are allocated without zero-filling: every element must be written,
// masked ones included (as 0). Compare with outputs written into buffers pre-filled with NaN.
test('fresh outputs are fully written (no uninitialised memory leaks through)', () => {
  const N = 64;
  const K = 999;
  const n = N * K;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 6);
  const y8 = Int8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? -1 : i % 3 === 0 ? 1 : 0));
  for (const opts of [{}, { focal: { gamma: 2, alpha: 0.25 } }, { distributionBalanced: { classCounts: new Float32Array(K).fill(30), trainSize: 1000 } }]) {
    for (let rep = 0; rep < 3; rep++) {
      const fresh = bceWithLogits(x, y8, { shape: [N, K], reduction: 'none', ...opts });
      const into = new Float32Array(n).fill(NaN);
      const ref = bceWithLogits(x, y8, { shape: [N, K], reduction: 'none', gradOut: into, ...opts });
      assert.ok(fresh.grad.every(Number.isFinite), 'gradient finite everywhere');
      assert.equal(Array.from(fresh.grad), Array.from(into));
      assert.equal(Array.from(fresh.loss), Array.from(ref.loss));
      assert.ok(fresh.grad.every((v, i) => y8[i] !== -1 || v === 0), 'ignored elements have a zero gradient');
      assert.ok(fresh.loss.every((v, i) => y8[i] !== -1 || v === 0), 'ignored elements have a zero loss');
    }
  }
});

test('a target outside [0,1] at a masked position is not an error', () => {
  const r = bceWithLogits(X, new Float32Array([1, 0, 5, 0, 1, 1]), { shape, mask: new Uint8Array([1, 1, 0, 1, 1, 1]) });
  assert.is(r.count, 5);
  const q = bceWithLogits(X, new Float32Array([1, 0, 9, 0, 1, 1]), { shape, ignoreValue: 9 });
  assert.is(q.count, 5);
  assert.is(q.loss, r.loss);
});

test('async variant rejects with the same errors', async () => {
  await assertRejectsCode(() => bceWithLogitsAsync(new Float64Array(6), Y, { shape }), E, TypeError, /logits/);
  const out = new Float32Array(6).fill(7);
  await assertRejectsCode(() => bceWithLogitsAsync(X, new Float32Array([1, 0, 2, 0, 1, 1]), { shape, gradOut: out }), E, RangeError, /targets in \[0, 1\]/);
  assert.equal(Array.from(out), [7, 7, 7, 7, 7, 7]);
});

test('the raw binding re-checks types and lengths', () => {
  const b = loadBinding();
  const opts = inertLossArgs();  // the complete struct lib/loss_contract.ts fills
  assertThrowsCode(() => b.bceWithLogits(new Float64Array(6), Y, 2, 3, opts, {}), E, TypeError, /Float32Array.*logits/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, 2, 4, opts, {}), E, RangeError, /logits/);
  assertThrowsCode(() => b.bceWithLogits(X, new Int32Array(6), 2, 3, opts, {}), E, TypeError, /targets/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, 2, 3, { ...opts, posWeight: new Float32Array(2) }, {}), E, RangeError, /posWeight/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, 2, 3, { ...opts, posWeight: new Float32Array([1, -1, 1]) }, {}), E, RangeError, /posWeight/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, 2, 3, { ...opts, variant: 'focal', gamma: -1 }, {}), E, RangeError, /gamma/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, 2, 3, { ...opts, variant: 'focal', gamma: 1, alpha: 3 }, {}), E, RangeError, /alpha/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, 2, 3, { ...opts, gamma: Infinity }, {}), E, RangeError, /gamma/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, 2, 3, { ...opts, labelSmoothing: 1 }, {}), E, RangeError, /labelSmoothing/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, 2, 3, opts, { gradOut: new Float32Array(3) }), E, RangeError, /gradOut/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, 2, 3, { ...opts, variant: 'distributionBalanced', classCounts: new Float32Array(3), trainSize: 1 }, {}), E, RangeError, /trainSize/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, -1, 3, opts, {}), E, RangeError, /N/);
});

test('class-weight helpers: bad inputs', () => {
  assertThrowsCode(() => posWeightFromCounts([1, -2], 10), E, RangeError, /positives/);
  assertThrowsCode(() => posWeightFromCounts([1, 2], 1), E, RangeError, /total/);
  assertThrowsCode(() => posWeightFromCounts([1, 2], 10, { method: 'log' }), E, TypeError, /method/);
  assertThrowsCode(() => posWeightFromCounts([1, 2], 10, { clamp: [2, 1] }), E, RangeError, /clamp/);
  assertThrowsCode(() => classBalancedWeights([1, 2], { beta: 1 }), E, RangeError, /beta/);
  assertThrowsCode(() => classBalancedWeights([1, 2], {}), E, TypeError, /beta/);
});

test.run();
