// LOSS_SPEC.md reference values and edge cases, PyTorch's BCEWithLogitsLoss tests (ported), torchvision's
// focal-loss tests, masking (seed article 003) and finite-difference gradient checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bceWithLogits, Tensor } from '../../dist/index.js';
import { assertClose, assertThrowsCode } from '../helpers/assert.js';
import { inputs, maskOf, weights } from './inputs.js';

const X = new Float32Array([0.5, -1, 2, -0.3, 0.8, -2.5]);
const Y = new Float32Array([1, 0, 1, 0, 1, 1]);
const P = [2, 3, 0.5];
const shape = [2, 3];
const tol = { atol: 1e-6, rtol: 1e-6 };
const f64 = (a) => Array.from(a);

test('spec §7: BCE per element and mean', () => {
  const r = bceWithLogits(X, Y, { shape, reduction: 'none' });
  assertClose(r.loss, [0.47407698418, 0.313261687518, 0.126928011043, 0.554355244469, 0.371100665948, 2.578889734293], { ...tol, label: 'none' });
  assert.is(r.count, 6);
  assertClose(bceWithLogits(X, Y, { shape }).loss, 0.736435387908, tol);
  // gradient of the element: σ(x) - y
  const sig = (x) => 1 / (1 + Math.exp(-x));
  assertClose(r.grad, f64(X).map((x, i) => sig(x) - Y[i]), tol);
});

test('spec §7: posWeight and focal means', () => {
  assertClose(bceWithLogits(X, Y, { shape, posWeight: P }).loss, 0.713663628476, tol);
  assertClose(bceWithLogits(X, Y, { shape, posWeight: new Float32Array(P) }).loss, 0.713663628476, tol);
  assertClose(bceWithLogits(X, Y, { shape, focal: { gamma: 2, alpha: 0.25 } }).loss, 0.111527908153, tol);
});

test('spec §7 stability: x=[0,-120], y=[0,1]; x=-30, y=0', () => {
  const r = bceWithLogits(new Float32Array([0, -120]), new Float32Array([0, 1]), { shape: [1, 2], reduction: 'none' });
  assertClose(r.loss, [0.6931471806, 120], { atol: 1e-7, rtol: 1e-7 });
  assertClose(r.grad, [0.5, -1], { atol: 0, rtol: 1e-7 });
  const s = bceWithLogits(new Float32Array([-30]), new Float32Array([0]), { shape: [1, 1], reduction: 'none' });
  assertClose(s.loss[0], 9.357622968839737e-14, { atol: 0, rtol: 1e-5 });
  // PyTorch's log-sigmoid form gives 0 at x=-17; the softplus form keeps it
  const t = bceWithLogits(new Float32Array([-17]), new Float32Array([0]), { shape: [1, 1], reduction: 'none' });
  assertClose(t.loss[0], Math.log1p(Math.exp(-17)), { atol: 0, rtol: 1e-5 });
});

test('exp/log1p accuracy over the whole range (softplus vs float64)', () => {
  const n = 4001;
  const x = Float32Array.from({ length: n }, (_, i) => -100 + (200 * i) / (n - 1));
  const r = bceWithLogits(x, new Float32Array(n), { shape: [1, n], reduction: 'none' });
  for (let i = 0; i < n; i++) {
    const xv = x[i];
    const want = Math.max(xv, 0) + Math.log1p(Math.exp(-Math.abs(xv)));
    const sig = xv >= 0 ? 1 / (1 + Math.exp(-xv)) : Math.exp(xv) / (1 + Math.exp(xv));
    assertClose(r.loss[i], want, { atol: 1e-30, rtol: 4e-7, label: `softplus(${xv})` });
    assertClose(r.grad[i], sig, { atol: 1e-37, rtol: 4e-7, label: `sigmoid(${xv})` });
  }
});

