#!/usr/bin/env node
// A/B of the loss CPU twin between two builds of the addon, in alternating runs (a fresh process each):
//   node bench/losses_ab.mjs <before.node> <after.node> [rounds=3]
// Each run times 15 calls (median, after 3 warm-ups) per variant at 4096×1536, 1 thread, gradOut reused;
// prints every run, then per variant the fastest run and the median of the runs for each build.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.env.FML_AB_CHILD) {
  const { bceWithLogits, setThreads } = await import('../dist/index.js');
  const { mulberry32 } = await import('../dist/random.js');
  setThreads(1);
  const N = 4096, K = 1536, n = N * K, r = mulberry32(7);
  const x = Float32Array.from({ length: n }, () => (r() - 0.5) * 16);
  const y = Float32Array.from({ length: n }, () => (r() < 0.1 ? 1 : 0));
  const mask = Uint8Array.from({ length: n }, () => (r() < 0.9 ? 1 : 0));
  const pw = Float32Array.from({ length: K }, () => 1 + r());
  const counts = Float32Array.from({ length: K }, () => 1 + Math.floor(r() * 400));
  const g = new Float32Array(n);
  const variants = { bce: {}, posWeight: { posWeight: pw }, masked: { mask }, focal: { focal: { gamma: 2, alpha: 0.25 } }, db: { distributionBalanced: { classCounts: counts, trainSize: 8000 } } };
  const out = {};
  for (const [name, o] of Object.entries(variants)) {
    const run = () => bceWithLogits(x, y, { shape: [N, K], gradOut: g, ...o });
    for (let i = 0; i < 3; i++) run();
    const t = [];
    for (let i = 0; i < 15; i++) {
      const t0 = process.hrtime.bigint();
      run();
      t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    out[name] = t.sort((a, b) => a - b)[7];
  }
  console.log(JSON.stringify(out));
} else {
  const [a, b, rounds = '3'] = process.argv.slice(2);
  if (!a || !b) {
    console.error('usage: node bench/losses_ab.mjs <before.node> <after.node> [rounds]');
    process.exit(1);
  }
  const runs = { before: [], after: [] };
  for (let i = 0; i < Number(rounds); i++)
    for (const [which, bin] of i % 2 ? [['after', b], ['before', a]] : [['before', a], ['after', b]]) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, FML_AB_CHILD: '1', FUSED_MULTILABEL_BINARY: resolve(bin) }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      runs[which].push(JSON.parse(r.stdout));
      console.log(which, r.stdout.trim());
    }
  const med = (v) => v.sort((p, q) => p - q)[Math.floor(v.length / 2)];
  console.log('| variant | before: fastest / median ms | after: fastest / median ms |\n|---|---|---|');
  for (const k of Object.keys(runs.before[0])) {
    const f = (w) => `${Math.min(...runs[w].map((r) => r[k])).toFixed(1)} / ${med(runs[w].map((r) => r[k])).toFixed(1)}`;
    console.log(`| ${k} | ${f('before')} | ${f('after')} |`);
  }
}
