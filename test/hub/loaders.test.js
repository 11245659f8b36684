// hf:ORG/NAME in every loader, against the local Hub (test/helpers/hub_server.js): Tokenizer.fromPretrained,
// Encoder.fromPretrained, `fused-multilabel train --model hf:…` (a Trainer's { pretrained }), then the
// trained model directory served as a Hub repository for Classifier.load and `predict --model hf:…`; the
// same for the default n-gram model (no tokenizer files), and `export --model hf:…`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Classifier, Encoder, Tokenizer, readSafetensors, serializeSafetensors } from '../../dist/index.js';
import { COMMIT, startHub } from '../helpers/hub_server.js';

const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'fml-hub-loaders-'));
const pretrained = join(scratch, 'pretrained');
const trained = join(scratch, 'trained');

// a tiny "pretrained" BERT written by the package, with a WordPiece vocabulary of the ticket texts' words
const all = readFileSync(join(root, 'examples', 'tickets.csv'), 'utf8').split('\n');
const data = join(scratch, 'tickets.csv');
writeFileSync(data, all.slice(0, 301).join('\n') + '\n');
const tok = Tokenizer.train(all.slice(1, 301), { vocabSize: 300 });
const enc = await Encoder.create({ architecture: 'bert', vocabSize: tok.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 32, numLabels: 2 }, { device: 'cpu', seed: 5 });
await enc.save(pretrained);
tok.save(pretrained);
/** A directory's files as a Hub repository's (paths with '/' for folders), report.html left out. */
const read = (dir, prefix = '') =>
  Object.fromEntries(
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.name.endsWith('.html'))
      .flatMap((e) => (e.isDirectory() ? Object.entries(read(join(dir, e.name), `${prefix}${e.name}/`)) : [[prefix + e.name, readFileSync(join(dir, e.name))]])),
  );
const repos = { 'org/tiny-bert': read(pretrained) };
// the same weights as a sharded checkpoint: two shards and model.safetensors.index.json
const { tensors } = readSafetensors(join(pretrained, 'model.safetensors'));
const names = [...tensors.keys()];
const shards = [names.slice(0, names.length >> 1), names.slice(names.length >> 1)];
const sharded = { ...repos['org/tiny-bert'] };
delete sharded['model.safetensors'];
const weightMap = {};
shards.forEach((part, i) => {
  const file = `model-0000${i + 1}-of-00002.safetensors`;
  sharded[file] = Buffer.from(serializeSafetensors(new Map(part.map((n) => [n, tensors.get(n)]))));
  for (const n of part) weightMap[n] = file;
});
sharded['model.safetensors.index.json'] = Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap }));
repos['org/sharded-bert'] = sharded;
const hub = await startHub(repos);
Object.assign(process.env, { HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(scratch, 'cache'), HF_HUB_OFFLINE: '0' });
const env = { ...process.env, FUSED_MULTILABEL_DEVICE: 'cpu' };
/**
 * The CLI in a child process, run asynchronously: the local Hub lives in this process, so a blocking
 * spawnSync would leave the child's requests unanswered (it would time out and fall back to the cache).
 */
function cli(...args) {
  const opts = args[0] && typeof args[0] === 'object' ? args.shift() : {};
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist/cli.js'), ...args], { env, ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('Tokenizer.fromPretrained and Encoder.fromPretrained take hf: ids (one weights file or shards)', async () => {
  const t = await Tokenizer.fromPretrained('hf:org/tiny-bert');
  assert.is(t.vocabSize, tok.vocabSize);
  assert.equal(t.encode('printer offline again').inputIds, tok.encode('printer offline again').inputIds);
  const remote = await Encoder.fromPretrained('hf:org/tiny-bert', { device: 'cpu' });
  const local = await Encoder.fromPretrained(pretrained, { device: 'cpu' });
  for (const [name, w] of local.parameters()) assert.equal(Array.from(remote.parameters().get(name)), Array.from(w), name);
  const shardedEnc = await Encoder.fromPretrained('hf:org/sharded-bert', { device: 'cpu' });
  for (const [name, w] of local.parameters()) assert.equal(Array.from(shardedEnc.parameters().get(name)), Array.from(w), `${name} (sharded)`);
  remote.dispose();
  local.dispose();
  shardedEnc.dispose();
});

