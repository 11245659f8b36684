// The inference attention kernels (native/ops/attention_cpu.cpp: AVX-512, its AVX2+FMA twin, or the generic
// SGEMM path; deviceInfo().attention names the one in use) against the generic path, which a training
// forward always takes: with every dropout at 0 the two forwards differ only in attention's rounding. Head
// sizes 16, 32 and 64, lengths that are not multiples of 8 or 16, rows with interior padding, rows with no
// real key (uniform attention) and one real key, and query/key weights scaled up so the softmax is sharp
// (scores spread over tens of units); batches padded on the right only, which the inference forward runs on
// packed rows (native/model/encoder.cpp: no padded row computed). With a cls or pooler head the inference
// forward runs the last layer on each text's first token only (its keys and values on every row), so the
// agreement covers that path too, on packed and padded batches. Then the batch
// contract at each head size: a short text alone, padded, in a batch with a longer one and merged with
// concurrent callers gives the same bits. The feed-forward is 4 × hidden, as in BERT: at hidden 128 that is 512,
// where the inference arena pads the GELU rows to 528 floats so fc2 reads them in place (encoder.cpp gel_stride)
// and the training forward packs them. Run on the default path here and again in child processes with
// FUSED_MULTILABEL_NO_AVX512=1 (the AVX2 kernel, where the CPU has AVX2+FMA) and FUSED_MULTILABEL_NO_AVX2=1.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder, deviceInfo } from '../../dist/index.js';
import { mulberry32 } from '../../dist/random.js';
import { assertClose } from '../helpers/assert.js';
import { assertBitwise, paddedBatch, rowOf } from '../helpers/encoder_batches.js';

const V = 200;
const HEADS = [
  // [head size, hiddenSize, numHeads]
  [16, 64, 4],
  [32, 64, 2],
  [64, 128, 2],
];

async function encoderFor(hiddenSize, numHeads, pooling = 'mean') {
  const config = {
    architecture: 'bert', hiddenSize, numLayers: 2, numHeads, intermediateSize: 4 * hiddenSize, maxPositions: 160,
    typeVocabSize: 2, pooling, vocabSize: V, numLabels: 6, hiddenDropout: 0, attentionDropout: 0, classifierDropout: 0,
  };
  const enc = await Encoder.create(config, { device: 'cpu', seed: 5 + numHeads });
  // sharpen the attention: scores = (x Wq)·(x Wk) / √HS grow with the square of the factor
  const sharp = new Map();
  for (const [name, w] of enc.parameters()) if (/attention\.self\.(query|key)\.weight$/.test(name)) sharp.set(name, w.map((x) => x * 20));
  assert.ok(sharp.size === 4, 'query and key weights of both layers found');
  enc.setParameters(sharp);
  return enc;
}

/**
 * Rows padded to T with these lengths (0: no real token), random ids, a masked hole in some rows unless
 * `holes` is false: then every row's real tokens are a prefix, and the inference forward runs on packed rows.
 */
function batchOf(r, T, lengths, holes = true) {
  const at = lengths.map((len, b) => (holes && len > 4 && b % 2 === 0 ? 1 + Math.floor(r() * (len - 2)) : -1));
  return paddedBatch(r, T, lengths, at, V);
}

const path = deviceInfo().attention;
console.log(`attention path: ${path}`);

// Mean pooling leaves out the rows of a text with no real token (its logits do not see attention there);
// the first token's state (cls, pooler) does not.
async function agreement(HS, hidden, heads, pooling) {
  const enc = await encoderFor(hidden, heads, pooling);
  const r = mulberry32(HS);
  // T 5 (under one vector), 13, 37 and 100 (not multiples of 8 or 16), 150 (across 128); lengths: full, 1,
  // none (uniform over all T keys), interior holes, short rows whose keys end long before T
  // Without holes or empty rows the inference forward packs the real tokens (no padded rows computed).
  const packed = [[5, [5, 1, 3]], [37, [37, 36, 17, 2, 33]], [150, [150, 129, 15]]].map(([T, lengths]) => [T, lengths, false]);
  for (const [T, lengths, holes] of [[5, [5, 1, 0, 3]], [13, [13, 7, 0, 1, 9]], [37, [37, 36, 17, 0, 2, 33]], [100, [100, 91, 8, 0, 64]], [150, [150, 129, 15]], ...packed]) {
    const batch = batchOf(r, T, lengths, holes);
    const infer = await enc.forward(batch);
    const generic = await enc.forward(batch, { train: true });
    assert.ok(infer.some((x, i) => x !== generic[i]) || path === 'generic', 'the two forwards ran different kernels');
    assertClose(infer, generic, { atol: 1e-5, rtol: 1e-5, label: `HS ${HS} ${pooling} T ${T} lengths ${lengths}` });
  }
  enc.dispose();
}

