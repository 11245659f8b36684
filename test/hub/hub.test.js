// Models from the Hugging Face Hub (lib/hub.ts) against a local server on 127.0.0.1 that answers in the
// Hub's layout: /{repo}/resolve/{revision}/{file} with X-Repo-Commit and ETag, LFS files redirected with
// X-Linked-Etag (sha256) and X-Linked-Size to a second server (another origin: the storage host), Range
// requests, X-Error-Code on 401/404. The model it serves is a tiny BERT written by the package itself.
import { createServer } from 'node:http';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder } from '../../dist/index.js';
import { downloadModel, parseHubId, hubCacheDir } from '../../dist/hub.js';
import { assertRejectsCode } from '../helpers/assert.js';
import { COMMIT, etagOf, listen, sha256, startHub } from '../helpers/hub_server.js';

const scratch = mkdtempSync(join(tmpdir(), 'fml-hub-'));

// the model: the package's own writer (config.json, model.safetensors) and a vocabulary of the right size
const modelDir = join(scratch, 'model');
const enc = await Encoder.create({ architecture: 'bert', vocabSize: 40, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 16, numLabels: 2 }, { device: 'cpu', seed: 3 });
await enc.save(modelDir);
enc.dispose?.();
const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 35 }, (_, i) => `w${i}`)].join('\n') + '\n';
const files = {
  'config.json': readFileSync(join(modelDir, 'config.json')),
  'model.safetensors': readFileSync(join(modelDir, 'model.safetensors')),
  'vocab.txt': Buffer.from(vocab),
};
const repos = {
  'org/tiny-bert': files,
  'org/private-bert': files,
  'org/gated-bert': files,
  'org/big-bert': { 'config.json': files['config.json'], 'model.safetensors': Buffer.alloc(3 << 20, 7), 'vocab.txt': files['vocab.txt'] },
  'org/torch-only': { 'config.json': files['config.json'], 'pytorch_model.bin': Buffer.alloc(64, 1) },
};
const { url: hubUrl, log, faults, close } = await startHub(repos, { privateRepos: ['org/private-bert'], gatedRepos: ['org/gated-bert'] });

let n = 0;
/** A fresh cache folder, the endpoint set, no token, online. */
function fresh() {
  const cache = join(scratch, `cache${n++}`);
  Object.assign(process.env, { HF_HUB_CACHE: cache, HF_ENDPOINT: hubUrl, HF_HUB_OFFLINE: '0', HF_HOME: join(scratch, 'home') });
  delete process.env.HF_TOKEN;
  log.length = 0;
  return join(cache, 'models--org--tiny-bert');
}

test('hf: ids: repo and revision, bad ids refused', () => {
  assert.equal(parseHubId('hf:org/tiny-bert'), { repo: 'org/tiny-bert', revision: 'main' });
  assert.equal(parseHubId('hf:bert-base-uncased@v1.0'), { repo: 'bert-base-uncased', revision: 'v1.0' });
  assert.is(parseHubId('./models/x'), null);
  for (const bad of ['hf:', 'hf:a/b/c', 'hf:org/../x', 'hf:org/na me', 'hf:org/x@', 'hf:-org/x'])
    assert.throws(() => parseHubId(bad), (e) => e.code === 'ERR_INVALID_ARG' && /hf:ORG\/NAME/.test(e.message), bad);
});

test('cache root: HF_HUB_CACHE, else HF_HOME/hub', () => {
  process.env.HF_HUB_CACHE = '/x/hub-cache';
  assert.is(hubCacheDir(), '/x/hub-cache');
  delete process.env.HF_HUB_CACHE;
  process.env.HF_HOME = '/y/hf';
  assert.is(hubCacheDir(), '/y/hf/hub');
});

test('download: huggingface_hub layout (blobs by etag, relative snapshot links, refs), LFS via the storage host', async () => {
  const root = fresh();
  const dir = await downloadModel('hf:org/tiny-bert');
  assert.is(dir, join(root, 'snapshots', COMMIT));
  assert.is(readFileSync(join(root, 'refs/main'), 'utf8'), COMMIT);
  for (const [name, body] of Object.entries(files)) {
    const etag = etagOf(name, body);
    assert.ok(lstatSync(join(dir, name)).isSymbolicLink(), name);
    assert.is(readlinkSync(join(dir, name)), `../../blobs/${etag}`);
    assert.ok(readFileSync(join(dir, name)).equals(body), name);
  }
  assert.not.ok(readdirSync(join(root, 'blobs')).some((f) => f.endsWith('.incomplete')));
  assert.ok(existsSync(join(root, '.no_exist', COMMIT, 'tokenizer.json')), 'absent optional files recorded as Python does');
  assert.ok(log.some((r) => r.host === 'cdn' && r.method === 'GET'), 'the weights came from the storage host');
});

