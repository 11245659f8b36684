// Masked-LM pre-training (lib/mlm.ts): BERT's masking statistics, `pretrain` (API) writing a Hugging Face
// BertForMaskedLM directory, reproducibility, further pre-training from a directory, fine-tuning from it
// ({ pretrained } and Trainer pretrainEpochs), the CLI's `pretrain` and `train --pretrain-epochs`, and
// bad input rejected before any work.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Classifier, Trainer, maskBatch, pretrain, readSafetensors } from '../../dist/index.js';
import { mulberry32 } from '../../dist/random.js';
import { assertRejectsCode } from '../helpers/assert.js';
import { cliRunner, fails } from '../helpers/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'fml-pretrain-'));
const SMALL = { hiddenSize: 32, numLayers: 1, numHeads: 2, intermediateSize: 64 };
const texts = Array.from({ length: 240 }, (_, i) => `the ${['cat', 'dog', 'bird', 'fish'][i % 4]} sat on the ${['mat', 'log', 'tree'][i % 3]} near number ${i % 17}`);
const rows = texts.map((text, i) => ({ text, labels: [i % 4 === 0 ? 'pet' : 'wild', ...(i % 3 === 0 ? ['mat'] : [])] }));
const base = { texts, model: SMALL, epochs: 3, batchSize: 16, vocabSize: 120, device: 'cpu', seed: 5 };

const run = cliRunner(scratch);
const rejects = (fn, Ctor, re) => assertRejectsCode(fn, 'ERR_INVALID_ARG', Ctor, re);

test('maskBatch: 15% of real non-special tokens, 80/10/10, labels -100 elsewhere, reproducible', () => {
  const B = 200, T = 64, V = 1000, MASK = 4;
  const ids = new Int32Array(B * T), mask = new Uint8Array(B * T);
  const r = mulberry32(1);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const real = t < T - (b % 20);
      mask[b * T + t] = real ? 1 : 0;
      ids[b * T + t] = !real ? 0 : t === 0 ? 2 : t === T - 1 - (b % 20) ? 3 : 5 + Math.floor(r() * (V - 5));
    }
  const spec = { vocabSize: V, maskId: MASK, specialIds: [0, 2, 3, MASK], probability: 0.15 };
  const m = maskBatch(ids, mask, spec, mulberry32(9));
  let candidates = 0, chosen = 0, masked = 0, kept = 0;
  for (let i = 0; i < ids.length; i++) {
    const cand = mask[i] === 1 && ![0, 2, 3].includes(ids[i]);
    candidates += cand ? 1 : 0;
    if (m.labels[i] === -100) {
      assert.is(m.inputIds[i], ids[i], 'unchosen tokens unchanged');
      continue;
    }
    assert.ok(cand, `position ${i} (special or padding) was chosen`);
    assert.is(m.labels[i], ids[i], 'the label is the original token');
    chosen++;
    if (m.inputIds[i] === MASK) masked++;
    else if (m.inputIds[i] === ids[i]) kept++;
  }
  assert.is(m.count, chosen);
  const share = chosen / candidates;
  assert.ok(Math.abs(share - 0.15) < 0.01, `chosen share ${share}`);
  assert.ok(Math.abs(masked / chosen - 0.8) < 0.03, `[MASK] share ${masked / chosen}`);
  assert.ok(Math.abs(kept / chosen - 0.1) < 0.03, `kept share ${kept / chosen}`); // (a random draw equal to the original counts as kept: 1/V)
  const again = maskBatch(ids, mask, spec, mulberry32(9));
  assert.equal(again.labels, m.labels);
  assert.equal(again.inputIds, m.inputIds);
  // one real token, probability tiny: still one label (no wasted step)
  const one = maskBatch(Int32Array.of(2, 7, 3), Uint8Array.of(1, 1, 1), { ...spec, probability: 1e-6 }, mulberry32(3));
  assert.equal(Array.from(one.labels), [-100, 7, -100]);
});

test('pretrain writes a BertForMaskedLM directory with Hugging Face names; the loss falls; same seed, same weights', async () => {
  const dir = join(scratch, 'mlm');
  const r = await pretrain(dir, base);
  assert.is(r.history.length, 3);
  assert.ok(r.history[2].loss < r.history[0].loss - 0.3, `masked-LM loss ${r.history.map((h) => h.loss.toFixed(3))}`);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.architectures, ['BertForMaskedLM']);
  assert.is(cfg.model_type, 'bert');
  assert.is(cfg.tie_word_embeddings, true);
  const names = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()].sort();
  for (const n of ['bert.embeddings.word_embeddings.weight', 'bert.encoder.layer.0.attention.self.query.weight', 'cls.predictions.transform.dense.weight',
    'cls.predictions.transform.dense.bias', 'cls.predictions.transform.LayerNorm.weight', 'cls.predictions.transform.LayerNorm.bias', 'cls.predictions.bias'])
    assert.ok(names.includes(n), `${n} saved`);
  assert.ok(!names.some((n) => n.startsWith('classifier.') || n.startsWith('bert.pooler.') || n.startsWith('cls.predictions.decoder')), names.join(', '));
  for (const f of ['vocab.txt', 'tokenizer_config.json', 'pretraining.json']) assert.ok(existsSync(join(dir, f)), f);
  assert.is(JSON.parse(readFileSync(join(dir, 'pretraining.json'), 'utf8')).history.length, 3);
  const dir2 = join(scratch, 'mlm-again');
  await pretrain(dir2, base);
  assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(readFileSync(join(dir2, 'model.safetensors'))), 'bit-identical weights for the same seed');
});