test('stability at ±1e4 and ±Inf (mathematical limits, finite gradients); NaN propagates', () => {
  const x = new Float32Array([1e4, -1e4, 1e4, -1e4, Infinity, -Infinity, Infinity, -Infinity, NaN]);
  const y = new Float32Array([0, 1, 1, 0, 1, 0, 0, 1, 1]);
  const r = bceWithLogits(x, y, { shape: [1, 9], reduction: 'none' });
  assert.equal(f64(r.loss.slice(0, 8)), [1e4, 1e4, 0, 0, 0, 0, Infinity, Infinity]);
  assert.equal(f64(r.grad.slice(0, 8)), [1, -1, 0, 0, 0, 0, 1, -1]);
  assert.ok(Number.isNaN(r.loss[8]) && Number.isNaN(r.grad[8]));
  for (const opts of [{ focal: { gamma: 2, alpha: 0.25 } }, { focal: { gamma: 0.5 } }, { asymmetric: {} }, { distributionBalanced: { classCounts: new Array(8).fill(10), trainSize: 100 } }]) {
    const q = bceWithLogits(x.slice(0, 8), y.slice(0, 8), { shape: [1, 8], reduction: 'none', ...opts });
    for (let i = 0; i < 8; i++) assert.ok(Number.isFinite(q.grad[i]), `${JSON.stringify(opts)} grad[${i}] = ${q.grad[i]}`);
    for (let i = 0; i < 6; i++) assert.ok(Number.isFinite(q.loss[i]) && !Number.isNaN(q.loss[i]), `${JSON.stringify(opts)} loss[${i}] = ${q.loss[i]}`);
  }
});

test('pos_weight 0 with y=1 gives loss 0 and gradient 0 (even at -Inf)', () => {
  const r = bceWithLogits(new Float32Array([0.3, -5, -Infinity]), new Float32Array([1, 1, 1]), { shape: [1, 3], posWeight: [0, 0, 0], reduction: 'none' });
  assert.equal(f64(r.loss), [0, 0, 0]);
  assert.equal(f64(r.grad).map(Math.abs), [0, 0, 0]);
});

// --- PyTorch test_nn.py BCEWithLogitsLoss cases ---
test('torch: size mismatch is an error', () => {
  assertThrowsCode(() => bceWithLogits(new Float32Array(6), new Float32Array(5), { shape }), 'ERR_INVALID_ARG', RangeError, /targets/);
});

test('torch: gradient is 0.5 at zero (with and without posWeight)', () => {
  const z = new Float32Array(3);
  const r = bceWithLogits(z, new Float32Array(3), { shape: [3, 1], reduction: 'sum' });
  assert.equal(f64(r.grad), [0.5, 0.5, 0.5]);
  const q = bceWithLogits(z, new Float32Array(3), { shape: [3, 1], reduction: 'sum', posWeight: [1] });
  assert.equal(f64(q.grad), [0.5, 0.5, 0.5]);
});

test('torch: posWeight of ones equals no posWeight; per-class/per-sample weights equal their expansion', () => {
  const N = 16;
  const K = 7;
  const { x, y } = inputs(N, K, false);
  const base = bceWithLogits(x, y, { shape: [N, K] });
  const ones = bceWithLogits(x, y, { shape: [N, K], posWeight: new Float32Array(K).fill(1) });
  assert.is(ones.loss, base.loss);
  assert.equal(f64(ones.grad), f64(base.grad));
  const cw = weights(K, 4);
  const sw = weights(N, 3);
  const ewC = new Float32Array(N * K);
  const ewS = new Float32Array(N * K);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      ewC[n * K + k] = cw[k];
      ewS[n * K + k] = sw[n];
    }
  const a = bceWithLogits(x, y, { shape: [N, K], classWeight: cw, reduction: 'none' });
  const b = bceWithLogits(x, y, { shape: [N, K], elementWeight: ewC, reduction: 'none' });
  assertClose(a.loss, b.loss, tol);
  assertClose(a.grad, b.grad, tol);
  const c = bceWithLogits(x, y, { shape: [N, K], sampleWeight: sw, reduction: 'none' });
  const d = bceWithLogits(x, y, { shape: [N, K], elementWeight: ewS, reduction: 'none' });
  assertClose(c.loss, d.loss, tol);
  assertClose(c.grad, d.grad, tol);
  // weights never enter the mean's denominator
  assertClose(bceWithLogits(x, y, { shape: [N, K], sampleWeight: sw }).loss, (c.loss.reduce((s, v) => s + v, 0)) / (N * K), { atol: 1e-7, rtol: 1e-5 });
});

