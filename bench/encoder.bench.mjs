// Encoder training step (forward + fused BCE + backward + clipping + AdamW) in tokens/s on the CPU,
// against PyTorch CPU eager (bench/torch_encoder.py) on the same config and thread count when torch is
// importable; and the CPU SGEMM at the encoder's shapes against the measured FMA peak and OpenBLAS (when the
// benchmark addon was built with FUSED_MULTILABEL_BLAS=on).
//   node bench/encoder.bench.mjs [--steps=N] [--rounds=R] [--quick] [--only=train|sgemm] [--torch-reference-blas]
// Each figure is measured in R rounds that alternate between this package and the peer, so both are timed
// in the same minutes of a shared machine; medians and bests over the rounds are printed, with the load average.
// --torch-reference-blas also times PyTorch on the reference (netlib) BLAS, which Debian's python3-torch
// gets when no optimised libblas.so.3 is installed (its F.linear runs at a few GFLOP/s there).
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Encoder, deviceInfo, getThreads } from '../dist/index.js';
import { loadBinding } from '../dist/binding.js';
import { useBenchAddon } from './addon.mjs';
import { numberArg, peakRssMb, torchEncoder } from './torch_runner.mjs';

useBenchAddon();  // before the first call into ../dist: the entry points used below live only in the benchmark addon

