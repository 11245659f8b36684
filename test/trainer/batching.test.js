// Length-bucketed training batches (lib/training.ts lengthBucketedOrder): the encoder's steps cost their
// batch's longest text, so the loop batches texts of similar length together. The order is a seeded
// permutation, each full batch holds texts of one pool sorted by length, a partial batch comes last, and
// a model that gives no lengths (the n-gram model) keeps the plain shuffled batches.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lengthBucketedOrder, POOL_BATCHES, runEpochs, shuffledOrder } from '../../dist/training.js';
import { resolveOptions } from '../../dist/trainer_options.js';
import { EncoderTextModel } from '../../dist/encoder_model.js';
import { Encoder, Tokenizer } from '../../dist/index.js';
import { mulberry32 } from '../../dist/random.js';

const B = 32;
const n = 1000; // 31 full batches and a partial one of 8
const r = mulberry32(5);
const lengths = Uint16Array.from({ length: n }, () => 1 + Math.floor(r() * 64));

/** Σ over consecutive batches of B of (rows × the longest length in the batch): the tokens a padded step runs. */
function paddedTokens(order) {
  let s = 0;
  for (let b = 0; b < order.length; b += B) {
    const rows = order.subarray(b, b + B);
    s += rows.length * Math.max(...Array.from(rows, (i) => lengths[i]));
  }
  return s;
}

test('lengthBucketedOrder: a permutation of one pool per full batch, sorted within, the partial batch last', () => {
  const shuffled = shuffledOrder(n, 42, 1);
  const order = lengthBucketedOrder(shuffled, lengths, B, 42, 1);
  assert.equal([...order].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  const poolOf = new Map();
  shuffled.forEach((v, i) => poolOf.set(v, Math.floor(i / (B * POOL_BATCHES))));
  const fullBatches = Math.floor(n / B);
  for (let b = 0; b < fullBatches; b++) {
    const rows = Array.from(order.subarray(b * B, (b + 1) * B));
    assert.equal(new Set(rows.map((i) => poolOf.get(i))).size, 1, `batch ${b} mixes pools`);
    for (let i = 1; i < B; i++) assert.ok(lengths[rows[i - 1]] <= lengths[rows[i]], `batch ${b} is not sorted by length`);
  }
  // the partial batch: the longest texts of the last pool, in length order
  const tail = Array.from(order.subarray(fullBatches * B));
  assert.is(tail.length, n % B);
  const lastPool = Array.from(shuffled.subarray(Math.floor((n - 1) / (B * POOL_BATCHES)) * B * POOL_BATCHES)).sort((a, b) => lengths[a] - lengths[b]);
  assert.equal(tail, lastPool.slice(-tail.length));
  // the batches come out of pool order (shuffled across the epoch)
  const firstPools = Array.from({ length: fullBatches }, (_, b) => poolOf.get(order[b * B]));
  assert.not.equal(firstPools, [...firstPools].sort((a, b) => a - b));
  // and pad far less than the shuffled batches
  const real = lengths.reduce((s, l) => s + l, 0);
  const plain = paddedTokens(shuffled) / real, bucketed = paddedTokens(order) / real;
  assert.ok(bucketed < 1.15 && plain > 1.6, `padded/real ${bucketed.toFixed(3)} bucketed against ${plain.toFixed(3)} shuffled`);
});

test('lengthBucketedOrder: the same seed and epoch give the same order, another epoch another one', () => {
  const at = (seed, epoch) => Array.from(lengthBucketedOrder(shuffledOrder(n, seed, epoch), lengths, B, seed, epoch));
  assert.equal(at(42, 1), at(42, 1));
  assert.not.equal(at(42, 1), at(42, 2));
  assert.not.equal(at(42, 1), at(43, 1));
  // fewer rows than a batch: the one partial batch, sorted
  const few = lengthBucketedOrder(Uint32Array.from([3, 1, 2]), [5, 9, 1, 7], B, 1, 1);
  assert.equal(Array.from(few), [2, 3, 1]);
});

/** A TrainableTextModel that records its batches; `withLengths` says whether it gives batchLengths. */
function recorder(withLengths) {
  const steps = [];
  const m = {
    modelType: 'fake', numLabels: 1, disposed: false, vocabSize: 1,
    async logits(texts) { return new Float32Array(texts.length); },
    async trainStep(texts) { steps.push([...texts]); return { loss: 0.5, gradNorm: 0 }; },
    snapshot() { return null; },
    restore() {},
    steps,
  };
  if (withLengths) m.batchLengths = (texts) => Uint16Array.from(texts, (t) => t.length);
  return m;
}

test('runEpochs batches by length when the model gives lengths, and plain shuffled batches when not', async () => {
  const texts = Array.from({ length: 200 }, (_, i) => 'x'.repeat(1 + ((i * 37) % 50)));
  const train = { texts, targets: new Int8Array(200) };
  const options = { ...resolveOptions({ model: 'tiny', epochs: 2, batchSize: 16, seed: 9, earlyStopping: false }) };
  const spec = (model) => ({ model, train, val: null, numLabels: 1, loss: { loss: 'bce' }, options });
  const bucketed = recorder(true);
  await runEpochs(spec(bucketed));
  assert.is(bucketed.steps.length, 2 * Math.ceil(200 / 16));
  for (const batch of bucketed.steps)
    for (let i = 1; i < batch.length; i++) assert.ok(batch[i - 1].length <= batch[i].length, 'a batch is not sorted by length');
  const epoch1 = bucketed.steps.slice(0, 13).flat().sort();
  assert.equal(epoch1, [...texts].sort(), 'an epoch sees every text once');
  const plain = recorder(false);
  await runEpochs(spec(plain));
  const order = shuffledOrder(200, 9, 1);
  assert.equal(plain.steps[0], Array.from(order.subarray(0, 16), (i) => texts[i]));
});

test('EncoderTextModel.batchLengths: each text\'s tokens in a batch (special tokens included, cut at maxLength)', async () => {
  const texts = ['the printer is broken', 'login fails', 'a much longer ticket about the printer that will not print anything at all today', ''];
  const tok = Tokenizer.train(texts, { vocabSize: 80 });
  const enc = await Encoder.create({ architecture: 'bert', vocabSize: tok.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 1, intermediateSize: 16, maxPositions: 64, numLabels: 2 }, { device: 'cpu', seed: 1 });
  try {
    const model = new EncoderTextModel(enc, tok, 12);
    const got = Array.from(model.batchLengths(texts));
    const want = texts.map((t) => Math.min(12, tok.encode(t).ids.length));
    assert.equal(got, want);
    assert.is(got[2], 12);
    assert.is(got[3], 2); // [CLS] [SEP]
  } finally {
    enc.dispose();
  }
});

test.run();
