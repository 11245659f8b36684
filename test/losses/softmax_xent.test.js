// The vocabulary softmax cross-entropy (native/ops/softmax_xent.h, CPU twin) against float64 PyTorch
// F.cross_entropy(ignore_index=-100) references (test/fixtures/gen_softmax_xent.py), finite differences,
// in-place use, extreme logits and bad targets. The CUDA twin is checked against this one in the CUDA
// simulator suite (test/cuda_sim).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadBinding } from '../../dist/binding.js';
import { assertClose, assertThrowsCode } from '../helpers/assert.js';
import { hash32, unit } from './inputs.js';

const native = loadBinding();
const fixture = JSON.parse(readFileSync(new URL('../fixtures/softmax_xent.json', import.meta.url), 'utf8'));
const IGNORE = fixture.ignoreIndex;

// The generator's logits (float32 of the same hash).
function logitsOf(c) {
  const x = new Float32Array(c.N * c.V);
  for (let i = 0; i < x.length; i++) {
    x[i] = (unit(i, 11) * 2 - 1) * c.scale;
    if (c.extreme && hash32(i, 12) % 3 === 0) x[i] = hash32(i, 13) & 1 ? 1e4 : -1e4;
  }
  return x;
}

function run(x, targets, reduction, N, V, inPlace = false) {
  const logits = inPlace ? x : x.slice();
  const dlogits = inPlace ? x : new Float32Array(N * V).fill(Number.NaN); // every element must be written
  const losses = new Float32Array(N).fill(Number.NaN);
  const r = native.softmaxCrossEntropy(dlogits, losses, logits, Int32Array.from(targets), IGNORE, reduction, N, V);
  return { ...r, dlogits, losses };
}

for (const c of fixture.cases)
  test(`matches PyTorch F.cross_entropy: ${c.name} (N ${c.N}, V ${c.V})`, () => {
    const x = logitsOf(c);
    const mean = run(x, c.targets, 'mean', c.N, c.V);
    assert.is(mean.count, c.count);
    if (c.mean === null) {
      assert.is(mean.loss, 0, 'mean over zero targets is 0 (PyTorch: NaN)');
    } else assertClose(mean.loss, c.mean, { atol: 1e-6, rtol: 1e-5, label: 'mean loss' });
    assertClose(mean.losses, Float32Array.from(c.rows), { atol: 2e-6, rtol: 1e-5, label: 'per-row losses' });
    const sum = run(x, c.targets, 'sum', c.N, c.V);
    assertClose(sum.loss, c.sum, { atol: 1e-5, rtol: 1e-5, label: 'sum loss' });
    const none = run(x, c.targets, 'none', c.N, c.V);
    assertClose(none.loss, c.sum, { atol: 1e-5, rtol: 1e-5, label: "'none' returns the sum" });
    assertClose(none.dlogits, sum.dlogits, { atol: 0, rtol: 0, label: "'none' gradient = 'sum' gradient" });
    for (const v of mean.dlogits) assert.ok(Number.isFinite(v), 'finite gradient');
    if (c.gradIndex) {
      const got = Float32Array.from(c.gradIndex, (i) => mean.dlogits[i]);
      assertClose(got, Float32Array.from(c.grad), { atol: 1e-8, rtol: 1e-4, label: 'sampled gradient' });
      const rowAbs = Array.from({ length: c.N }, (_, n) => mean.dlogits.subarray(n * c.V, (n + 1) * c.V).reduce((s, v) => s + Math.abs(v), 0));
      assertClose(Float64Array.from(rowAbs), Float64Array.from(c.gradAbsRowSum), { atol: 1e-6, rtol: 1e-4, label: 'Σ|grad| per row' });
    } else {
      assertClose(mean.dlogits, Float32Array.from(c.grad), { atol: 1e-7, rtol: 1e-5, label: 'gradient' });
    }
    // ignored rows: zero gradient, zero loss
    c.targets.forEach((t, n) => {
      if (t !== IGNORE) return;
      assert.is(mean.losses[n], 0);
      assert.ok(mean.dlogits.subarray(n * c.V, (n + 1) * c.V).every((v) => v === 0), `row ${n} gradient is zero`);
    });
  });

