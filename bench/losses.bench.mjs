#!/usr/bin/env node
// Fused BCE-family loss (forward + backward) on the CPU: this package at 1 and 2 threads (into a reused
// gradOut buffer, and returning a new gradient as PyTorch does), timed in 3 rounds that alternate with
// PyTorch CPU eager (bench/torch_losses.py, a worker process, same thread counts), vs a plain JavaScript
// loop, TensorFlow.js (cpu and wasm backends; tf.losses.sigmoidCrossEntropy + tf.grad) and a memory copy
// of the same bytes (the addon's native memcpy, one thread). Prints markdown tables.
//   npm run bench -- losses            (FML_BENCH_QUICK=1 for the smallest size only; FML_BENCH_SIZES=4096x1536 for one)
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '../dist/binding.js';
import { bceWithLogits, getThreads, setThreads } from '../dist/index.js';
import { mulberry32 } from '../dist/random.js';
import { useBenchAddon } from './addon.mjs';

useBenchAddon();  // before the first call into ../dist: the entry points used below live only in the benchmark addon

// The benchmark addon's plain memcpy (the reference).
const copyBytes = loadBinding()._copyBytes;

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.env.FML_BENCH_QUICK === '1';
// [N, K, iterations]
const ALL_SIZES = quick ? [[256, 128, 50]] : [[256, 128, 200], [4096, 1536, 30], [32768, 1024, 4]];
// FML_BENCH_SIZES=4096x1536[,...]: only these sizes (e.g. to compare two builds in alternating runs)
const only = process.env.FML_BENCH_SIZES?.split(',');
const SIZES = only ? ALL_SIZES.filter(([N, K]) => only.includes(`${N}x${K}`)) : ALL_SIZES;
if (SIZES.length === 0) throw new Error(`FML_BENCH_SIZES=${process.env.FML_BENCH_SIZES} names none of ${ALL_SIZES.map(([N, K]) => `${N}x${K}`).join(', ')}`);
const VARIANTS = ['bce', 'posWeight', 'masked', 'focal', 'db'];
const THREADS = [1, 2];
const ROUNDS = quick ? 1 : 3;

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}
function time(fn, iters) {
  for (let i = 0; i < 3; i++) fn();  // warm-up: first touches, thread start-up
  const t = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(t);
}

// Deterministic data (the package's seeded generator), the same distributions as the PyTorch script.
function makeData(N, K) {
  const r = mulberry32(N * 31 + K);
  const n = N * K;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  const y8 = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = r() * 16 - 8;
    y[i] = r() < 0.3 ? 1 : 0;
    y8[i] = r() < 0.2 ? -1 : y[i];
  }
  const pw = Float32Array.from({ length: K }, () => 0.5 + 4 * r());
  const counts = Float32Array.from({ length: K }, () => Math.floor(500 * r()));
  return { x, y, y8, pw, counts };
}

function oursOptions(v, d, N, K, grad) {
  const o = { shape: [N, K], gradOut: grad };
  if (v === 'posWeight') o.posWeight = d.pw;
  if (v === 'focal') o.focal = { gamma: 2, alpha: 0.25 };
  if (v === 'db') o.distributionBalanced = { classCounts: d.counts, trainSize: 40000 };
  return o;
}

// Plain JavaScript: the same one-pass math with Math.exp/Math.log1p (float64).
function jsLoop(v, d, N, K, grad) {
  const { x } = d;
  const y = v === 'masked' ? d.y8 : d.y;
  const n = N * K;
  let count = n;
  if (v === 'masked') {
    count = 0;
    for (let i = 0; i < n; i++) if (y[i] !== -1) count++;
  }
  const inv = count ? 1 / count : 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = y[i];
    if (t === -1) {
      grad[i] = 0;
      continue;
    }
    const xi = x[i];
    const e = Math.exp(-Math.abs(xi));
    const l1p = Math.log1p(e);
    const spPos = Math.max(xi, 0) + l1p;
    const spNeg = Math.max(-xi, 0) + l1p;
    const sig = xi >= 0 ? 1 / (1 + e) : e / (1 + e);
    const p = v === 'posWeight' ? d.pw[i % K] : 1;
    let l = p * t * spNeg + (1 - t) * spPos;
    let g = (1 - t) * sig - p * t * (1 - sig);
    if (v === 'focal') {
      const q = (1 - t) * sig + t * (1 - sig);
      const at = 0.25 * t + 0.75 * (1 - t);
      const f = q * q;
      const gg = 2 * q * sig * (1 - sig) * (1 - 2 * t) * l;
      l = at * f * l;
      g = at * (gg + f * g);
    }
    sum += l;
    grad[i] = g * inv;
  }
  return sum * inv;
}

