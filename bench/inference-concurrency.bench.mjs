#!/usr/bin/env node
/*
 * `npm run bench -- inference-concurrency`: Classifier.predict() called by concurrent callers, one text per
 * call (a web server's requests), against the same 64 calls awaited one by one. The model's request queue
 * merges the calls that wait together into batches (lib/request_queue.ts; the encoder's in length buckets,
 * lib/encoder_batching.ts). For C = 1, 8 and 64 concurrent callers, C workers share the 64 ticket texts of
 * examples/tickets.csv, each awaiting its own predict([text]) before taking the next; the figure is calls per
 * second, the median of ROUNDS rounds (each round times every C and the one-by-one loop, in alternating
 * order, so all are timed in the same minutes of a shared machine; a timing repeats the 64 calls until it
 * lasts at least 200 ms). The ceiling row is one predict() call holding all 64 texts: what no merging of the
 * 64 one-text calls can beat. Every round also checks that the concurrent callers got exactly the
 * one-by-one results. Models: the ensemble of both (what `auto` picks up to 100,000 training rows; without
 * validation data its weights are equal), the n-gram model and the tiny encoder, trained for one epoch
 * on 200 rows (the weights do not change the speed), CPU; MODELS=ngram,tiny,small picks others.
 *
 *   npm run bench -- inference-concurrency
 *   ROUNDS=9 MODELS=ngram,tiny,small npm run bench -- inference-concurrency
 */
import { execSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset, Trainer, getThreads, deviceInfo } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.ROUNDS || 7);
const MODELS = (process.env.MODELS || 'ensemble,ngram,tiny').split(',');
const CALLERS = [1, 8, 64];
const rows = readDataset(join(root, 'examples', 'tickets.csv')).rows;
const texts = rows.slice(0, 64).map((r) => r.text);
let commit = 'unknown';
try {
  commit = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  /* not a git checkout */
}
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const info = deviceInfo();
console.log(
  `concurrent predict(): ${texts.length} calls of one text, ${ROUNDS} rounds; ${cpus()[0]?.model ?? 'cpu'}, ${getThreads()} threads (${info.threads.backend}), ` +
    `sgemm ${info.sgemm}, commit ${commit}, ${new Date().toISOString().slice(0, 16)}Z, load average ${load()}; a shared machine: figures are noisy`,
);

/** The predictions of the 64 calls made by `callers` concurrent workers (0: awaited one by one; -1: one call with all texts). */
async function run(clf, callers) {
  if (callers === -1) return clf.predict(texts);
  const out = new Array(texts.length);
  if (callers === 0) for (let i = 0; i < texts.length; i++) out[i] = (await clf.predict([texts[i]]))[0];
  else {
    let next = 0;
    const worker = async () => {
      while (next < texts.length) {
        const i = next++;
        out[i] = (await clf.predict([texts[i]]))[0];
      }
    };
    await Promise.all(Array.from({ length: callers }, worker));
  }
  return out;
}

/** Seconds per 64 calls, the set repeated `reps` times. */
async function timeCalls(clf, callers, reps) {
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) await run(clf, callers);
  return Number(process.hrtime.bigint() - t0) / 1e9 / reps;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const same = (a, b) => a.length === b.length && a.every((p, i) => JSON.stringify(p) === JSON.stringify(b[i]));

for (const model of MODELS) {
  const trainer = new Trainer({ model, epochs: 1, batchSize: 16, seed: 1, earlyStopping: false, device: 'cpu' });
  await trainer.fit(rows.slice(0, 200));
  const clf = trainer.classifier;
  const reference = await run(clf, 0);
  await timeCalls(clf, 64, 2); // warm-up
  const reps = Math.max(1, Math.ceil(0.2 / (await timeCalls(clf, 0, 1))));
  const loadBefore = load();
  const runs = { 0: [], '-1': [], ...Object.fromEntries(CALLERS.map((c) => [c, []])) };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [0, ...CALLERS, -1] : [-1, ...[...CALLERS].reverse(), 0];
    for (const c of order) runs[c].push(await timeCalls(clf, c, reps));
    for (const c of CALLERS) if (!same(await run(clf, c), reference)) throw new Error(`${model}: ${c} concurrent callers did not get the one-by-one results`);
  }
  const seq = median(runs[0]);
  console.log(
    `\n${model}: one by one ${(texts.length / seq).toFixed(0)} calls/s (${((seq / texts.length) * 1000).toFixed(3)} ms per call; best round ${((Math.min(...runs[0]) / texts.length) * 1000).toFixed(3)} ms); ` +
      `${reps} × 64 calls per timing; load average ${loadBefore} before, ${load()} after; concurrent results === one by one: yes`,
  );
  console.log('| concurrent callers | calls/s | vs one by one: median (lowest–highest round) | best round vs best round |');
  console.log('|---|---|---|---|');
  for (const c of [...CALLERS, -1]) {
    const t = median(runs[c]);
    const ratios = runs[c].map((x, i) => runs[0][i] / x);
    const name = c === -1 ? 'ceiling: 1 call of 64 texts' : c;
    console.log(
      `| ${name} | ${(texts.length / t).toFixed(0)} | ${(seq / t).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${(Math.min(...runs[0]) / Math.min(...runs[c])).toFixed(2)}× |`,
    );
  }
  trainer.dispose();
}