// --- torchvision test_ops.py TestFocalLoss ---
test('torchvision: focal/BCE ratio equals (1-p_t)^γ·α_t', () => {
  const N = 10;
  const K = 9;
  const { x, y } = inputs(N, K, true);
  const ce = bceWithLogits(x, y, { shape: [N, K], reduction: 'none' });
  for (const [gamma, alpha] of [[2, 0.25], [1, 0.5], [0.5, 0.9], [3, undefined]]) {
    const focal = { gamma };
    if (alpha !== undefined) focal.alpha = alpha;
    const fl = bceWithLogits(x, y, { shape: [N, K], reduction: 'none', focal });
    for (let i = 0; i < N * K; i++) {
      const p = 1 / (1 + Math.exp(-x[i]));
      const pt = p * y[i] + (1 - p) * (1 - y[i]);
      const at = alpha === undefined ? 1 : alpha * y[i] + (1 - alpha) * (1 - y[i]);
      const want = (1 - pt) ** gamma * at;
      if (ce.loss[i] > 1e-6) assertClose(fl.loss[i] / ce.loss[i], want, { atol: 1e-6, rtol: 1e-4, label: `ratio[${i}] γ=${gamma}` });
    }
  }
});

test('torchvision: focal with γ=0 and no α equals BCE in loss and gradient (bitwise)', () => {
  const { x, y } = inputs(13, 11, false);
  const a = bceWithLogits(x, y, { shape: [13, 11], posWeight: weights(11, 6), reduction: 'none' });
  const b = bceWithLogits(x, y, { shape: [13, 11], posWeight: weights(11, 6), reduction: 'none', focal: { gamma: 0 } });
  assert.equal(f64(b.loss), f64(a.loss));
  assert.equal(f64(b.grad), f64(a.grad));
});

// --- masking ---
test('seed 003: masked mean over int8 targets with -1 = 5.5395', () => {
  const L = new Float32Array([-1.5, 2.5, -3.5, 4.5, -5.5, 6.5, 7.5, -8.5]);
  const T = new Int8Array([-1, 0, -1, -1, -1, -1, -1, 1]);
  const r = bceWithLogits(L, T, { shape: [2, 4] });
  assert.is(r.count, 2);
  assertClose(r.loss, 5.5395, { atol: 5e-5, rtol: 0 });
  assertClose(r.loss, (2.5 + Math.log1p(Math.exp(-2.5)) + 8.5 + Math.log1p(Math.exp(-8.5))) / 2, { atol: 1e-6, rtol: 1e-6 });
  // the same with an explicit mask over float targets
  const m = Uint8Array.from(T, (t) => (t === -1 ? 0 : 1));
  const q = bceWithLogits(L, Float32Array.from(T, (t) => (t === -1 ? 0 : t)), { shape: [2, 4], mask: m });
  assertClose(q.loss, r.loss, { atol: 1e-7, rtol: 1e-7 });
  assert.equal(f64(q.grad), f64(r.grad));
});

test('masked NaN/Inf logits and NaN targets do not leak', () => {
  const x = new Float32Array([NaN, Infinity, -Infinity, 0.5]);
  const y = new Float32Array([1, 0, 1, 1]);
  const mask = new Uint8Array([0, 0, 0, 1]);
  for (const extra of [{}, { focal: { gamma: 2, alpha: 0.25 } }, { asymmetric: {} }, { distributionBalanced: { classCounts: [5, 5, 5, 5], trainSize: 50 } }]) {
    const r = bceWithLogits(x, y, { shape: [1, 4], mask, reduction: 'none', ...extra });
    assert.equal(f64(r.loss.slice(0, 3)), [0, 0, 0]);
    assert.equal(f64(r.grad.slice(0, 3)), [0, 0, 0]);
    assert.ok(Number.isFinite(r.loss[3]) && r.loss[3] > 0);
    const m = bceWithLogits(x, y, { shape: [1, 4], mask, ...extra });
    assert.ok(Number.isFinite(m.loss), `mean is finite ${JSON.stringify(extra)}`);
    assert.is(m.count, 1);
  }
  // a NaN soft target at an ignored position (ignoreValue given) is not an error either
  const yi = new Float32Array([NaN, 0.5]);
  const mi = new Uint8Array([0, 1]);
  assert.ok(Number.isFinite(bceWithLogits(new Float32Array([1, 1]), yi, { shape: [1, 2], mask: mi }).loss));
});