test('a second call only asks for the revision; a commit or HF_HUB_OFFLINE=1 makes no request', async () => {
  fresh();
  await downloadModel('hf:org/tiny-bert');
  log.length = 0;
  const dir = await downloadModel('hf:org/tiny-bert');
  assert.equal(log.map((r) => `${r.method} ${r.url}`), ['HEAD /org/tiny-bert/resolve/main/config.json']);
  log.length = 0;
  assert.is(await downloadModel(`hf:org/tiny-bert@${COMMIT}`), dir);
  process.env.HF_HUB_OFFLINE = '1';
  assert.is(await downloadModel('hf:org/tiny-bert'), dir);
  assert.equal(log, []);
});

test('a cache written in Python\'s layout is used without any request', async () => {
  const root = fresh();
  for (const [name, body] of Object.entries(files)) {
    const etag = etagOf(name, body);
    mkdirSync(join(root, 'blobs'), { recursive: true });
    mkdirSync(join(root, 'snapshots', COMMIT), { recursive: true });
    writeFileSync(join(root, 'blobs', etag), body);
    symlinkSync(`../../blobs/${etag}`, join(root, 'snapshots', COMMIT, name));
  }
  mkdirSync(join(root, 'refs'));
  writeFileSync(join(root, 'refs/main'), COMMIT);
  process.env.HF_HUB_OFFLINE = '1';
  assert.is(await downloadModel('hf:org/tiny-bert'), join(root, 'snapshots', COMMIT));
  process.env.HF_HUB_OFFLINE = '0';
  await downloadModel(`hf:org/tiny-bert@${COMMIT}`);
  assert.equal(log, []);
});

test('offline without the model: ERR_HUB_OFFLINE naming how to get it', async () => {
  fresh();
  process.env.HF_HUB_OFFLINE = '1';
  await assertRejectsCode(downloadModel('hf:org/tiny-bert'), 'ERR_HUB_OFFLINE', Error, /not in the cache.*huggingface-cli download org\/tiny-bert/);
  assert.equal(log, []);
});

test('an interrupted transfer is resumed with a Range request', async () => {
  const root = fresh();
  faults.truncate = 1;
  const dir = await downloadModel('hf:org/tiny-bert');
  assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(files['model.safetensors']));
  const gets = log.filter((r) => r.host === 'cdn' && r.method === 'GET');
  assert.is(gets.length, 2);
  assert.is(gets[0].range, undefined);
  assert.is(gets[1].range, `bytes=${files['model.safetensors'].length >> 1}-`);
  assert.not.ok(readdirSync(join(root, 'blobs')).some((f) => f.endsWith('.incomplete')));
});

test('a download killed earlier (blobs/<etag>.incomplete, no snapshot entry) resumes where it stopped', async () => {
  const root = fresh();
  const body = files['model.safetensors'];
  mkdirSync(join(root, 'blobs'), { recursive: true });
  writeFileSync(join(root, 'blobs', `${sha256(body)}.incomplete`), body.subarray(0, 1000));
  const dir = await downloadModel('hf:org/tiny-bert');
  assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(body));
  assert.equal(log.filter((r) => r.host === 'cdn').map((r) => r.range), ['bytes=1000-']);
});

test('a corrupted blob is rejected (sha256), leaves nothing that looks complete, and a rerun succeeds', async () => {
  const root = fresh();
  faults.corrupt = 1;
  await assertRejectsCode(downloadModel('hf:org/tiny-bert'), 'ERR_HUB_DOWNLOAD', Error, /model\.safetensors: the download is corrupt \(sha256/);
  assert.not.ok(existsSync(join(root, 'blobs', sha256(files['model.safetensors']))));
  assert.not.ok(existsSync(join(root, 'blobs', `${sha256(files['model.safetensors'])}.incomplete`)));
  assert.not.ok(existsSync(join(root, 'snapshots', COMMIT, 'model.safetensors')));
  const dir = await downloadModel('hf:org/tiny-bert');
  assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(files['model.safetensors']));
});