test('train --model hf:ORG/NAME fine-tunes the Hub model (a bad id is a usage error first)', async () => {
  const bad = await cli('train', '--data', data, '--out', trained, '--model', 'hf:org/a/b');
  assert.is(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /^fused-multilabel: train: Expected a Hugging Face model id 'hf:ORG\/NAME'.* for --model but received string "hf:org\/a\/b"\n$/);
  const r = await cli('train', '--data', data, '--out', trained, '--model', 'hf:org/tiny-bert', '--epochs', '1', '--max-length', '24', '--json');
  assert.is(r.status, 0, r.stderr);
  const training = JSON.parse(readFileSync(join(trained, 'training.json'), 'utf8'));
  assert.ok(JSON.stringify(training).includes('hf:org/tiny-bert'), 'training.json records the Hub model');
  assert.is(readFileSync(join(trained, 'vocab.txt'), 'utf8'), readFileSync(join(pretrained, 'vocab.txt'), 'utf8'));
});

test('Classifier.load and predict --model take a classifier pushed to the Hub', async () => {
  repos['org/tickets-clf'] = read(trained);
  const texts = ['the printer is offline again', 'refund my last invoice please'];
  const local = await Classifier.load(trained, { device: 'cpu' });
  const remote = await Classifier.load('hf:org/tickets-clf', { device: 'cpu' });
  assert.equal(await remote.predict(texts), await local.predict(texts));
  local.dispose();
  remote.dispose();
  const r = await cli('predict', '--model', 'hf:org/tickets-clf', '--text', texts[0]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '', 'the Hub answered (no fallback to the cache)');
  assert.is(JSON.parse(r.stdout.trim()).text, texts[0]);
});

test('the n-gram model from the Hub: Classifier.load, predict, export --model hf:; a pinned commit then costs no request', async () => {
  const ngram = join(scratch, 'ngram');
  const r = await cli('train', '--data', data, '--out', ngram, '--model', 'ngram', '--epochs', '1');
  assert.is(r.status, 0, r.stderr);
  repos['org/ngram-clf'] = read(ngram);
  assert.not.ok('vocab.txt' in repos['org/ngram-clf'] || 'tokenizer.json' in repos['org/ngram-clf'], 'an n-gram model has no tokenizer files');
  const texts = ['the printer is offline again', 'refund my last invoice please'];
  const local = await Classifier.load(ngram);
  const remote = await Classifier.load('hf:org/ngram-clf');
  assert.equal(await remote.predict(texts), await local.predict(texts));
  remote.dispose();
  const p = await cli('predict', '--model', 'hf:org/ngram-clf', '--text', texts[1]);
  assert.is(p.status, 0, p.stderr);
  assert.is(p.stderr, '');
  assert.equal(JSON.parse(p.stdout).labels, (await local.predict([texts[1]]))[0].labels);
  local.dispose();
  const e = await cli({ cwd: scratch }, 'export', '--model', 'hf:org/ngram-clf', '--format', 'onnx');
  assert.is(e.status, 0, e.stderr);
  assert.is(JSON.parse(readFileSync(join(scratch, 'ngram-clf-onnx', 'config.json'), 'utf8')).model_type, 'fused-ngram', 'default --out: NAME-onnx');
  hub.log.length = 0;
  const pinned = await Classifier.load(`hf:org/ngram-clf@${COMMIT}`);
  pinned.dispose();
  assert.equal(hub.log, [], 'a complete cached snapshot of a commit needs no request');
});

test('the default model (auto: the ensemble) from the Hub: its members/NAME folders come too; predict and export as locally; a pinned commit then costs no request', async () => {
  const ens = join(scratch, 'ensemble');
  const r = await cli('train', '--data', data, '--out', ens, '--model', 'ensemble', '--epochs', '1');
  assert.is(r.status, 0, r.stderr);
  repos['org/ensemble-clf'] = read(ens);
  assert.ok('members/tiny/vocab.txt' in repos['org/ensemble-clf'] && 'members/ngram/model.safetensors' in repos['org/ensemble-clf']);
  const texts = ['the printer is offline again', 'refund my last invoice please'];
  const local = await Classifier.load(ens);
  const remote = await Classifier.load('hf:org/ensemble-clf');
  assert.is(remote.model.modelType, local.model.modelType);
  assert.equal(await remote.scores(texts), await local.scores(texts));
  remote.dispose();
  local.dispose();
  const e = await cli({ cwd: scratch }, 'export', '--model', 'hf:org/ensemble-clf', '--format', 'onnx');
  assert.is(e.status, 0, e.stderr);
  assert.match(e.stdout, /wrote the ensemble's members/);
  hub.log.length = 0;
  const pinned = await Classifier.load(`hf:org/ensemble-clf@${COMMIT}`);
  pinned.dispose();
  assert.equal(hub.log, [], 'a complete cached snapshot of a commit needs no request');
});

test.after(async () => {
  await hub.close();
  rmSync(scratch, { recursive: true, force: true });
});
test.run();
