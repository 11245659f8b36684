// Encoder training step (forward + fused BCE + backward + clipping + AdamW) in tokens/s on the CPU,
// against PyTorch CPU eager (bench/torch_encoder.py) on the same config and thread count when torch is
// importable; and the CPU matrix product (ours, with bias) against the bare BLAS sgemm and torch's linear.
//   node bench/encoder.bench.mjs [--steps=N] [--quick]
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Encoder, getThreads } from '../dist/index.js';
import { loadBinding } from '../dist/binding.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
};
const quick = process.argv.includes('--quick');
const steps = arg('steps', quick ? 3 : 7);
const threads = getThreads();
const cfg = { L: 4, C: 256, NH: 4, FF: 1024, T: 128, B: quick ? 8 : 32, K: 20 };

function python(args) {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, [join(here, 'torch_encoder.py'), ...args.map(String)], { encoding: 'utf8' });
    if (r.status === 0) return JSON.parse(r.stdout.trim().split('\n').pop());
    if (r.stderr && !/No module named 'torch'|ENOENT/.test(r.stderr)) return { error: r.stderr.trim().split('\n').pop() };
  }
  return { error: 'torch is not importable' };
}

// --- training step ---
const enc = await Encoder.create(
  { architecture: 'bert', vocabSize: 30522, hiddenSize: cfg.C, numLayers: cfg.L, numHeads: cfg.NH, intermediateSize: cfg.FF, maxPositions: 512, numLabels: cfg.K },
  { device: 'cpu', seed: 1 },
);
const n = cfg.B * cfg.T;
const batch = {
  inputIds: Int32Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 30000)),
  attentionMask: Uint8Array.from({ length: n }, (_, i) => ((i / cfg.T) | 0) >= cfg.B / 2 && i % cfg.T >= (cfg.T * 3) / 4 ? 0 : 1),
  batchSize: cfg.B,
  seqLen: cfg.T,
};
const targets = Float32Array.from({ length: cfg.B * cfg.K }, (_, i) => ((i * 31) % 5 === 0 ? 1 : 0));
const opt = { lr: 1e-4, weightDecay: 0.01, maxGradNorm: 1 };
await enc.trainStep(batch, targets, undefined, opt);
await enc.trainStep(batch, targets, undefined, opt);
const times = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await enc.trainStep(batch, targets, undefined, opt);
  times.push((performance.now() - t0) / 1000);
}
const ours = times.sort((a, b) => a - b)[times.length >> 1];  // the median step, as the PyTorch script
enc.dispose();
const torch = python([cfg.L, cfg.C, cfg.NH, cfg.FF, cfg.T, cfg.B, cfg.K, threads, steps]);

const rows = [
  { what: `fused-multilabel CPU (${loadBinding().sgemmBackend})`, 's/step': ours.toFixed(3), 'tokens/s': Math.round(n / ours), ratio: '1.00' },
];
if (torch.tokens_per_s)
  rows.push({ what: 'PyTorch eager CPU', 's/step': torch.seconds_per_step.toFixed(3), 'tokens/s': Math.round(torch.tokens_per_s), ratio: (n / ours / torch.tokens_per_s).toFixed(2) + '× ours/torch' });
else rows.push({ what: 'PyTorch eager CPU', 's/step': '-', 'tokens/s': '-', ratio: `skipped: ${torch.error}` });
console.log(`training step: ${cfg.L} layers, hidden ${cfg.C}, ${cfg.NH} heads, FF ${cfg.FF}, T ${cfg.T}, B ${cfg.B}; ${threads} threads`);
console.table(rows);

// --- matrix products: the encoder's shapes (B·T rows) ---
const mm = [];
for (const [N, C, OC] of [[n, cfg.C, cfg.C], [n, cfg.C, cfg.FF], [n, cfg.FF, cfg.C]]) {
  const iters = quick ? 3 : 10;
  const flops = 2 * N * C * OC * iters;
  const b = loadBinding();
  b._benchMatmul(N, C, OC, 1, false);
  const s1 = b._benchMatmul(N, C, OC, iters, false);
  const s2 = b._benchMatmul(N, C, OC, iters, true);
  const t = python(['matmul', N, C, OC, threads, iters]);
  mm.push({
    shape: `${N}×${C} · (${OC}×${C})ᵀ`,
    'ours GFLOP/s': (flops / s1 / 1e9).toFixed(1),
    'bare sgemm GFLOP/s': (flops / s2 / 1e9).toFixed(1),
    'torch linear GFLOP/s': t.gflops ? t.gflops.toFixed(1) : '-',
    'ours/sgemm': (s2 / s1).toFixed(2),
  });
}
console.log(`CPU matrix products (${loadBinding().sgemmBackend}), ${threads} threads`);
console.table(mm);
