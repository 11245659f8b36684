#!/usr/bin/env node
// GPU benchmark of the encoder (run on a machine with CUDA; prints a skip line and exits 0 without one):
//  1. every encoder kernel at BERT-base shapes (B 32, T 128, C 768, 12 heads, FF 3072) through the native
//     `_benchEncoderKernels` (native/addon/bench_binding.cpp): GB/s of compulsory traffic against a
//     device-to-device copy moving the same bytes, and TFLOP/s of the matrix products;
//  2. a BERT-base training step (forward + fused BCE + backward + clipping + AdamW, T 128) and a forward
//     pass in sequences/s through the public Encoder;
//  3. when python3 has torch with CUDA: torch.matmul at the same GEMM shapes (fp32 with TF32 off; TF32 on,
//     labelled) and the same training step in PyTorch eager (bench/gpu/torch_gpu.py), with the ratios.
//   node bench/gpu/encoder_gpu.mjs [--batch=32] [--steps=10] [--reps=20]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Encoder, deviceInfo } from '../../dist/index.js';
import { loadBinding } from '../../dist/binding.js';
import { useBenchAddon } from '../addon.mjs';

useBenchAddon();  // before the first call into ../dist: the entry points used below live only in the benchmark addon

const info = deviceInfo();
if (!info.cuda.available) {
  console.log(`skipping the GPU encoder benchmark: ${info.cuda.error}`);
  process.exit(0);
}
const arg = (name, def) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
};
const B = arg('batch', 32), T = 128, steps = arg('steps', 10), reps = arg('reps', 20);
const model = { layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 30522, labels: 20 };
const dev = info.cuda.devices[0];
console.log(`GPU: ${dev?.name} (compute ${dev?.computeCapability}), ${((dev?.totalMemory ?? 0) / 2 ** 30).toFixed(0)} GiB; `
  + `BERT-base: ${model.layers} layers, hidden ${model.hidden}, ${model.heads} heads, FF ${model.ffn}, T ${T}, B ${B}`);

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const table = (head, rows) => {
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
};

// ---- 1. kernels
const kb = loadBinding()._benchEncoderKernels({
  batch: B, seqLen: T, hidden: model.hidden, heads: model.heads, ffn: model.ffn, layers: model.layers,
  vocab: model.vocab, numLabels: model.labels, reps,
});
console.log(`\nPer-kernel time (median of ${reps} after warm-up, CUDA events). GB/s counts each input read once and`
  + ` each output written once; "copy GB/s" is cudaMemcpy D2D moving the same bytes (half read, half written).`
  + ` AdamW, the gradient norm and the clip scale run over all ${kb.config.parameters} BERT-base parameters.\n`);
table(['kernel', 'shape', 'ms', 'MB moved', 'GB/s', 'copy GB/s', '% of copy'],
  kb.kernels.map((k) => [k.kernel, k.shape, f(k.ms, 3), f(k.bytes / 1e6, 1), f(k.gbps, 0), f(k.copyGbps, 0), `${f(k.pctOfCopy, 0)}%`]));

// ---- 2. our training step and forward pass
const enc = await Encoder.create(
  { architecture: 'bert', vocabSize: model.vocab, hiddenSize: model.hidden, numLayers: model.layers, numHeads: model.heads,
    intermediateSize: model.ffn, maxPositions: 512, numLabels: model.labels },
  { device: 'cuda', seed: 1 },
);
const n = B * T;
const batch = { inputIds: Int32Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 30000)), attentionMask: new Uint8Array(n).fill(1), batchSize: B, seqLen: T };
const targets = Float32Array.from({ length: B * model.labels }, (_, i) => (i % 7 === 0 ? 1 : 0));
const opt = { lr: 1e-4, weightDecay: 0.01, maxGradNorm: 1 };
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
async function timeSteps(fn) {
  for (let i = 0; i < 2; i++) await fn();
  const ts = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await fn();  // every call synchronises the device before it resolves
    ts.push((performance.now() - t0) / 1000);
  }
  return median(ts);
}
const step = await timeSteps(() => enc.trainStep(batch, targets, undefined, opt));
const fwd = await timeSteps(() => enc.forward(batch));
const memory = enc.memory();
enc.dispose();

// ---- 3. PyTorch: the same GEMM shapes and training step
function runTorch() {
  const script = fileURLToPath(new URL('./torch_gpu.py', import.meta.url));
  const cfg = JSON.stringify({
    gemms: kb.gemms.map(({ gemm, M, N, K, transA, transB }) => ({ gemm, M, N, K, transA, transB })),
    batch: B, seqLen: T, layers: model.layers, hidden: model.hidden, heads: model.heads, ffn: model.ffn,
    vocab: model.vocab, labels: model.labels, steps, reps,
  });
  const why = [];
  for (const py of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(py, ['-c', 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      why.push(`${py}: ${probe.error ? probe.error.message : probe.status === 3 ? 'torch has no CUDA device' : (probe.stderr || '').trim().split('\n').pop()}`);
      continue;
    }
    const r = spawnSync(py, [script, cfg], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (r.status !== 0) {
      why.push(`${py} ${script}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
      continue;
    }
    return { py, result: JSON.parse(r.stdout.trim().split('\n').pop()) };
  }
  return { why };
}
const torch = runTorch();
const th = torch.result;
if (!th) console.log(`PyTorch CUDA: not measured (${torch.why.join('; ')})\n`);
else console.log(`PyTorch ${th.torch} on ${th.device} (${torch.py}); ratios are ours / PyTorch (above 1: ours is faster).\n`);

console.log('Matrix products (our fp32 tiled sgemm, bias excluded; rows = B·T; TF32 is tensor-core math with 10-bit mantissa inputs, so not the same arithmetic):\n');
table(['product', 'M×N×K', 'ours ms', 'ours TFLOP/s', 'torch fp32 TFLOP/s', 'ours / fp32', 'torch TF32 TFLOP/s', 'ours / TF32'],
  kb.gemms.map((g, i) => {
    const t = th?.gemms[i];
    return [g.gemm, `${g.M}×${g.N}×${g.K}`, f(g.ms, 3), f(g.tflops, 2), f(t?.tflops_fp32, 2), f(g.tflops / t?.tflops_fp32, 2),
      f(t?.tflops_tf32, 2), f(g.tflops / t?.tflops_tf32, 2)];
  }));

console.log(`BERT-base training step (forward with dropout 0.1 + BCE + backward + clipping + AdamW), T ${T}, B ${B}, median of ${steps} steps:\n`);
const rows = [
  ['fused-multilabel CUDA, training step', f(step * 1000), f(B / step, 0), ''],
  ['fused-multilabel CUDA, forward (eval)', f(fwd * 1000), f(B / fwd, 0), ''],
];
if (th) {
  for (const [label, r] of [['PyTorch eager fp32 (TF32 off), training step', th.train.fp32], ['PyTorch eager, TF32 on, training step', th.train.tf32]])
    rows.push([label, f(r.seconds_per_step * 1000), f(r.sequences_per_s, 0), `ours ${f(B / step / r.sequences_per_s, 2)}×`]);
}
table(['', 'ms', 'sequences/s', 'ratio'], rows);
console.log('memory (bytes)', memory);