test('all-masked batch: loss 0, zero gradient, count 0; empty input: loss 0', () => {
  const x = new Float32Array([NaN, 3, -2, Infinity]);
  for (const reduction of ['mean', 'sum']) {
    const r = bceWithLogits(x, new Int8Array([-1, -1, -1, -1]), { shape: [2, 2], reduction });
    assert.is(r.loss, 0);
    assert.is(r.count, 0);
    assert.equal(f64(r.grad).map(Math.abs), [0, 0, 0, 0]);
  }
  const e = bceWithLogits(new Float32Array(0), new Float32Array(0), { shape: [0, 5] });
  assert.is(e.loss, 0);
  assert.is(e.count, 0);
  assert.is(e.grad.length, 0);
});

test('masked mean equals BCE over the selected elements', () => {
  const N = 9;
  const K = 13;
  const { x, y } = inputs(N, K, true);
  const mask = maskOf(N * K);
  const r = bceWithLogits(x, y, { shape: [N, K], mask });
  const xs = x.filter((_, i) => mask[i]);
  const ys = y.filter((_, i) => mask[i]);
  const s = bceWithLogits(xs, ys, { shape: [1, xs.length] });
  assert.is(r.count, xs.length);
  assertClose(r.loss, s.loss, { atol: 1e-7, rtol: 1e-6 });
  let j = 0;
  for (let i = 0; i < N * K; i++) {
    if (mask[i]) assertClose(r.grad[i], s.grad[j++], { atol: 1e-9, rtol: 1e-6 });
    else assert.is(Math.abs(r.grad[i]), 0);
  }
});

test('label smoothing equals giving the smoothed targets', () => {
  const { x, y } = inputs(6, 5, true);
  const eps = 0.1;
  const a = bceWithLogits(x, y, { shape: [6, 5], labelSmoothing: eps, reduction: 'none' });
  const b = bceWithLogits(x, y.map((v) => v * (1 - eps) + eps / 2), { shape: [6, 5], reduction: 'none' });
  assertClose(a.loss, b.loss, tol);
  assertClose(a.grad, b.grad, tol);
});

// --- finite differences (the kernel is fp32: central differences with h = 1e-2 in float64 sums) ---
function fdCheck(opts, N, K, hard, label) {
  const { x, y } = inputs(N, K, hard);
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) > 20) x[i] = Math.sign(x[i]) * 3;
  const r = bceWithLogits(x, y, { shape: [N, K], reduction: 'sum', ...opts });
  const h = 1e-2;
  for (let i = 0; i < x.length; i++) {
    const xp = x.slice();
    const xm = x.slice();
    xp[i] += h;
    xm[i] -= h;
    const lp = bceWithLogits(xp, y, { shape: [N, K], reduction: 'none', grad: false, ...opts }).loss;
    const lm = bceWithLogits(xm, y, { shape: [N, K], reduction: 'none', grad: false, ...opts }).loss;
    const fd = (lp[i] - lm[i]) / (xp[i] - xm[i]);
    assertClose(r.grad[i], fd, { atol: 2e-4, rtol: 2e-3, label: `${label} d/dx[${i}]` });
  }
}

