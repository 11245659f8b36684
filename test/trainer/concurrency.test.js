// Concurrent inference on both model kinds (the n-gram model, the default, and the tiny encoder):
// Classifier.predict/scores queue their callers (no ERR_BUSY), merge the waiting ones into batches (the
// encoder's in length buckets) and give every caller exactly its rows, in order, bit for bit what a lone call
// returns. Input errors reject only their caller; dispose() rejects the calls still waiting with
// ERR_DISPOSED and lets the running one finish. Batching options reach Classifier.load and trainer.classifier.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Classifier, Encoder, MODEL_PRESETS, Trainer, deviceInfo, readDataset } from '../../dist/index.js';
import { callCostTokens, lengthBuckets } from '../../dist/encoder_batching.js';
import { loadBinding } from '../../dist/binding.js';
import { assertRejectsCode, assertThrowsCode } from '../helpers/assert.js';

const scratch = mkdtempSync(join(tmpdir(), 'fml-concurrency-'));
const rows = readDataset(new URL('../../examples/tickets.csv', import.meta.url).pathname).rows;
const texts = rows.slice(0, 64).map((r) => r.text);
const KINDS = ['ngram', 'tiny'];

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

/** Runs fn while counting the n-gram model's native forwards (the bag sizes). */
async function bagCalls(fn) {
  const native = loadBinding();
  const original = native.embeddingBagForward;
  const sizes = [];
  native.embeddingBagForward = (...args) => (sizes.push(args[6]), original(...args));
  try {
    await fn();
  } finally {
    native.embeddingBagForward = original;
  }
  return sizes;
}

test('Encoder.skipsPadding: on the CPU where attention has its vector kernel (head size 16, 32, 64), not at head size 40', async () => {
  const cpu = deviceInfo().attention;
  const vector = cpu === 'avx512' || cpu === 'avx2';
  const base = { architecture: 'bert', vocabSize: 50, numLayers: 1, intermediateSize: 64, maxPositions: 16, numLabels: 2 };
  for (const [hiddenSize, numHeads, want] of [[64, 4, vector], [64, 2, vector], [64, 1, vector], [80, 2, false]]) {
    const enc = await Encoder.create({ ...base, hiddenSize, numHeads }, { device: 'cpu' });
    assert.is(enc.skipsPadding, want, `head size ${hiddenSize / numHeads} on ${cpu}`);
    enc.dispose();
  }
});

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
  // free padding (the CPU forward packs real tokens): the outlier joins the rest, and 200 rows fill 13 buckets of 16
  assert.is(lengthBuckets(lengths, 64, 32, 0).length, 1);
  assert.is(lengthBuckets(Array.from({ length: 200 }, (_, i) => 10 + (i % 7)), 16, 1, 0).length, 13);
  assert.is(callCostTokens(MODEL_PRESETS.tiny) > callCostTokens(MODEL_PRESETS.small), true);
  assert.is(callCostTokens(MODEL_PRESETS.base), 1);
});

const trained = {};

test.before(async () => {
  for (const model of KINDS) {
    const trainer = new Trainer({ model, epochs: 1, batchSize: 16, seed: 3, earlyStopping: false, vocabSize: 600 });
    await trainer.fit(rows.slice(0, 200));
    const dir = join(scratch, model);
    await trainer.save(dir);
    trained[model] = { trainer, dir, clf: await Classifier.load(dir, { device: 'cpu' }) };
  }
});