test('dlogits may be the logits buffer itself (in place)', () => {
  for (const c of fixture.cases.filter((k) => k.V > 1)) {
    const x = logitsOf(c);
    const apart = run(x, c.targets, 'mean', c.N, c.V);
    const inPlace = run(x.slice(), c.targets, 'mean', c.N, c.V, true);
    assert.is(inPlace.loss, apart.loss, c.name);
    assertClose(inPlace.dlogits, apart.dlogits, { atol: 0, rtol: 0, label: `${c.name} in place` });
  }
});

test('gradient check: central differences of the op\'s own sum loss', () => {
  const N = 3, V = 11, targets = [4, IGNORE, 10];
  const x = Float32Array.from({ length: N * V }, (_, i) => (unit(i, 21) * 2 - 1) * 3);
  const { dlogits } = run(x, targets, 'sum', N, V);
  const h = 1e-2;
  for (let i = 0; i < N * V; i++) {
    const p = x.slice(), m = x.slice();
    p[i] += h;
    m[i] -= h;
    const fd = (run(p, targets, 'sum', N, V).loss - run(m, targets, 'sum', N, V).loss) / (2 * h);
    assertClose(dlogits[i], fd, { atol: 5e-4, rtol: 1e-3, label: `d/dx[${i}]` });
  }
});

test('extreme logits (±1e4, a row of equal maxima) stay finite', () => {
  const N = 3, V = 40;
  const x = new Float32Array(N * V).fill(-1e4);
  x[0 * V + 3] = 1e4; // target far below the max
  x[1 * V + 7] = 1e4;
  x[1 * V + 8] = 1e4; // two equal maxima
  const r = run(x, [5, 7, 0], 'mean', N, V);
  assert.ok(Number.isFinite(r.loss));
  assertClose(r.losses[0], 2e4, { atol: 0, rtol: 1e-6, label: 'loss of a target 2e4 below the max' });
  assertClose(r.losses[1], Math.log(2), { atol: 1e-6, rtol: 1e-6, label: 'two equal maxima' });
  assertClose(r.losses[2], Math.log(V), { atol: 1e-5, rtol: 1e-6, label: 'uniform row' });
  for (const v of r.dlogits) assert.ok(Number.isFinite(v));
  assertClose(r.dlogits[1 * V + 7], (0.5 - 1) / 3, { atol: 1e-7, rtol: 1e-6, label: 'grad at a shared max' });
});

test('bad targets and reductions are rejected before anything is written', () => {
  const x = new Float32Array(2 * 5), d = new Float32Array(10).fill(7), l = new Float32Array(2);
  assertThrowsCode(() => native.softmaxCrossEntropy(d, l, x, Int32Array.of(1, 5), IGNORE, 'mean', 2, 5), 'ERR_INVALID_ARG', RangeError, /targets\[1\] in \[0, 5\) or ignoreIndex \(-100\) but received 5/);
  assertThrowsCode(() => native.softmaxCrossEntropy(d, l, x, Int32Array.of(-1, 0), IGNORE, 'mean', 2, 5), 'ERR_INVALID_ARG', RangeError, /targets\[0\]/);
  assert.ok(d.every((v) => v === 7), 'nothing written');
  assertThrowsCode(() => native.softmaxCrossEntropy(d, l, x, Int32Array.of(1, 2), IGNORE, 'avg', 2, 5), 'ERR_INVALID_ARG', TypeError, /reduction/);
  assertThrowsCode(() => native.softmaxCrossEntropy(d, l, x, Int32Array.of(1, 2), IGNORE, 'mean', 2, 6), 'ERR_INVALID_ARG', RangeError, /dlogits/);
  // a custom ignore index
  const r = native.softmaxCrossEntropy(d, l, x, Int32Array.of(-1, 2), -1, 'mean', 2, 5);
  assert.is(r.count, 1);
  assertClose(r.loss, Math.log(5), { atol: 1e-6, rtol: 1e-6, label: 'uniform logits' });
});

test.run();
