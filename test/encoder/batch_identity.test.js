// A row's logits are the same bits whatever batch it runs in: alone, padded to a longer length, merged with
// other callers' rows into length buckets (Encoder.forward called concurrently), with 1 or 2 threads (and
// training steps give the same parameters at 1, 2 and 3 threads). Every
// architecture and pooling (tiny dimensions; the small preset's for two), lengths across SGEMM's K block
// (256), rows with interior padding and rows with no real token, batches padded on the right only (which the
// inference forward runs on packed rows, skipping the padding); and the n-gram model's merged forward.
// Re-run in child processes under the forced AVX2 and portable SGEMM paths.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder, MODEL_PRESETS, deviceInfo, getThreads, setThreads } from '../../dist/index.js';
import { mulberry32 } from '../../dist/random.js';
import { NGRAM_DEFAULTS, NgramTextModel } from '../../dist/ngram_model.js';
import { assertBitwise, paddedBatch, rowOf } from '../helpers/encoder_batches.js';

const V = 300;
const CONFIGS = [
  ['bert', 'mean'],
  ['bert', 'pooler'],
  ['bert', 'cls'],
  ['distilbert', 'mean'],
  ['distilbert', 'pooler'],
  ['distilbert', 'cls'],
];

/**
 * B rows padded to T: lengths in [1, maxLen], random ids past the mask too, a masked hole in some rows unless
 * `holes` is false (right padding only: the inference forward then runs on the packed real tokens).
 */
function randomBatch(r, B, T, maxLen = T, withHoles = true) {
  const lengths = Array.from({ length: B }, () => 1 + Math.floor(r() * maxLen));
  const holes = lengths.map((len) => (withHoles && r() < 0.3 && len > 3 ? 1 + Math.floor(r() * (len - 2)) : -1));
  return paddedBatch(r, T, lengths, holes, V);
}

function lastReal(batch, b) {
  for (let t = batch.seqLen - 1; t >= 0; t--) if (batch.attentionMask[b * batch.seqLen + t]) return t + 1;
  return 0;
}

async function encoderFor(arch, pooling, maxBatchSize = 64, preset = 'tiny') {
  const config = { ...MODEL_PRESETS[preset], architecture: arch, pooling, vocabSize: V, numLabels: 5, ...(arch === 'distilbert' ? { typeVocabSize: 0 } : {}) };
  return Encoder.create(config, { device: 'cpu', seed: 11, maxBatchSize });
}

const strip = (b, arch) => (arch === 'distilbert' ? { ...b, tokenTypeIds: undefined } : b);

for (const [arch, pooling] of CONFIGS) {
  test(`${arch}/${pooling}: a row alone, padded past 256 positions, or in a batch of 4 gives the same bits`, async () => {
    const enc = await encoderFor(arch, pooling);
    const r = mulberry32(arch.length * 7 + pooling.length);
    const K = enc.config.numLabels;
    for (const [B, T, maxLen, holes] of [[4, 300, 300], [4, 40, 40], [3, 290, 30], [5, 300, 300, false], [4, 40, 40, false]]) {
      const batch = strip(randomBatch(r, B, T, maxLen, holes), arch);
      const together = await enc.forward(batch);
      for (let b = 0; b < B; b++) {
        const own = lastReal(batch, b);
        const alone = await enc.forward(strip(rowOf(batch, b, own), arch));
        assertBitwise(together.subarray(b * K, (b + 1) * K), alone, `B${B} T${T} row ${b} (length ${own})`);
        const padTo = own < 290 ? 300 : 512; // across SGEMM's K block of 256
        assertBitwise(await enc.forward(strip(rowOf(batch, b, padTo), arch)), alone, `row ${b} (length ${own}) padded to ${padTo}`);
      }
    }
    enc.dispose();
  });

  test(`${arch}/${pooling}: 64 concurrent callers get a lone call's bits, in their order`, async () => {
    const enc = await encoderFor(arch, pooling, 40);
    const r = mulberry32(5 + pooling.length);
    const batches = Array.from({ length: 64 }, (_, i) => strip(randomBatch(r, 1 + (i % 3), 4 + Math.floor(r() * (i % 16 === 0 ? 280 : 40))), arch));
    // a row with no real token: uniform attention over its own padded length, kept in the merged run
    batches[5].attentionMask.fill(0, 0, batches[5].seqLen);
    const lone = [];
    for (const b of batches) lone.push(await enc.forward(b));
    const together = await Promise.all(batches.map((b) => enc.forward(b)));
    together.forEach((z, i) => assertBitwise(z, lone[i], `caller ${i}`));
    enc.dispose();
  });
}

test("small preset (K 1024 spans four SGEMM K blocks, N 256 split over threads): a row alone, in a batch, merged", async () => {
  for (const [arch, pooling] of [['bert', 'mean'], ['distilbert', 'cls']]) {
    const enc = await encoderFor(arch, pooling, 64, 'small');
    const r = mulberry32(21);
    const K = enc.config.numLabels;
    const batch = strip(randomBatch(r, 3, 40), arch);
    const together = await enc.forward(batch);
    const lone = [];
    for (let b = 0; b < 3; b++) {
      lone.push(await enc.forward(strip(rowOf(batch, b, lastReal(batch, b)), arch)));
      assertBitwise(together.subarray(b * K, (b + 1) * K), lone[b], `${arch}/${pooling} row ${b} in its batch`);
    }
    assertBitwise(await enc.forward(strip(rowOf(batch, 0, 260), arch)), lone[0], `${arch}/${pooling} row 0 padded to 260`);
    const merged = await Promise.all([0, 1, 2].map((b) => enc.forward(strip(rowOf(batch, b, 40), arch))));
    merged.forEach((z, b) => assertBitwise(z, lone[b], `${arch}/${pooling} merged caller ${b}`));
    enc.dispose();
  }
});

