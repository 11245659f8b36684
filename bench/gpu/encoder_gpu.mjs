// GPU benchmark of the encoder (run on a machine with CUDA): per-step time of BERT-base-sized training
// (12 layers, hidden 768, 12 heads, FF 3072, T 128) in sequences/s, the forward alone, and a BERT-sized
// matrix product through a training step of a 0-layer model for reference. Prints a skip line without a GPU.
//   node bench/gpu/encoder_gpu.mjs [--batch=32] [--steps=10]
import { Encoder, deviceInfo } from '../../dist/index.js';

const info = deviceInfo();
if (!info.cuda.available) {
  console.log(`skipping the GPU encoder benchmark: ${info.cuda.error}`);
  process.exit(0);
}
const arg = (name, def) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
};
const B = arg('batch', 32), T = 128, steps = arg('steps', 10);
const enc = await Encoder.create(
  { architecture: 'bert', vocabSize: 30522, hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 512, numLabels: 20 },
  { device: 'cuda', seed: 1 },
);
const n = B * T;
const batch = { inputIds: Int32Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 30000)), attentionMask: new Uint8Array(n).fill(1), batchSize: B, seqLen: T };
const targets = Float32Array.from({ length: B * 20 }, (_, i) => (i % 7 === 0 ? 1 : 0));
const opt = { lr: 1e-4, weightDecay: 0.01, maxGradNorm: 1 };
for (let i = 0; i < 2; i++) await enc.trainStep(batch, targets, undefined, opt);
let t0 = performance.now();
for (let i = 0; i < steps; i++) await enc.trainStep(batch, targets, undefined, opt);
const step = (performance.now() - t0) / 1000 / steps;
t0 = performance.now();
for (let i = 0; i < steps; i++) await enc.forward(batch);
const fwd = (performance.now() - t0) / 1000 / steps;
console.log(`${info.cuda.devices[0]?.name}: BERT-base T ${T} B ${B}`);
console.table([
  { what: 'training step', 'ms': (step * 1000).toFixed(1), 'sequences/s': Math.round(B / step) },
  { what: 'forward (eval)', 'ms': (fwd * 1000).toFixed(1), 'sequences/s': Math.round(B / fwd) },
]);
console.log('memory', enc.memory());
enc.dispose();