test('finite differences: BCE with weights, posWeight, mask, smoothing', () => {
  fdCheck({ posWeight: weights(5, 6), classWeight: weights(5, 4), sampleWeight: weights(4, 3), mask: maskOf(20), labelSmoothing: 0.1 }, 4, 5, false, 'bce');
});
test('finite differences: focal (hard and soft, with and without α)', () => {
  fdCheck({ focal: { gamma: 2, alpha: 0.25 } }, 4, 5, true, 'focal hard');
  fdCheck({ focal: { gamma: 0.7 }, posWeight: weights(5, 6) }, 4, 5, false, 'focal soft');
});
test('finite differences: distribution-balanced (hard and soft)', () => {
  const db = { classCounts: [0, 3, 40, 200, 999], trainSize: 1000 };
  fdCheck({ distributionBalanced: db }, 4, 5, true, 'db hard');
  fdCheck({ distributionBalanced: { ...db, negScale: 3, focal: { gamma: 1.5, alpha: 0.3 } } }, 4, 5, false, 'db soft');
});
test('ASL gradient treats the focusing weight as a constant (not the full derivative)', () => {
  // With gammaNeg = 0 and clip = 0, ASL is plain BCE on negatives: its gradient is then exact.
  fdCheck({ asymmetric: { gammaPos: 0, gammaNeg: 0, clip: 0 } }, 3, 4, true, 'asl as bce');
  const x = new Float32Array([1.0]);
  const r = bceWithLogits(x, new Float32Array([0]), { shape: [1, 1], asymmetric: { gammaNeg: 4, clip: 0.05 }, reduction: 'sum' });
  const p = 1 / (1 + Math.exp(-1));
  const pm = p - 0.05;
  assertClose(r.grad[0], pm ** 4 * p * (1 - p) / (1 - pm), { atol: 1e-7, rtol: 1e-5 });
  assertClose(r.loss, -(pm ** 4) * Math.log(1 - pm), { atol: 1e-7, rtol: 1e-5 });
});

// --- outputs ---
test('gradOut, inPlace, grad: false', () => {
  const out = new Float32Array(6).fill(7);
  const r = bceWithLogits(X, Y, { shape, gradOut: out });
  assert.ok(r.grad === out);
  const ref = bceWithLogits(X, Y, { shape });
  assert.equal(f64(out), f64(ref.grad));
  const xi = X.slice();
  const q = bceWithLogits(xi, Y, { shape, inPlace: true });
  assert.ok(q.grad === xi);
  assert.equal(f64(xi), f64(ref.grad));
  assert.is(q.loss, ref.loss);
  const n = bceWithLogits(X, Y, { shape, grad: false });
  assert.is(n.grad, undefined);
  assert.is(n.loss, ref.loss);
  assert.equal(f64(X), [0.5, -1, 2, -0.30000001192092896, 0.800000011920929, -2.5], 'logits untouched');
});

test('CPU Tensor logits/targets: grad is a Tensor on the same device; shape from the tensor', () => {
  const lt = Tensor.from(X, [2, 3], { device: 'cpu' });
  const tt = Tensor.from(Int8Array.from(Y), [2, 3], { device: 'cpu' });
  const r = bceWithLogits(lt, tt);
  assert.instance(r.grad, Tensor);
  assert.is(r.grad.device, 'cpu');
  assert.equal(r.grad.shape, [2, 3]);
  const ref = bceWithLogits(X, Y, { shape });
  assert.equal(f64(r.grad.toArray()), f64(ref.grad));
  assert.is(r.loss, ref.loss);
  const g = Tensor.from(new Float32Array(6), [2, 3], { device: 'cpu' });
  const q = bceWithLogits(lt, tt, { gradOut: g });
  assert.ok(q.grad === g);
  assert.equal(f64(g.toArray()), f64(ref.grad));
  const ip = bceWithLogits(lt, Y, { inPlace: true });
  assert.ok(ip.grad === lt);
  assert.equal(f64(lt.toArray()), f64(ref.grad));
  for (const t of [lt, tt, r.grad, g]) t.dispose();
});

test('a Tensor gradient is written completely, masked elements included (no stale memory leaks through)', () => {
  const N = 37, K = 41, n = N * K;
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 6);
  const y = Int8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? -1 : i % 3 === 0 ? 1 : 0));
  const mask = Uint8Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : 1));
  const ref = bceWithLogits(x, y, { shape: [N, K], mask });
  for (let round = 0; round < 3; round++) {
    // Leave NaN-filled blocks of the same size behind, so a reused allocation would show them.
    Tensor.from(new Float32Array(n).fill(NaN), [N, K], { device: 'cpu' }).dispose();
    const lt = Tensor.from(x, [N, K], { device: 'cpu' });
    const yt = Tensor.from(y, [N, K], { device: 'cpu' });
    const r = bceWithLogits(lt, yt, { mask });
    assert.equal(f64(r.grad.toArray()), f64(ref.grad));
    for (const t of [lt, yt, r.grad]) t.dispose();
  }
});

test.run();