test('pretrain a DistilBERT: a DistilBertForMaskedLM directory (vocab_transform, vocab_layer_norm, vocab_projector.bias)', async () => {
  const dir = join(scratch, 'mlm-distil');
  await pretrain(dir, { ...base, epochs: 1, model: { ...SMALL, architecture: 'distilbert', typeVocabSize: 0 } });
  assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).architectures, ['DistilBertForMaskedLM']);
  const names = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
  for (const n of ['distilbert.embeddings.word_embeddings.weight', 'vocab_transform.weight', 'vocab_transform.bias', 'vocab_layer_norm.weight', 'vocab_layer_norm.bias', 'vocab_projector.bias'])
    assert.ok(names.includes(n), `${n} saved`);
  assert.ok(!names.includes('vocab_projector.weight'), 'the tied projector weight is not stored');
});

test('pretrain from a masked-LM directory continues from its weights and head (lr 0 keeps them)', async () => {
  const from = join(scratch, 'mlm');
  const dir = join(scratch, 'mlm-more');
  await pretrain(dir, { ...base, model: { pretrained: from }, epochs: 1, lr: 0 });
  const a = readSafetensors(join(from, 'model.safetensors')).tensors;
  const b = readSafetensors(join(dir, 'model.safetensors')).tensors;
  for (const [name, t] of a) assert.equal(b.get(name).data, t.data, name);
  assert.is(readFileSync(join(dir, 'vocab.txt'), 'utf8'), readFileSync(join(from, 'vocab.txt'), 'utf8'));
});

test('fine-tuning from it: { pretrained } and Trainer pretrainEpochs; the n-gram model refuses pretrainEpochs', async () => {
  const t1 = new Trainer({ model: { pretrained: join(scratch, 'mlm') }, epochs: 1, batchSize: 16, device: 'cpu', lr: 2e-3 });
  await t1.fit(rows.slice(0, 180), rows.slice(180));
  const out = join(scratch, 'clf');
  await t1.save(out);
  t1.dispose();
  const clf = await Classifier.load(out, { device: 'cpu' });
  assert.is((await clf.predict(['the cat sat'])).length, 1);
  clf.dispose();
  const phases = new Set();
  const t2 = new Trainer({ model: SMALL, pretrainEpochs: 2, epochs: 1, batchSize: 16, vocabSize: 120, device: 'cpu', onProgress: (p) => phases.add(p.phase) });
  const h = await t2.fit(rows.slice(0, 180), rows.slice(180));
  assert.equal([...phases].sort(), ['pretrain', 'pretrain-epoch', 'train', 'validate']);
  assert.is(h.epochs.length, 1);
  assert.is(t2.options.pretrainEpochs, 2);
  t2.dispose();
  for (const model of [undefined, 'auto', 'ngram'])
    assert.throws(() => new Trainer({ model, pretrainEpochs: 1 }), (e) => e instanceof RangeError && e.code === 'ERR_INVALID_ARG' && /options\.pretrainEpochs \(1\) needs an encoder model/.test(e.message));
  assert.throws(() => new Trainer({ model: 'tiny', pretrainEpochs: -1 }), (e) => e.code === 'ERR_INVALID_ARG' && /pretrainEpochs/.test(e.message));
});

test('pretrain rejects bad options before any work, and never replaces a folder it did not write', async () => {
  const dir = join(scratch, 'never');
  await rejects(() => pretrain(dir, { ...base, texts: [] }), RangeError, /at least one text/);
  await rejects(() => pretrain(dir, { ...base, texts: 'abc' }), TypeError, /options\.texts/);
  await rejects(() => pretrain(dir, { ...base, epochs: 0 }), RangeError, /options\.epochs/);
  await rejects(() => pretrain(dir, { ...base, model: 'ngram' }), TypeError, /options\.model/);
  await rejects(() => pretrain(dir, { ...base, maskProbability: 2 }), RangeError, /options\.maskProbability/);
  await rejects(() => pretrain(dir, { ...base, bogus: 1 }), Error, /bogus/);
  assert.ok(!existsSync(dir));
  const mine = join(scratch, 'notes');
  mkdirSync(mine);
  writeFileSync(join(mine, 'NOTES.md'), 'mine');
  let err;
  try {
    await pretrain(mine, base);
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'refused');
  assert.is(readFileSync(join(mine, 'NOTES.md'), 'utf8'), 'mine');
});

