#!/usr/bin/env node
/*
 * `npm run bench -- inference-concurrency`: Classifier.predict() called by concurrent callers, one text per
 * call (a web server's requests), against the same 64 calls awaited one by one. The Encoder's request
 * queue merges the calls that wait together into length-bucketed batches (lib/request_queue.ts,
 * lib/encoder_batching.ts). For C = 1, 8 and 64 concurrent callers, C workers share the 64 ticket texts of
 * examples/tickets.csv, each awaiting its own predict([text]) before taking the next; the figure is
 * calls per second, the median of ROUNDS rounds (each round times every C and the one-by-one loop, in
 * alternating order, so all are timed in the same minutes of a shared machine). The ceiling row is one
 * predict() call holding all 64 texts: what no merging of the 64 one-text calls can beat. Models: the tiny and small
 * presets, trained for one epoch on 200 rows (the weights do not change the speed), CPU.
 *
 *   npm run bench -- inference-concurrency
 *   ROUNDS=9 npm run bench -- inference-concurrency
 */
import { execSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset, Trainer, getThreads, deviceInfo } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.ROUNDS || 5);
const CALLERS = [1, 8, 64];
const rows = readDataset(join(root, 'examples', 'tickets.csv')).rows;
const texts = rows.slice(0, 64).map((r) => r.text);
let commit = 'unknown';
try {
  commit = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  /* not a git checkout */
}
const info = deviceInfo();
console.log(
  `concurrent predict(): ${texts.length} calls of one text, ${ROUNDS} rounds; ${cpus()[0]?.model ?? 'cpu'}, ${getThreads()} threads (${info.threads.backend}), ` +
    `commit ${commit}, ${new Date().toISOString().slice(0, 16)}Z; a shared machine: figures are noisy`,
);

/** Seconds for the 64 calls made by `callers` concurrent workers (0: awaited one by one in a plain loop; -1: one call with all texts). */
async function timeCalls(clf, callers) {
  const t0 = process.hrtime.bigint();
  if (callers === -1) await clf.predict(texts);
  else if (callers === 0) for (const t of texts) await clf.predict([t]);
  else {
    let next = 0;
    const worker = async () => {
      while (next < texts.length) await clf.predict([texts[next++]]);
    };
    await Promise.all(Array.from({ length: callers }, worker));
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const model of ['tiny', 'small']) {
  const trainer = new Trainer({ model, epochs: 1, batchSize: 16, seed: 1, earlyStopping: false, device: 'cpu' });
  await trainer.fit(rows.slice(0, 200));
  const clf = trainer.classifier;
  await timeCalls(clf, 64); // warm-up
  await timeCalls(clf, 0);
  const runs = { 0: [], '-1': [], ...Object.fromEntries(CALLERS.map((c) => [c, []])) };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [0, ...CALLERS, -1] : [-1, ...[...CALLERS].reverse(), 0];
    for (const c of order) runs[c].push(await timeCalls(clf, c));
  }
  const seq = median(runs[0]);
  console.log(`\n${model}: one by one ${(texts.length / seq).toFixed(0)} calls/s (${((seq / texts.length) * 1000).toFixed(2)} ms per call)`);
  console.log('| concurrent callers | calls/s | vs one by one (median; lowest–highest round) |');
  console.log('|---|---|---|');
  for (const c of [...CALLERS, -1]) {
    const t = median(runs[c]);
    const ratios = runs[c].map((x, i) => runs[0][i] / x);
    const name = c === -1 ? 'ceiling: 1 call of 64 texts' : c;
    console.log(`| ${name} | ${(texts.length / t).toFixed(0)} | ${(seq / t).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`);
  }
  trainer.dispose();
}