for (const [HS, hidden, heads] of HEADS) {
  test(`head size ${HS}: the inference forward (${path}) agrees with the generic path (mean, cls and pooler heads)`, async () => {
    for (const pooling of ['mean', 'cls', 'pooler']) await agreement(HS, hidden, heads, pooling);
  });

  test(`head size ${HS}: a short text gets the same bits alone, padded, batched with a longer one, merged`, async () => {
    for (const pooling of ['mean', 'cls']) await identity(HS, hidden, heads, pooling);
  });
}

async function identity(HS, hidden, heads, pooling) {
  const enc = await encoderFor(hidden, heads, pooling);
  const r = mulberry32(100 + HS);
  const K = enc.config.numLabels;
  for (const [T, lengths, holes] of [[45, [45, 3, 19, 0]], [130, [7, 130, 33, 70]], [45, [45, 3, 19, 1], false], [130, [7, 130, 33, 70], false]]) {
    const batch = batchOf(r, T, lengths, holes);
    const together = await enc.forward(batch);
    const lone = [];
    for (let b = 0; b < lengths.length; b++) {
      const own = lengths[b] || T; // a row with no real key is only ever run at its own padded length
      const alone = await enc.forward(rowOf(batch, b, own));
      lone.push(alone);
      assertBitwise(together.subarray(b * K, (b + 1) * K), alone, `${pooling} T ${T} row ${b} (length ${lengths[b]}) in its batch`);
      if (lengths[b]) assertBitwise(await enc.forward(rowOf(batch, b, own + 11)), alone, `${pooling} row ${b} padded by 11`);
    }
    // concurrent callers, one row each at its own length: merged into length buckets
    const merged = await Promise.all(lengths.map((len, b) => enc.forward(rowOf(batch, b, len || T))));
    merged.forEach((z, b) => assertBitwise(z, lone[b], `${pooling} T ${T} merged caller ${b}`));
  }
  enc.dispose();
}

if (!process.env.FUSED_MULTILABEL_ATTENTION_CHILD) {
  const self = fileURLToPath(import.meta.url);
  const probe = (env) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', `import('${new URL('../../dist/index.js', import.meta.url)}').then((m) => console.log(m.deviceInfo().attention))`], { env: { ...process.env, [env]: '1' }, encoding: 'utf8' }).stdout.trim();
  const avx2 = probe('FUSED_MULTILABEL_NO_AVX512');
  const noAvx2 = avx2 === 'avx2' ? null : `with FUSED_MULTILABEL_NO_AVX512=1 this CPU runs '${avx2}' (no AVX2+FMA, or FUSED_MULTILABEL_NO_AVX2 is set)`;
  if (noAvx2) console.log(`skipping the AVX2 attention kernel's checks: ${noAvx2}`);
  for (const [env, want, skip] of [['FUSED_MULTILABEL_NO_AVX512', 'avx2', noAvx2], ['FUSED_MULTILABEL_NO_AVX2', 'generic', null]]) {
    (skip ? test.skip : test)(`the same checks pass with ${env}=1 (attention path ${want})`, () => {
      const r = spawnSync(process.execPath, [self], { env: { ...process.env, [env]: '1', FUSED_MULTILABEL_ATTENTION_CHILD: '1' }, encoding: 'utf8' });
      assert.is(r.status, 0, `${env}: ${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
      assert.match(r.stdout, new RegExp(`^attention path: ${want}$`, 'm'));
      assert.match(r.stdout, /Passed:\s+6\b/);
    });
  }
}

test.run();