test('CLI: pretrain (.txt, .jsonl) then train --model DIR; train --pretrain-epochs', () => {
  const txt = join(scratch, 'texts.txt');
  writeFileSync(txt, texts.join('\n') + '\n\n');
  const out = join(scratch, 'cli-mlm');
  const r = run('pretrain', '--data', txt, '--out', out, '--epochs', '1', '--vocab-size', '120', '--batch-size', '16', '--json');
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.is(j.out, out);
  assert.is(j.history.length, 1);
  assert.match(r.err, /epoch 1\/1: masked-LM loss \d/);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).architectures, ['BertForMaskedLM']);
  const jsonl = join(scratch, 'texts.jsonl');
  writeFileSync(jsonl, texts.map((t) => JSON.stringify({ body: t })).join('\n'));
  const r2 = run('pretrain', '--data', jsonl, '--text-column', 'body', '--out', join(scratch, 'cli-mlm2'), '--epochs', '1', '--model', out);
  assert.is(r2.code, 0, r2.err);
  assert.match(r2.out, /pre-trained 1 epoch in .*masked-LM model saved to/);
  const csv = join(scratch, 'rows.csv');
  writeFileSync(csv, 'text,labels\n' + rows.map((x) => `${x.text},"${x.labels.join(',')}"`).join('\n') + '\n');
  const t = run('train', '--data', csv, '--out', join(scratch, 'cli-clf'), '--model', out, '--epochs', '1', '--json');
  assert.is(t.code, 0, t.err);
  fails(run('predict', '--model', out, '--text', 'the cat'), 1, /is a masked-LM pre-training directory .*not a classifier: fine-tune it first/);
  const t2 = run('train', '--data', csv, '--out', join(scratch, 'cli-clf2'), '--model', 'tiny', '--pretrain-epochs', '1', '--epochs', '1', '--vocab-size', '120');
  assert.is(t2.code, 0, t2.err);
  assert.match(t2.out, /pretrain epoch 1\/1: masked-LM loss \d/);
});

test('CLI: bad flags and inputs name the flag, what it must be and what it got, before any work', () => {
  const txt = join(scratch, 'texts.txt');
  const out = join(scratch, 'cli-bad');
  fails(run('pretrain', '--out', out), 2, /pretrain: --data is required/);
  fails(run('pretrain', '--data', txt), 2, /pretrain: --out is required/);
  fails(run('pretrain', '--data', txt, '--out', out, '--epochs', '0'), 2, /--epochs must be an integer >= 1, got "0"/);
  fails(run('pretrain', '--data', txt, '--out', out, '--lr', 'fast'), 2, /--lr must be a number in \[0, 10\], got "fast"/);
  fails(run('pretrain', '--data', txt, '--out', out, '--mask-probability', '1.5'), 2, /--mask-probability must be a number in/);
  fails(run('pretrain', '--data', txt, '--out', out, '--model', 'ngram'), 2, /--model must be tiny, small, base, .*"ngram" is neither/);
  fails(run('pretrain', '--data', txt, '--out', out, '--device', 'tpu'), 2, /--device must be one of auto, cpu, cuda, got "tpu"/);
  fails(run('pretrain', '--data', txt, '--out', out, '--bogus'), 2, /Unknown option '--bogus'/);
  fails(run('pretrain', '--data', join(scratch, 'x.docx'), '--out', out), 2, /--data must be a \.txt .*got ".*x\.docx"/);
  fails(run('pretrain', '--data', join(scratch, 'missing.txt'), '--out', out), 1, /--data file not found/);
  const empty = join(scratch, 'empty.txt');
  writeFileSync(empty, '\n  \n');
  fails(run('pretrain', '--data', empty, '--out', out), 1, /no texts/);
  const badJson = join(scratch, 'bad.jsonl');
  writeFileSync(badJson, '{"text": "a"}\n{oops\n');
  fails(run('pretrain', '--data', badJson, '--out', out), 1, /bad\.jsonl:2: invalid JSON/);
  assert.ok(!existsSync(out), 'nothing written');
  fails(run('train', '--data', join(scratch, 'rows.csv'), '--out', out, '--pretrain-epochs', '2'), 2, /train: --pretrain-epochs \(2\) needs an encoder model/);
  fails(run('train', '--data', join(scratch, 'rows.csv'), '--out', out, '--model', 'tiny', '--pretrain-epochs', 'x'), 2, /--pretrain-epochs must be an integer >= 0, got "x"/);
  assert.match(run('pretrain', '--help').out, /masked-language-model/);
  assert.match(run('--help').out, /pretrain/);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