const quick = process.argv.includes('--quick');
const only = (process.argv.find((a) => a.startsWith('--only=')) ?? '').slice(7);
const steps = numberArg('steps', quick ? 2 : 3);
const rounds = numberArg('rounds', quick ? 1 : 3);
const threads = getThreads();
const cfg = { L: 4, C: 256, NH: 4, FF: 1024, T: 128, B: quick ? 8 : 32, K: 20 };
const n = cfg.B * cfg.T;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const load = () => loadavg()[0].toFixed(1);
const range = (xs, d = 2) => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)})`;
const REFERENCE_BLAS = '/usr/lib/x86_64-linux-gnu/blas';  // Debian's libblas3 (netlib), ahead of the alternative

if (only !== 'sgemm') await trainingStep();
if (only !== 'train') sgemm();

async function trainingStep() {
  const enc = await Encoder.create(
    { architecture: 'bert', vocabSize: 30522, hiddenSize: cfg.C, numLayers: cfg.L, numHeads: cfg.NH, intermediateSize: cfg.FF, maxPositions: 512, numLabels: cfg.K },
    { device: 'cpu', seed: 1 },
  );
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
  const torchArgs = [cfg.L, cfg.C, cfg.NH, cfg.FF, cfg.T, cfg.B, cfg.K, threads, steps];
  const peers = [{ name: 'PyTorch eager', env: {} }];
  if (process.argv.includes('--torch-reference-blas') && existsSync(REFERENCE_BLAS))
    peers.push({ name: 'PyTorch eager, reference BLAS', env: { LD_LIBRARY_PATH: REFERENCE_BLAS } });
  const ours = [], oursBest = [], theirs = peers.map(() => []), loads = [];
  let torchInfo = peers.map(() => null);
  for (let r = 0; r < rounds; r++) {
    const times = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await enc.trainStep(batch, targets, undefined, opt);
      times.push((performance.now() - t0) / 1000);
    }
    ours.push(median(times));
    oursBest.push(Math.min(...times));
    peers.forEach((p, i) => {
      const t = torchEncoder(torchArgs, p.env);
      if (t.seconds_per_step) theirs[i].push(t), (torchInfo[i] = t);
      else torchInfo[i] ??= t;
    });
    loads.push(load());
  }
  const oursRss = peakRssMb(); // peak RSS of this process so far: the training steps (MB)
  enc.dispose();

  console.log(`training step: ${cfg.L} layers, hidden ${cfg.C}, ${cfg.NH} heads, FF ${cfg.FF}, T ${cfg.T}, B ${cfg.B}; ${threads} threads; ` +
    `${rounds} rounds of ${steps} steps each (median step per round), load average per round ${loads.join(' ')}`);
  const rows = [{ what: `fused-multilabel CPU (${deviceInfo().sgemm})`, 's/step median of rounds': range(ours, 3), 's/step best': Math.min(...oursBest).toFixed(3), 'tokens/s': Math.round(n / median(ours)), 'ours/peer (rounds)': '', 'peak RSS MB': Math.round(oursRss) }];
  peers.forEach((p, i) => {
    const ts = theirs[i];
    if (!ts.length) return rows.push({ what: p.name, 's/step median of rounds': `skipped: ${torchInfo[i]?.error}` });
    const per = ts.map((t, r) => t.seconds_per_step / ours[r]);
    rows.push({
      what: `${p.name} (${ts[0].blas.split('/').slice(-2).join('/')}, ${ts[0].threads} threads)`,
      's/step median of rounds': range(ts.map((t) => t.seconds_per_step), 3),
      's/step best': Math.min(...ts.map((t) => t.best_seconds_per_step)).toFixed(3),
      'tokens/s': Math.round(n / median(ts.map((t) => t.seconds_per_step))),
      'ours/peer (rounds)': `${range(per)}×`,
      'peak RSS MB': Math.round(Math.max(...ts.map((t) => t.max_rss_mb))),
    });
  });
  console.table(rows);
}

// --- matrix products: the encoder's shapes (B·T rows), every transpose its forward and backward use ---
function sgemm() {
  const b = loadBinding();
  const info = deviceInfo();
  const lanes = /avx512/.test(info.sgemm) ? 16 : /avx2/.test(info.sgemm) ? 8 : 4;
  b._fmaPeak(1e6);
  const mm = [];
  const peaks = [];
  for (const [what, ta, tb, M, N, K] of [
    ['q/k/v/out proj fwd', false, true, n, cfg.C, cfg.C],
    ['fc1 fwd', false, true, n, cfg.FF, cfg.C],
    ['fc2 fwd', false, true, n, cfg.C, cfg.FF],
    ['fc2 dinp', false, false, n, cfg.FF, cfg.C],
    ['fc1 dweight', true, false, cfg.FF, cfg.C, n],
    ['BERT-base fc1 fwd (B8)', false, true, 1024, 3072, 768],
  ]) {
    const iters = quick ? 2 : 6;
    const flops = 2 * M * N * K * iters;
    b._benchSgemm(ta, tb, M, N, K, 1, false);
    const wall = [], eff = [], ratio = [];
    let blasBuilt = true;
    for (let r = 0; r < rounds; r++) {
      const peak = b._fmaPeak(2e7); // one thread's FMA GFLOP/s on its own CPU time, at the SGEMM path's width
      peaks.push(peak);
      const o = b._benchSgemm(ta, tb, M, N, K, iters, false);
      const l = b._benchSgemm(ta, tb, M, N, K, iters, true);
      wall.push(flops / o.seconds / 1e9);
      eff.push((100 * flops) / o.cpuSeconds / 1e9 / peak);
      if (l === null) blasBuilt = false;
      else ratio.push(l.seconds / o.seconds);
    }
    mm.push({
      product: `${what} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${M}×${N}×${K}`,
      'ours GFLOP/s wall': `${median(wall).toFixed(0)} (best ${Math.max(...wall).toFixed(0)})`,
      '% of per-core peak, CPU time': `${median(eff).toFixed(0)} (best ${Math.max(...eff).toFixed(0)})`,
      'ours/OpenBLAS, wall': blasBuilt ? `${range(ratio)}×` : 'not built in (FUSED_MULTILABEL_BLAS=on)',
      load: load(),
    });
  }
  const mhz = cpuMhz();
  const peak = median(peaks);
  console.log(`\nCPU SGEMM (${info.sgemm}), ${threads} threads, ${rounds} rounds (the FMA-peak loop, ours, OpenBLAS in turn)`);
  console.log(
    `per-core peak: measured ${peak.toFixed(1)} GFLOP/s (median of ${peaks.length}; independent ${lanes}-lane FMA chains on the thread's own CPU time) = ` +
      `${(peak / (lanes * 4)).toFixed(2)} GHz × ${lanes} lanes × 2 flops × 2 FMA ports; nominal ${cpus().length} cores × ${lanes} lanes × 2 × 2 × ` +
      (mhz ? `${(mhz / 1000).toFixed(2)} GHz = ${((cpus().length * mhz) / 1000 * lanes * 4).toFixed(0)} GFLOP/s` : 'clock unknown'),
  );
  console.log('"% of per-core peak": GFLOP per CPU-second of this process (all its threads) over the measured per-core peak, so time');
  console.log('the other processes on a shared machine take is not counted; "wall" figures count it.');
  console.table(mm);
}

function cpuMhz() {
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/cpu MHz\s*:\s*([\d.]+)/);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
