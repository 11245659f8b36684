// Child script of isa.test.js: runs a battery of loss configurations (every variant, weights, masks,
// int8 targets, soft and hard labels, special logits, rows longer than a tile with ragged tails) and
// prints the losses and gradients as JSON, so the ISA builds of the CPU kernel can be compared.
import { bceWithLogits } from '../../dist/index.js';
import { mulberry32 } from '../../dist/random.js';

const N = 5, K = 301; // K > 256 (one full tile and a ragged one)
const n = N * K;
const r = mulberry32(12345);
const specials = [0, -0, 1e-8, -1e-8, 15, -15, 17, -17, 30, -30, 88, -88, 90, -90, 100, -100, 104, -104, 120, -120, 1e4, -1e4, Infinity, -Infinity];
const x = new Float32Array(n);
for (let i = 0; i < n; i++) x[i] = i % 7 === 0 ? specials[(i / 7) % specials.length | 0] : (r() - 0.5) * 24;
const yHard = new Float32Array(n), ySoft = new Float32Array(n), yMixed = new Float32Array(n), y8 = new Int8Array(n);
for (let i = 0; i < n; i++) {
  yHard[i] = r() < 0.3 ? 1 : 0;
  ySoft[i] = r();
  // mostly hard, a few soft labels: vectors of either kind in the same row
  yMixed[i] = i % 37 === 5 ? r() : yHard[i];
  y8[i] = r() < 0.15 ? -1 : yHard[i];
}
const mask = Uint8Array.from({ length: n }, () => (r() < 0.8 ? 1 : 0));
const pw = Float32Array.from({ length: K }, (_, k) => (k % 11 === 0 ? 0 : 0.5 + 3 * r()));
const cw = Float32Array.from({ length: K }, () => 0.2 + r());
const sw = Float32Array.from({ length: N }, () => 0.5 + r());
const ew = Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? 0 : r()));
const counts = Float32Array.from({ length: K }, (_, k) => (k % 17 === 0 ? 0 : Math.floor(400 * r())));
const db = { classCounts: counts, trainSize: 5000 };

const configs = [];
for (const [yn, y] of [['hard', yHard], ['soft', ySoft], ['mixed', yMixed], ['int8', y8], ['uint8', Uint8Array.from(yHard)]]) {
  configs.push([yn, y, {}]);
  configs.push([yn, y, { posWeight: pw }]);
  configs.push([yn, y, { sampleWeight: sw, classWeight: cw, elementWeight: ew, posWeight: pw }]);
  configs.push([yn, y, { mask }]);
  configs.push([yn, y, { labelSmoothing: 0.1 }]);
  configs.push([yn, y, { focal: { gamma: 2, alpha: 0.25 } }]);
  configs.push([yn, y, { focal: { gamma: 2 } }]);
  configs.push([yn, y, { focal: { gamma: 2, alpha: 0.7 }, posWeight: pw, elementWeight: ew, mask }]);
  configs.push([yn, y, { focal: { gamma: 1.5, alpha: 0.25 } }]);
  configs.push([yn, y, { asymmetric: {} }]);
  configs.push([yn, y, { asymmetric: { gammaPos: 1, gammaNeg: 3, clip: 0.1 }, posWeight: pw, elementWeight: ew, mask }]);
  configs.push([yn, y, { distributionBalanced: db }]);
  configs.push([yn, y, { distributionBalanced: db, posWeight: pw, sampleWeight: sw, classWeight: cw, mask }]);
  configs.push([yn, y, { distributionBalanced: { ...db, rebalance: false } }]);
  configs.push([yn, y, { distributionBalanced: { ...db, focal: false } }]);
}
const out = [];
for (const [yn, y, o] of configs)
  for (const reduction of ['mean', 'none']) {
    const res = bceWithLogits(x, y, { shape: [N, K], reduction, ...o });
    const enc = (v) => (typeof v === 'number' ? String(v) : Array.from(v, String));
    out.push({ name: `${yn} ${JSON.stringify(Object.keys(o))} ${JSON.stringify(o.focal ?? o.distributionBalanced?.rebalance ?? '')} ${reduction}`, loss: enc(res.loss), grad: enc(res.grad) });
  }
// caller-visible gradient buffers (targets validated first) and the in-place gradient
for (const o of [{ gradOut: new Float32Array(n) }, { inPlace: true }]) {
  const res = bceWithLogits(Float32Array.from(x), yHard, { shape: [N, K], focal: { gamma: 2 }, mask, ...o });
  out.push({ name: `hard focal ${Object.keys(o)[0]}`, loss: String(res.loss), grad: Array.from(res.grad, String) });
}
process.stdout.write(JSON.stringify(out));
