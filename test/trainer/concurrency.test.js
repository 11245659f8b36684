// Concurrent inference: Encoder.forward and Classifier.predict/scores queue their callers (no ERR_BUSY),
// merge the waiting ones into length-bucketed batches and give every caller exactly its rows, in order,
// bit for bit what a lone call returns. Input errors reject only their caller; dispose() rejects the calls
// still waiting with ERR_DISPOSED and lets the running one finish.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Classifier, Encoder, MODEL_PRESETS, Trainer, readDataset } from '../../dist/index.js';
import { callCostTokens, lengthBuckets } from '../../dist/encoder_batching.js';
import { mulberry32 } from '../../dist/random.js';
import { assertRejectsCode } from '../helpers/assert.js';

const scratch = mkdtempSync(join(tmpdir(), 'fml-concurrency-'));
const rows = readDataset(new URL('../../examples/tickets.csv', import.meta.url).pathname).rows;
const texts = rows.slice(0, 64).map((r) => r.text);

/** Same length and every element === (bit for bit, up to the sign of zero). */
function assertSame(actual, expected, label) {
  assert.is(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) assert.ok(actual[i] === expected[i], `${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
}

/** Predictions equal: the same labels in the same order, the same scores. */
function assertSamePredictions(actual, expected, label) {
  assert.is(actual.length, expected.length);
  actual.forEach((p, i) => {
    assert.equal(p.labels, expected[i].labels, `${label} ${i}: labels`);
    assert.equal(Object.entries(p.scores), Object.entries(expected[i].scores), `${label} ${i}: scores`);
  });
}

/** A batch of B rows with random lengths in [1, T] (right padding, random ids past the mask too). */
function randomBatch(r, B, T, V) {
  const inputIds = new Int32Array(B * T);
  const attentionMask = new Uint8Array(B * T);
  for (let b = 0; b < B; b++) {
    const len = 1 + Math.floor(r() * T);
    for (let t = 0; t < T; t++) {
      inputIds[b * T + t] = 1 + Math.floor(r() * (V - 1));
      attentionMask[b * T + t] = t < len ? 1 : 0;
    }
  }
  return { inputIds, attentionMask, batchSize: B, seqLen: T };
}

test('lengthBuckets: sorted by length, at most maxRows per bucket, an outlier does not pad the rest', () => {
  const lengths = [5, 7, 6, 120, 5, 8, 6, 7];
  const b = lengthBuckets(lengths, 64, 32);
  assert.equal(b.flat().sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7], 'every row once');
  assert.equal(b[b.length - 1], [3], 'the long row alone');
  assert.equal(b[0], [0, 4, 2, 6, 1, 7, 5], 'the short rows together, by length');
  for (const bucket of lengthBuckets(Array.from({ length: 200 }, (_, i) => 10 + (i % 7)), 16, 32)) assert.ok(bucket.length <= 16);
  // a call cost above the padding saved keeps rows together; a small one splits them by length
  assert.is(lengthBuckets([10, 20, 30, 40], 64, 1000).length, 1);
  assert.is(lengthBuckets([10, 20, 30, 40], 64, 1).length, 4);
  assert.equal(lengthBuckets([], 4, 32), []);
  assert.is(callCostTokens(MODEL_PRESETS.tiny) > callCostTokens(MODEL_PRESETS.small), true);
  assert.is(callCostTokens(MODEL_PRESETS.base), 1);
});

test('Encoder.forward: 64 concurrent callers get the logits of lone calls, bit for bit, in their own order', async () => {
  for (const pooling of ['mean', 'pooler']) {
    const enc = await Encoder.create({ ...MODEL_PRESETS.tiny, pooling, vocabSize: 200, numLabels: 6 }, { device: 'cpu', seed: 4, maxBatchSize: 40 });
    const r = mulberry32(9);
    const batches = Array.from({ length: 64 }, (_, i) => randomBatch(r, 1 + (i % 3), 4 + Math.floor(r() * 40), 200));
    const lone = [];
    for (const b of batches) lone.push(await enc.forward(b));
    const together = await Promise.all(batches.map((b) => enc.forward(b)));
    together.forEach((z, i) => assertSame(z, lone[i], `${pooling}: caller ${i}`));
    enc.dispose();
  }
});

let trainer;
let clf;

test('Classifier.predict: 64 concurrent one-text callers, no ERR_BUSY, results identical to sequential calls', async () => {
  trainer = new Trainer({ model: 'tiny', epochs: 1, batchSize: 16, seed: 3, earlyStopping: false, vocabSize: 600 });
  await trainer.fit(rows.slice(0, 200));
  await trainer.save(join(scratch, 'm'));
  clf = await Classifier.load(join(scratch, 'm'), { device: 'cpu' });
  const sequential = [];
  for (const t of texts) sequential.push((await clf.predict([t]))[0]);
  const concurrent = (await Promise.all(texts.map((t) => clf.predict([t])))).map((p) => p[0]);
  assertSamePredictions(concurrent, sequential, 'caller');
  // scores of mixed-size callers
  const groups = [texts.slice(0, 1), texts.slice(1, 9), texts.slice(9, 10), texts.slice(10, 64)];
  const alone = [];
  for (const g of groups) alone.push(await clf.scores(g));
  const together = await Promise.all(groups.map((g) => clf.scores(g)));
  together.forEach((s, i) => assertSame(s, alone[i], `group ${i}`));
  // the trainer's classifier (same model, another queue user) agrees
  assertSame(await trainer.classifier.scores(texts.slice(0, 5)), await clf.scores(texts.slice(0, 5)), 'trainer.classifier');
});

test('small maxBatchSize and a wait window: still every caller its own rows', async () => {
  const c = await Classifier.load(join(scratch, 'm'), { device: 'cpu', maxBatchSize: 3, maxWaitMs: 5 });
  const expected = await clf.scores(texts.slice(0, 20));
  const got = await Promise.all(texts.slice(0, 20).map((t) => c.scores([t])));
  got.forEach((s, i) => assertSame(s, expected.subarray(i * c.labels.length, (i + 1) * c.labels.length), `caller ${i}`));
  c.dispose();
  // a lone call's texts are tokenized and bucketed 16 batches at a time: batchSize 2 gives windows of 32
  assertSame(await clf.scores(texts, 2), await clf.scores(texts), 'windows of 32 texts vs one window');
  await assertRejectsCode(() => Classifier.load(join(scratch, 'm'), { maxBatchSize: 0 }), 'ERR_INVALID_ARG', RangeError, /options\.maxBatchSize/);
  await assertRejectsCode(() => Classifier.load(join(scratch, 'm'), { maxWaitMs: -1 }), 'ERR_INVALID_ARG', RangeError, /options\.maxWaitMs/);
});

test("a caller's bad input rejects that caller only", async () => {
  const calls = texts.slice(0, 10).map((t, i) => (i === 4 ? clf.predict([t, 42]) : i === 7 ? clf.predict(t) : clf.predict([t])));
  const settled = await Promise.allSettled(calls);
  assert.is(settled[4].status, 'rejected');
  assert.is(settled[4].reason.code, 'ERR_INVALID_ARG');
  assert.match(settled[4].reason.message, /texts\[1\]/);
  assert.is(settled[7].reason.code, 'ERR_INVALID_ARG');
  const expected = await clf.predict(texts.slice(0, 10));
  settled.forEach((s, i) => {
    if (i !== 4 && i !== 7) assertSamePredictions(s.value, [expected[i]], `caller ${i}`);
  });
});

test('dispose: waiting calls reject with ERR_DISPOSED, the running one finishes', async () => {
  const c = await Classifier.load(join(scratch, 'm'), { device: 'cpu' });
  const expected = await clf.scores(texts.slice(0, 1));
  const running = c.scores(texts.slice(0, 1));
  await new Promise((r) => setImmediate(r)); // the queue starts its batch: the native forward is in flight
  const waiting = Promise.allSettled([c.predict([texts[1]]), c.scores([texts[2]])]);
  c.dispose();
  assertSame(await running, expected, 'the running call completes with its result');
  for (const w of await waiting) assert.ok(w.status === 'rejected' && w.reason.code === 'ERR_DISPOSED' && /disposed/.test(w.reason.message), String(w.reason));
  await assertRejectsCode(() => c.predict([texts[0]]), 'ERR_DISPOSED', Error);
  // disposed before anything started: every queued call rejects
  const d = await Classifier.load(join(scratch, 'm'), { device: 'cpu' });
  const queued = Promise.allSettled(texts.slice(0, 5).map((t) => d.predict([t])));
  d.dispose();
  for (const q of await queued) assert.ok(q.status === 'rejected' && q.reason.code === 'ERR_DISPOSED', String(q.reason));
});

test.after(() => {
  clf?.dispose();
  trainer?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

test.run();
