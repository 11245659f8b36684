// The Hub cache is Python's, both ways, checked with Python's own huggingface_hub against the local Hub
// (test/helpers/hub_server.js): a model that huggingface_hub downloaded is used by downloadModel without
// a download (offline, and online with one HEAD request), and huggingface_hub finds what this package
// downloaded (hf_hub_download offline returns the same paths, .no_exist markers read as "not in the
// repository", scan_cache_dir reports the repository without warnings, an online call downloads nothing).
// huggingface_hub is not a Debian package: the test looks for a python3 that has it (HF_HUB_PYTHON names
// one, e.g. a virtual environment), is skipped with the reason without one, and REQUIRE_HF_HUB_PYTHON=1
// makes that a failure.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder } from '../../dist/index.js';
import { downloadModel } from '../../dist/hub.js';
import { COMMIT, startHub } from '../helpers/hub_server.js';

const candidates = [process.env.HF_HUB_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
const python = candidates.find((py) => spawnSync(py, ['-c', 'import huggingface_hub'], { encoding: 'utf8' }).status === 0);
const reason = `no python3 with huggingface_hub (tried ${candidates.join(', ')}; HF_HUB_PYTHON may name one)`;

if (!python) {
  if (process.env.REQUIRE_HF_HUB_PYTHON === '1') test('huggingface_hub interoperation', () => assert.unreachable(`REQUIRE_HF_HUB_PYTHON=1 but ${reason}`));
  else {
    console.log(`skipping the huggingface_hub interoperation tests: ${reason}`);
    test.skip('huggingface_hub interoperation', () => {});
  }
  test.run();
} else {
  const scratch = mkdtempSync(join(tmpdir(), 'fml-hub-python-'));
  const modelDir = join(scratch, 'model');
  const enc = await Encoder.create({ architecture: 'bert', vocabSize: 40, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 16, numLabels: 2 }, { device: 'cpu', seed: 3 });
  await enc.save(modelDir);
  enc.dispose();
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 35 }, (_, i) => `w${i}`)].join('\n') + '\n';
  const files = { 'config.json': readFileSync(join(modelDir, 'config.json')), 'model.safetensors': readFileSync(join(modelDir, 'model.safetensors')), 'vocab.txt': Buffer.from(vocab) };
  const hub = await startHub({ 'org/tiny-bert': files });
  const NAMES = Object.keys(files);

  /** Runs Python (asynchronously: the local Hub answers from this process) with the Hub's variables; its stdout as JSON. */
  function py(code, cache, extraEnv = {}) {
    const env = { ...process.env, HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_HOME: join(scratch, 'home'), HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_XET: '1', HF_HUB_OFFLINE: '0', ...extraEnv };
    delete env.HF_TOKEN;
    return new Promise((resolve) => {
      const child = spawn(python, ['-c', `import json, huggingface_hub as h\nnames = ${JSON.stringify(NAMES)}\n${code}`], { env });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (status) => {
        assert.is(status, 0, err);
        resolve(JSON.parse(out));
      });
    });
  }

  function useCache(cache, offline) {
    Object.assign(process.env, { HF_HUB_CACHE: cache, HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: offline ? '1' : '0', HF_HOME: join(scratch, 'home') });
    delete process.env.HF_TOKEN;
  }

  test('Python downloads, this package uses it: offline with no request, online with one HEAD and no download', async () => {
    const cache = join(scratch, 'python-first');
    const paths = await py("print(json.dumps([h.hf_hub_download('org/tiny-bert', n) for n in names]))", cache);
    const snapshot = join(cache, 'models--org--tiny-bert', 'snapshots', COMMIT);
    assert.equal(paths, NAMES.map((n) => join(snapshot, n)));
    hub.log.length = 0;
    useCache(cache, true);
    assert.is(await downloadModel('hf:org/tiny-bert'), snapshot);
    assert.equal(hub.log, []);
    useCache(cache, false);
    assert.is(await downloadModel('hf:org/tiny-bert'), snapshot);
    assert.equal(hub.log.map((r) => `${r.method} ${r.url}`), ['HEAD /org/tiny-bert/resolve/main/config.json']);
    const loaded = await Encoder.fromPretrained('hf:org/tiny-bert', { device: 'cpu' });
    assert.is(loaded.config.hiddenSize, 16);
    loaded.dispose();
  });

  test('this package downloads, Python uses it: the same paths offline, .no_exist understood, scan_cache_dir clean, nothing downloaded online', async () => {
    const cache = join(scratch, 'node-first');
    useCache(cache, false);
    const snapshot = await downloadModel('hf:org/tiny-bert');
    hub.log.length = 0;
    const offline = await py(
      [
        'paths = [h.hf_hub_download("org/tiny-bert", n) for n in names]',
        'missing = h.try_to_load_from_cache("org/tiny-bert", "tokenizer.json") is h.file_download._CACHED_NO_EXIST',
        'info = h.scan_cache_dir()',
        'repo = [r for r in info.repos if r.repo_id == "org/tiny-bert"][0]',
        'rev = list(repo.revisions)[0]',
        'print(json.dumps({"paths": paths, "missing": missing, "warnings": [str(w) for w in info.warnings], "refs": sorted(rev.refs), "commit": rev.commit_hash, "files": sorted(f.file_name for f in rev.files), "size": repo.size_on_disk}))',
      ].join('\n'),
      cache,
      { HF_HUB_OFFLINE: '1' },
    );
    assert.equal(offline.paths, NAMES.map((n) => join(snapshot, n)));
    assert.is(offline.missing, true, 'tokenizer.json recorded as absent from the repository');
    assert.equal(offline.warnings, []);
    assert.equal(offline.refs, ['main']);
    assert.is(offline.commit, COMMIT);
    assert.equal(offline.files, [...NAMES].sort());
    assert.is(offline.size, Object.values(files).reduce((a, b) => a + b.length, 0));
    assert.equal(hub.log, []);
    const online = await py("print(json.dumps([h.hf_hub_download('org/tiny-bert', n) for n in names]))", cache);
    assert.equal(online, NAMES.map((n) => join(snapshot, n)));
    assert.not.ok(hub.log.some((r) => r.method === 'GET'), `Python downloaded again: ${JSON.stringify(hub.log)}`);
  });

  test.after(async () => {
    await hub.close();
    rmSync(scratch, { recursive: true, force: true });
  });
  test.run();
}