async function tfSetup(backend) {
  const tf = await import('@tensorflow/tfjs');
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = join(here, '../node_modules/@tensorflow/tfjs-backend-wasm/dist/');
    wasm.setWasmPaths(dir.endsWith('/') ? dir : dir + '/');
  }
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`tf.setBackend('${backend}') returned false`);
  await tf.ready();
  return tf;
}

function tfStep(tf, v, d, N, K) {
  return () => {
    tf.tidy(() => {
      const x = tf.tensor2d(d.x, [N, K]);
      const y = tf.tensor2d(d.y, [N, K]);
      const f = (xx) => tf.losses.sigmoidCrossEntropy(y, xx);
      const g = tf.grad(f)(x);
      g.dataSync();
    });
  };
}

// PyTorch eager in a worker process (bench/torch_losses.py): one JSON job a line in, one answer a line out,
// so its timings and ours alternate in rounds (the same minutes of a shared machine, not one run each).
async function startTorch() {
  for (const py of ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) continue;
    const child = spawn(py, [join(here, 'torch_losses.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => {
      const r = await lines.next();
      if (r.done) throw new Error('the PyTorch worker exited');
      return JSON.parse(r.value);
    };
    const { version } = await next();
    return {
      version,
      async measure(job) {
        child.stdin.write(`${JSON.stringify(job)}\n`);
        return (await next()).sec;
      },
      close: () => child.stdin.end(),
    };
  }
  return { error: 'python3 with torch not found' };
}

const FRESH = 'fused-multilabel, new gradient';
const fmtRate = (v) => (v >= 1e9 ? `${(v / 1e9).toFixed(2)} G` : `${(v / 1e6).toFixed(1)} M`);
const rows = [];
function add(size, variant, impl, threads, sec, bytesPerElem, n, rounds) {
  rows.push({ size, variant, impl, threads, sec, eps: n / sec, gbs: (bytesPerElem * n) / sec / 1e9, rounds });
}

const savedThreads = getThreads();
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; node ${process.version}`);
const torch = await startTorch();
console.log(torch.error ? `PyTorch: unavailable (${torch.error})` : `PyTorch ${torch.version} CPU eager`);
for (const [N, K, iters] of SIZES) {
  const size = `${N}×${K}`;
  const n = N * K;
  const d = makeData(N, K);
  const grad = new Float32Array(n);
  // memory copy of the same bytes: logits + targets read, the same amount written
  const buf = new Float32Array(2 * n);
  const lo = buf.subarray(0, n);
  const hi = buf.subarray(n);
  const copySec = time(() => {
    copyBytes(lo, d.x);
    copyBytes(hi, d.y);
  }, Math.max(iters, 5));
  add(size, 'copy', 'memcpy (native, 1 thread)', 1, copySec, 16, n);
  // PyTorch eager takes seconds per step at the largest size: one timed step a round there.
  const torchIters = N * K > 8e6 ? 1 : Math.max(3, Math.ceil(iters / 3));
  for (const v of VARIANTS) {
    const bpe = v === 'masked' ? 9 : 12;  // logits read + targets read + gradient written
    const tg = v === 'masked' ? d.y8 : d.y;
    const opts = oursOptions(v, d, N, K, grad);
    // the call that returns a new gradient, as PyTorch's step does (no gradOut: no validation pre-pass)
    const fresh = { ...opts, gradOut: undefined };
    for (const th of THREADS) {
      // ROUNDS rounds of: this package both ways, then PyTorch; each figure is the median over the rounds
      const r = { ours: [], fresh: [], torch: [] };
      for (let round = 0; round < ROUNDS; round++) {
        setThreads(th);
        r.ours.push(time(() => bceWithLogits(d.x, tg, opts), iters));
        r.fresh.push(time(() => bceWithLogits(d.x, tg, fresh), iters));
        if (!torch.error) r.torch.push(await torch.measure({ variant: v, N, K, threads: th, iters: torchIters }));
      }
      add(size, v, 'fused-multilabel', th, median(r.ours), bpe, n, r.ours);
      add(size, v, FRESH, th, median(r.fresh), bpe, n, r.fresh);
      if (r.torch.length) add(size, v, 'PyTorch eager', th, median(r.torch), bpe, n, r.torch);
    }
    if (v !== 'db') add(size, v, 'JS loop', 1, time(() => jsLoop(v, d, N, K, grad), Math.max(1, Math.ceil(iters / 5))), bpe, n);
  }
}
setThreads(savedThreads);
if (!torch.error) torch.close();

// TensorFlow.js last: once loaded, it slowed this package's one-thread timings in the same process by up to
// 1.8× (4.5 -> 8.1 ms at 4096×1536), so nothing else is timed after it.
let tfCpu;
let tfWasm;
let tfWasmError;
try {
  tfCpu = await tfSetup('cpu');
} catch (e) {
  console.log(`TensorFlow.js cpu backend unavailable: ${e.message}`);
}
for (const [N, K, iters] of SIZES.filter(([N, K]) => N * K <= 4096 * 1536)) {
  const size = `${N}×${K}`;
  const d = makeData(N, K);
  if (tfCpu) {
    tfCpu.setBackend('cpu');
    add(size, 'bce', 'TF.js cpu', 1, time(tfStep(tfCpu, 'bce', d, N, K), Math.max(1, Math.ceil(iters / 10))), 12, N * K);
  }
  if (!tfWasmError) {
    try {
      tfWasm = tfWasm ?? (await tfSetup('wasm'));
      await tfWasm.setBackend('wasm');
      add(size, 'bce', 'TF.js wasm', 1, time(tfStep(tfWasm, 'bce', d, N, K), Math.max(1, Math.ceil(iters / 10))), 12, N * K);
    } catch (e) {
      tfWasmError = e.message;
      console.log(`TensorFlow.js wasm backend could not initialise: ${e.message}`);
    }
  }
}
// rows grouped by size again (TF.js came last)
const sizeOrder = SIZES.map(([N, K]) => `${N}×${K}`);
rows.sort((a, b) => sizeOrder.indexOf(a.size) - sizeOrder.indexOf(b.size));

// Table: per size and variant, each implementation with its ratio to ours at the same thread count.
console.log('\n| size | variant | implementation | threads | time | elements/s | GB/s | ours ÷ this (speed-up) | % of copy GB/s |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const ours = rows.find((o) => o.size === r.size && o.variant === r.variant && o.impl === 'fused-multilabel' && o.threads === r.threads) ??
    rows.find((o) => o.size === r.size && o.variant === r.variant && o.impl === 'fused-multilabel' && o.threads === 1);
  const copy = rows.find((o) => o.size === r.size && o.variant === 'copy');
  const speed = ours && !r.impl.startsWith('fused-multilabel') && r.variant !== 'copy' ? `${(r.sec / ours.sec).toFixed(1)}×` : '';
  const pct = copy ? `${((100 * r.gbs) / copy.gbs).toFixed(0)}%` : '';
  const ms = r.sec * 1e3;
  console.log(`| ${r.size} | ${r.variant} | ${r.impl} | ${r.threads} | ${ms < 1 ? ms.toFixed(3) : ms.toFixed(1)} ms | ${fmtRate(r.eps)} | ${r.gbs.toFixed(2)} | ${speed} | ${pct} |`);
}
// Speed-up over PyTorch eager per thread count, for both ways of calling: the ratio of the medians, and
// the lowest and highest ratio of a single round (ours and PyTorch's timings of the same round).
const ratios = (t, o) => {
  const q = t.rounds.map((ts, i) => ts / o.rounds[i]);
  return `${(t.sec / o.sec).toFixed(1)}× (${Math.min(...q).toFixed(1)}–${Math.max(...q).toFixed(1)})`;
};
console.log(`\n| size | variant | threads | PyTorch eager | speed-up, gradOut (rounds: lowest–highest) | speed-up, new gradient |`);
console.log('|---|---|---|---|---|---|');
for (const t of rows.filter((r) => r.impl === 'PyTorch eager')) {
  const pick = (impl) => rows.find((o) => o.size === t.size && o.variant === t.variant && o.impl === impl && o.threads === t.threads);
  const a = pick('fused-multilabel');
  const b = pick(FRESH);
  if (a && b) console.log(`| ${t.size} | ${t.variant} | ${t.threads} | ${(t.sec * 1e3).toFixed(1)} ms | ${ratios(t, a)} | ${ratios(t, b)} |`);
}
console.log('\nGB/s counts logits read + targets read + gradient written (12 B/element, 9 with int8 targets); the copy counts 8 B read + 8 B written per element.');
if (tfWasmError) console.log(`TF.js wasm: not measured (${tfWasmError}).`);
