// Benchmarks evaluate() and tuneThresholds() on 10,000 rows × 1,500 labels, iterativeStratifiedSplit()
// on 100,000 rows × 1,500 labels, and Tokenizer.encodeBatch on 1,000 texts. Data: sparse random
// multi-label targets (Zipf-like label frequencies, 1–5 labels per row) with noisy scores.
//   node bench/metrics.bench.mjs [--quick]
import { Bench } from 'tinybench';
import { evaluate, tuneThresholds, iterativeStratifiedSplit, Tokenizer } from '../dist/index.js';
import { mulberry32 } from '../dist/random.js';

const quick = process.argv.includes('--quick');
const R = mulberry32(1);
const N = 10_000;
const K = 1_500;
const targets = new Int8Array(N * K);
const scores = new Float32Array(N * K);
for (let i = 0; i < N * K; i++) scores[i] = R() * 0.4;
for (let i = 0; i < N; i++) {
  const c = 1 + Math.floor(R() * 5);
  for (let p = 0; p < c; p++) {
    const j = Math.floor(K * R() ** 2);
    targets[i * K + j] = 1;
    scores[i * K + j] = Math.min(1, 0.3 + R() * 0.7);
  }
}
const names = Array.from({ length: K }, (_, j) => `label${j}`);
const NS = 100_000;
const splitRows = Array.from({ length: NS }, () => {
  const c = 1 + Math.floor(R() * 5);
  const s = new Set();
  while (s.size < c) s.add(names[Math.floor(K * R() ** 2)]);
  return { labels: [...s] };
});
const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'multi', 'label', 'classification', 'tokenizer', 'running', 'unwanted'];
const texts = Array.from({ length: 1000 }, () => Array.from({ length: 60 }, () => words[Math.floor(R() * words.length)]).join(' ') + '.');
const tok = Tokenizer.train(texts.slice(0, 200), { vocabSize: 500 });

const tasks = [
  ['evaluate 10,000×1,500', () => evaluate(targets, scores, { shape: [N, K], threshold: 0.5 })],
  ['tuneThresholds 10,000×1,500 micro-f1 per-class', () => tuneThresholds(targets, scores, { shape: [N, K], objective: 'micro-f1', perClass: true })],
  ['tuneThresholds 10,000×1,500 macro-f1 per-class', () => tuneThresholds(targets, scores, { shape: [N, K], objective: 'macro-f1', perClass: true })],
  ['iterativeStratifiedSplit 100,000×1,500', () => iterativeStratifiedSplit(splitRows, { seed: 1 })],
  ['encodeBatch 1,000 texts × ~64 tokens', () => tok.encodeBatch(texts, { maxLength: 128 })],
];
const bench = new Bench({ time: quick ? 200 : 2000, iterations: quick ? 2 : 5, warmupIterations: 1, warmupTime: 0 });
for (const [name, fn] of tasks) bench.add(name, fn);
await bench.run();
// CPU time of the process per call (min of 3): less sensitive than wall time to other processes
// sharing this machine's cores.
const cpu = tasks.map(([, fn]) => {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const c = process.cpuUsage();
    fn();
    const u = process.cpuUsage(c);
    best = Math.min(best, (u.user + u.system) / 1000);
  }
  return best;
});
const os = await import('node:os');
console.log(`node ${process.version}, ${os.cpus()[0]?.model} ×${os.cpus().length}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`${N}×${K} (${targets.reduce((a, b) => a + b, 0)} positives), split ${NS} rows`);
console.table(
  bench.tasks.map((t, i) => ({
    task: t.name,
    'mean ms': t.result.latency?.mean?.toFixed(1),
    'min ms': t.result.latency?.min?.toFixed(1),
    'max ms': t.result.latency?.max?.toFixed(1),
    samples: t.result.latency?.samplesCount,
    'cpu ms (min of 3)': cpu[i].toFixed(1),
  })),
);
