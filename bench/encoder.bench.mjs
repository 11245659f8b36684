// Encoder training step (forward + fused BCE + backward + clipping + AdamW) in tokens/s on the CPU,
// against PyTorch CPU eager (bench/torch_encoder.py) on the same config and thread count when torch is
// importable; and the CPU SGEMM at the encoder's shapes against the measured FMA peak, OpenBLAS (when the
// build linked it) and torch's linear.
//   node bench/encoder.bench.mjs [--steps=N] [--quick]
import { readFileSync } from 'node:fs';
import { Encoder, deviceInfo, getThreads } from '../dist/index.js';
import { loadBinding } from '../dist/binding.js';
import { useBenchAddon } from './addon.mjs';
import { numberArg, torchEncoder } from './torch_runner.mjs';

useBenchAddon();  // before the first call into ../dist: the entry points used below live only in the benchmark addon

const quick = process.argv.includes('--quick');
const steps = numberArg('steps', quick ? 3 : 7);
const threads = getThreads();
const cfg = { L: 4, C: 256, NH: 4, FF: 1024, T: 128, B: quick ? 8 : 32, K: 20 };

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
const oursRss = process.resourceUsage().maxRSS / 1024; // peak RSS so far: the training steps (MB)
enc.dispose();
const torch = torchEncoder([cfg.L, cfg.C, cfg.NH, cfg.FF, cfg.T, cfg.B, cfg.K, threads, steps]);

const rows = [
  { what: `fused-multilabel CPU (${deviceInfo().sgemm})`, 's/step': ours.toFixed(3), 'tokens/s': Math.round(n / ours), ratio: '1.00', 'peak RSS MB': Math.round(oursRss) },
];
if (torch.tokens_per_s)
  rows.push({ what: 'PyTorch eager CPU', 's/step': torch.seconds_per_step.toFixed(3), 'tokens/s': Math.round(torch.tokens_per_s), ratio: (n / ours / torch.tokens_per_s).toFixed(2) + '× ours/torch', 'peak RSS MB': Math.round(torch.max_rss_mb) });
else rows.push({ what: 'PyTorch eager CPU', 's/step': '-', 'tokens/s': '-', ratio: `skipped: ${torch.error}` });
console.log(`training step: ${cfg.L} layers, hidden ${cfg.C}, ${cfg.NH} heads, FF ${cfg.FF}, T ${cfg.T}, B ${cfg.B}; ${threads} threads`);
console.table(rows);

// --- matrix products: the encoder's shapes (B·T rows), every transpose its forward and backward use ---
const b = loadBinding();
const info = deviceInfo();
b._fmaPeak(1e6);
const peak1 = b._fmaPeak(2e7); // measured single-thread FMA GFLOP/s at the SGEMM path's vector width
const mhz = cpuMhz();
const lanes = /avx512/.test(info.sgemm) ? 16 : /avx2/.test(info.sgemm) ? 8 : 4;
const mm = [];
for (const [what, ta, tb, M, N, K] of [
  ['q/k/v/out proj fwd', false, true, n, cfg.C, cfg.C],
  ['fc1 fwd', false, true, n, cfg.FF, cfg.C],
  ['fc2 fwd', false, true, n, cfg.C, cfg.FF],
  ['fc2 dinp', false, false, n, cfg.FF, cfg.C],
  ['fc1 dweight', true, false, cfg.FF, cfg.C, n],
]) {
  const iters = quick ? 2 : 6;
  const flops = 2 * M * N * K * iters;
  b._benchSgemm(ta, tb, M, N, K, 1, false);
  const s1 = b._benchSgemm(ta, tb, M, N, K, iters, false);
  const s2 = b._benchSgemm(ta, tb, M, N, K, iters, true);
  const t = ta || !tb ? {} : torchEncoder(['matmul', M, K, N, threads, iters]);
  const ours = flops / s1 / 1e9;
  mm.push({
    product: `${what} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${M}×${N}×${K}`,
    'ours GFLOP/s': ours.toFixed(1),
    '% of measured peak': ((100 * ours) / (peak1 * threads)).toFixed(0),
    'OpenBLAS GFLOP/s': s2 === null ? 'not built in' : (flops / s2 / 1e9).toFixed(1),
    'torch linear GFLOP/s': t.gflops ? t.gflops.toFixed(1) : '-',
  });
}
console.log(`\nCPU SGEMM (${info.sgemm}), ${threads} threads`);
console.log(
  `peak per core: measured ${peak1.toFixed(1)} GFLOP/s (24 independent ${lanes}-lane FMAs); nominal ` +
    (mhz ? `${(mhz / 1000).toFixed(2)} GHz × ${lanes} lanes × 2 flops × 2 FMA ports (assumed) = ${((mhz / 1000) * lanes * 4).toFixed(1)} GFLOP/s` : 'clock unknown') +
    `; ${threads} threads → measured peak ${(peak1 * threads).toFixed(1)} GFLOP/s`,
);
console.table(mm);

function cpuMhz() {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/cpu MHz\s*:\s*([\d.]+)/);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
