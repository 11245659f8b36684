// hf:ORG/NAME in every loader, against the local Hub (test/helpers/hub_server.js): Tokenizer.fromPretrained,
// Encoder.fromPretrained, `fused-multilabel train --model hf:…` (a Trainer's { pretrained }), then the
// trained model directory served as a Hub repository for Classifier.load and `predict --model hf:…`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Classifier, Encoder, Tokenizer, readSafetensors, serializeSafetensors } from '../../dist/index.js';
import { startHub } from '../helpers/hub_server.js';

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
const read = (dir) => Object.fromEntries(readdirSync(dir).filter((f) => !f.endsWith('.html')).map((f) => [f, readFileSync(join(dir, f))]));
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
const cli = (...args) => spawnSync(process.execPath, [join(root, 'dist/cli.js'), ...args], { encoding: 'utf8', env });

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

test('train --model hf:ORG/NAME fine-tunes the Hub model (a bad id is a usage error first)', () => {
  const bad = cli('train', '--data', data, '--out', trained, '--model', 'hf:org/a/b');
  assert.is(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /^fused-multilabel: train: Expected a Hugging Face model id 'hf:ORG\/NAME'.* for --model but received string "hf:org\/a\/b"\n$/);
  const r = cli('train', '--data', data, '--out', trained, '--model', 'hf:org/tiny-bert', '--epochs', '1', '--max-length', '24', '--json');
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
  const r = cli('predict', '--model', 'hf:org/tickets-clf', '--text', texts[0]);
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(r.stdout.trim()).text, texts[0]);
});

test.after(async () => {
  await hub.close();
  rmSync(scratch, { recursive: true, force: true });
});
test.run();