for (const kind of KINDS) {
  test(`${kind}: 64 concurrent one-text predict() callers: no ERR_BUSY, each its own row, === sequential calls`, async () => {
    const { clf, trainer } = trained[kind];
    const sequential = [];
    const seqBags = await bagCalls(async () => {
      for (const t of texts) sequential.push((await clf.predict([t]))[0]);
    });
    let settled;
    const bags = await bagCalls(async () => {
      settled = await Promise.allSettled(texts.map((t) => clf.predict([t])));
    });
    settled.forEach((s, i) => assert.is(s.status, 'fulfilled', `caller ${i}: ${s.reason}`));
    assertSamePredictions(settled.map((s) => s.value[0]), sequential, 'caller');
    if (kind === 'ngram') {
      assert.equal(seqBags, Array(64).fill(1), 'one forward per sequential call');
      assert.equal(bags, [64], 'the 64 concurrent calls ran as one forward');
    }
    // callers of several texts each, and the trainer's own classifier (another queue user of the same model)
    const groups = [texts.slice(0, 1), texts.slice(1, 9), texts.slice(9, 10), texts.slice(10, 64)];
    const alone = [];
    for (const g of groups) alone.push(await clf.scores(g));
    const together = await Promise.all(groups.map((g) => clf.scores(g)));
    together.forEach((s, i) => assertSame(s, alone[i], `group ${i}`));
    assertSame(await trainer.classifier.scores(texts.slice(0, 5)), await clf.scores(texts.slice(0, 5)), 'trainer.classifier');
  });

  test(`${kind}: maxBatchSize and a wait window (Classifier.load and Trainer options): still every caller its own rows`, async () => {
    const { clf, dir } = trained[kind];
    const c = await Classifier.load(dir, { device: 'cpu', maxBatchSize: 3, maxWaitMs: 5 });
    const expected = await clf.scores(texts.slice(0, 20));
    let got;
    const bags = await bagCalls(async () => {
      got = await Promise.all(texts.slice(0, 20).map((t) => c.scores([t])));
    });
    got.forEach((s, i) => assertSame(s, expected.subarray(i * c.labels.length, (i + 1) * c.labels.length), `caller ${i}`));
    if (kind === 'ngram') assert.equal(bags, [3, 3, 3, 3, 3, 3, 2], 'batches of at most maxBatchSize rows');
    c.dispose();
    // a lone call's texts go batchSize at a time (encoder: tokenized and bucketed 16 batches at a time)
    assertSame(await clf.scores(texts, 2), await clf.scores(texts), 'batchSize 2 vs the default');
    await assertRejectsCode(() => Classifier.load(dir, { maxBatchSize: 0 }), 'ERR_INVALID_ARG', RangeError, /options\.maxBatchSize/);
    await assertRejectsCode(() => Classifier.load(dir, { maxWaitMs: -1 }), 'ERR_INVALID_ARG', RangeError, /options\.maxWaitMs/);
  });

  test(`${kind}: a caller's bad input rejects that caller only`, async () => {
    const { clf } = trained[kind];
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

  test(`${kind}: dispose: waiting calls reject with ERR_DISPOSED, the running one finishes`, async () => {
    const { clf, dir } = trained[kind];
    const c = await Classifier.load(dir, { device: 'cpu' });
    const expected = await clf.scores(texts.slice(0, 1));
    const running = c.scores(texts.slice(0, 1));
    await new Promise((r) => setImmediate(r)); // the queue starts its batch (the encoder's native forward is in flight)
    const waiting = Promise.allSettled([c.predict([texts[1]]), c.scores([texts[2]])]);
    c.dispose();
    assertSame(await running, expected, 'the running call completes with its result');
    for (const w of await waiting) assert.ok(w.status === 'rejected' && w.reason.code === 'ERR_DISPOSED' && /disposed/.test(w.reason.message), String(w.reason));
    await assertRejectsCode(() => c.predict([texts[0]]), 'ERR_DISPOSED', Error);
    // disposed before anything started: every queued call rejects
    const d = await Classifier.load(dir, { device: 'cpu' });
    const queued = Promise.allSettled(texts.slice(0, 5).map((t) => d.predict([t])));
    d.dispose();
    for (const q of await queued) assert.ok(q.status === 'rejected' && q.reason.code === 'ERR_DISPOSED', String(q.reason));
    // disposed between the pieces of one long call: the rest of it rejects, nothing crashes
    const e = await Classifier.load(dir, { device: 'cpu' });
    const long = e.scores(texts, 2);
    await new Promise((r) => setImmediate(r));
    e.dispose();
    await assertRejectsCode(() => long, 'ERR_DISPOSED', Error);
  });
}

test('Trainer options maxBatchSize/maxWaitMs: checked up front, and trainer.classifier batches by them', async () => {
  assertThrowsCode(() => new Trainer({ maxBatchSize: 0 }), 'ERR_INVALID_ARG', RangeError, /options\.maxBatchSize.*received/);
  assertThrowsCode(() => new Trainer({ maxBatchSize: '4' }), 'ERR_INVALID_ARG', TypeError, /options\.maxBatchSize/);
  assertThrowsCode(() => new Trainer({ maxWaitMs: -5 }), 'ERR_INVALID_ARG', RangeError, /options\.maxWaitMs.*received/);
  const t = new Trainer({ model: 'ngram', epochs: 1, seed: 3, earlyStopping: false, maxBatchSize: 5, maxWaitMs: 2 });
  await t.fit(rows.slice(0, 200));
  const expected = await t.classifier.scores(texts.slice(0, 12));
  let got;
  const bags = await bagCalls(async () => {
    got = await Promise.all(texts.slice(0, 12).map((x) => t.classifier.scores([x])));
  });
  assert.equal(bags, [5, 5, 2]);
  got.forEach((s, i) => assertSame(s, expected.subarray(i * s.length, (i + 1) * s.length), `caller ${i}`));
  t.dispose();
});

test.after(() => {
  for (const { trainer, clf } of Object.values(trained)) {
    clf.dispose();
    trainer.dispose();
  }
  rmSync(scratch, { recursive: true, force: true });
});

test.run();