test('401: HF_TOKEN explained; with the token the download works and the token stays with the Hub', async () => {
  fresh();
  await assertRejectsCode(downloadModel('hf:org/private-bert'), 'ERR_HUB_AUTH', Error, /HTTP 401.*private, gated or does not exist.*set HF_TOKEN/);
  process.env.HF_TOKEN = 'secret';
  log.length = 0;
  await downloadModel('hf:org/private-bert');
  assert.ok(log.filter((r) => r.host === 'hub').every((r) => r.auth === 'Bearer secret'));
  assert.ok(log.filter((r) => r.host === 'cdn').every((r) => r.auth === undefined), 'no token to the storage host');
  delete process.env.HF_TOKEN;
});

test('403 on a gated repository: accept its terms on its page', async () => {
  fresh();
  await assertRejectsCode(downloadModel('hf:org/gated-bert'), 'ERR_HUB_AUTH', Error, /hf:org\/gated-bert is gated \(HTTP 403\): accept its terms at http:\/\/127\.0\.0\.1:\d+\/org\/gated-bert and set HF_TOKEN/);
});

test('disk full: ERR_HUB_DOWNLOAD saying so, nothing placed', async () => {
  const root = fresh();
  const sha = sha256(files['model.safetensors']);
  mkdirSync(join(root, 'blobs'), { recursive: true });
  symlinkSync('/dev/full', join(root, 'blobs', `${sha}.incomplete`)); // every write fails with ENOSPC
  await assertRejectsCode(downloadModel('hf:org/tiny-bert'), 'ERR_HUB_DOWNLOAD', Error, /model\.safetensors: disk full writing .*\.incomplete.*set HF_HUB_CACHE to another disk, then run again to resume/);
  assert.not.ok(existsSync(join(root, 'blobs', sha)));
  assert.not.ok(existsSync(join(root, 'snapshots', COMMIT, 'model.safetensors')));
});

test('404: repository, revision and weights told apart; PyTorch-only weights explained', async () => {
  fresh();
  await assertRejectsCode(downloadModel('hf:org/nope'), 'ERR_HUB_NOT_FOUND', Error, /repository not found/);
  await assertRejectsCode(downloadModel('hf:org/tiny-bert@v9'), 'ERR_HUB_NOT_FOUND', Error, /revision "v9" not found/);
  await assertRejectsCode(downloadModel('hf:org/torch-only'), 'ERR_HUB_NOT_FOUND', Error, /PyTorch weights only \(pytorch_model\.bin\).*save_pretrained/);
  assert.not.ok(log.some((r) => r.url.endsWith('pytorch_model.bin') && r.method === 'GET'), 'the .bin is never downloaded');
});

test('a renamed repository (relative redirect) is followed', async () => {
  fresh();
  const dir = await downloadModel('hf:old-org/tiny-bert');
  assert.ok(readFileSync(join(dir, 'config.json')).equals(files['config.json']));
});

test('network failure: an unreachable endpoint is named; a cached model is used instead', async () => {
  fresh();
  const dead = createServer();
  const deadUrl = await listen(dead);
  await new Promise((r) => dead.close(r));
  process.env.HF_ENDPOINT = deadUrl;
  await assertRejectsCode(downloadModel('hf:org/tiny-bert'), 'ERR_HUB_DOWNLOAD', Error, /cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  process.env.HF_ENDPOINT = hubUrl;
  const dir = await downloadModel('hf:org/tiny-bert');
  process.env.HF_ENDPOINT = deadUrl;
  assert.is(await downloadModel('hf:org/tiny-bert'), dir);
});

// A terminal is needed for the bar: util-linux's `script` runs the download under a pseudo-terminal.
const haveScript = spawnSync('script', ['--version']).status === 0;
test('a progress bar on a terminal (files over 1 MiB)', async () => {
  if (!haveScript) {
    if (process.env.REQUIRE_SCRIPT === '1') assert.unreachable('REQUIRE_SCRIPT=1 but util-linux script is missing');
    return console.log('  skipping the progress bar test: util-linux `script` (a pseudo-terminal) is not installed');
  }
  fresh();
  const js = `import('${new URL('../../dist/hub.js', import.meta.url).pathname}').then((m) => m.downloadModel('hf:org/big-bert')).then(() => process.stderr.write('DONE'))`;
  // the server runs in this process, so the child is spawned asynchronously
  const out = await new Promise((resolve) => {
    const child = spawn('script', ['-qec', `${process.execPath} -e "${js}"`, '/dev/null'], { env: process.env });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('close', () => resolve(text));
  });
  assert.match(out, /DONE/);
  assert.match(out, /model\.safetensors \[.*\] 100% \| 3\.0\/3\.0 MiB/);
});

test.after(async () => {
  await close();
  rmSync(scratch, { recursive: true, force: true });
});
test.run();