test('n-gram model: 64 concurrent callers (merged into one forward) get a lone call\'s bits', async () => {
  const model = NgramTextModel.create({ ...NGRAM_DEFAULTS, buckets: 1 << 14, hidden: 16 }, 7, 5);
  const r = mulberry32(8);
  const words = ['refund', 'login', 'crash', 'the', 'app', 'Über', 'naïve', '😀', 'csv', 'export', '!', 'ok'];
  const texts = Array.from({ length: 64 }, (_, i) => Array.from({ length: (i * 7) % 23 }, () => words[Math.floor(r() * words.length)]).join(' '));
  const lone = [];
  for (const t of texts) lone.push(await model.logits([t]));
  const together = await Promise.all(texts.map((t) => model.logits([t])));
  together.forEach((z, i) => assertBitwise(z, lone[i], `caller ${i}`));
  assertBitwise(await model.logits(texts, { batchSize: 5 }), Float32Array.from(lone.flatMap((z) => [...z])), 'one call, 5 texts per request');
  model.dispose();
});

test('encoders running at the same time (one on the thread pool, the others inline) give their lone bits', async () => {
  // each forward runs on a libuv thread of its own; the native thread pool serves one caller at a time and the
  // others run the same chunks on their own thread (native/core/parallel.cpp)
  const encs = await Promise.all([encoderFor('bert', 'mean'), encoderFor('bert', 'pooler'), encoderFor('distilbert', 'cls', 64, 'small')]);
  const batches = encs.map((e, i) => strip(randomBatch(mulberry32(20 + i), 12, 80), e.config.architecture));
  const lone = [];
  for (let i = 0; i < encs.length; i++) lone.push(await encs[i].forward(batches[i]));
  for (let round = 0; round < 3; round++) {
    const together = await Promise.all(encs.map((e, i) => e.forward(batches[i])));
    together.forEach((z, i) => assertBitwise(z, lone[i], `encoder ${i}, round ${round}`));
  }
  for (const e of encs) e.dispose();
});

test('one, two, three and eight threads give the same bits', async () => {
  const before = getThreads();
  try {
    const enc = await encoderFor('bert', 'mean');
    // 24 texts of random lengths: past the size that runs on the calling thread alone
    const batch = randomBatch(mulberry32(3), 24, 64);
    setThreads(1);
    const one = await enc.forward(batch);
    const small = randomBatch(mulberry32(4), 3, 40); // fewer chunks than threads: some workers sit jobs out
    const oneSmall = await enc.forward(small);
    for (const n of [2, 3, 8]) {
      setThreads(n);
      for (let rep = 0; rep < 3; rep++) {
        assertBitwise(await enc.forward(batch), one, `${n} threads vs 1`);
        assertBitwise(await enc.forward(small), oneSmall, `${n} threads vs 1, 3 rows`);
      }
    }
    enc.dispose();
  } finally {
    setThreads(before);
  }
});

// Training too: the reductions across rows (LayerNorm's weight gradients, the gradient norm) sum in fixed
// blocks, not one per thread, so a seed trains the same model at any thread count (dropout and clipping on).
test('training steps (dropout, clipping, AdamW) give the same parameters at one, two and three threads', async () => {
  const before = getThreads();
  try {
    const runs = [];
    for (const n of [1, 2, 3]) {
      setThreads(n);
      const params = [];
      for (const [arch, pooling] of [['bert', 'mean'], ['distilbert', 'cls']]) {
        const enc = await encoderFor(arch, pooling);
        const r = mulberry32(5);
        const batch = strip(randomBatch(r, 24, 150, 150, false), arch);
        const targets = Uint8Array.from({ length: 24 * enc.config.numLabels }, () => (r() < 0.3 ? 1 : 0));
        for (let step = 0; step < 4; step++) await enc.trainStep(batch, targets, undefined, { lr: 3e-3, weightDecay: 0.01, maxGradNorm: 0.5 });
        params.push(enc.parameters());
        enc.dispose();
      }
      runs.push(params);
    }
    for (const n of [1, 2])
      runs[n].forEach((ps, m) => {
        for (const [name, t] of ps) assertBitwise(t, runs[0][m].get(name), `${n + 1} threads vs 1: model ${m}, ${name}`);
      });
  } finally {
    setThreads(before);
  }
});

if (!process.env.FUSED_MULTILABEL_IDENTITY_CHILD) {
  const self = fileURLToPath(import.meta.url);
  for (const [env, want] of [['FUSED_MULTILABEL_NO_AVX512', /^(avx2 6x16|portable \dx8)$/], ['FUSED_MULTILABEL_NO_AVX2', /^portable \dx8$/]]) {
    test(`the same checks pass with ${env}=1 (${want.source})`, () => {
      const r = spawnSync(process.execPath, [self], { env: { ...process.env, [env]: '1', FUSED_MULTILABEL_IDENTITY_CHILD: '1' }, encoding: 'utf8' });
      assert.is(r.status, 0, `${env}: ${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
      const m = r.stdout.match(/^sgemm path: (.*)$/m);
      assert.ok(m, 'the child printed its SGEMM path');
      assert.match(m[1], want);
      assert.match(r.stdout, /Passed:\s+[1-9]\d*/);
    });
  }
}

console.log(`sgemm path: ${deviceInfo().sgemm}`);
test.run();
