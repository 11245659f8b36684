// The packed package with a prebuilt binary: `npm pack` ships prebuilds/<platform>-<arch>/ (placed by
// scripts/prebuild.mjs --from the current build); a fresh project installs the tarball with a real
// `npm install <tarball>`, once with scripts blocked (--ignore-scripts) and once with them allowed, and
// import, a loss, an encoder forward, an n-gram training and the CLI (info, train, predict) work at once;
// the install script builds nothing. Dependencies come from the npm registry (--prefer-offline: npm's
// cache first). Only when the registry cannot be reached (npm ping fails) does the test install --offline
// from the cache, and where the cache lacks a dependency, unpack the tarball and link the checkout's
// dependencies beside it; it prints which path ran, and REQUIRE_NPM_REGISTRY=1 (set by .ci/run) makes an
// unreachable registry a failure. About 20-40 s, most of it npm itself.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'fml-pack-'));
const stage = join(scratch, 'stage');
const project = join(scratch, 'project');
const platform = `${process.platform}-${process.arch}`;
const built = ['build-cmake/Release/fused_multilabel.node', 'build/Release/fused_multilabel.node'].map((p) => join(root, p)).find(existsSync);
const npm = (args, cwd, env = {}) => spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
let tarball;

test('npm pack ships the prebuilt binary', () => {
  assert.ok(built, 'a built addon (npm run build:native) to make the prebuild from');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.ok(pkg.files.includes('prebuilds/'), 'package.json files lists prebuilds/');
  // the package's files (as package.json lists them) in a staging copy, so the checkout gets no prebuilds/
  for (const f of [...pkg.files, 'package.json', 'README.md']) if (existsSync(join(root, f))) cpSync(join(root, f), join(stage, f), { recursive: true });
  cpSync(join(root, 'scripts/prebuild.mjs'), join(stage, 'scripts/prebuild.mjs'));
  execFileSync(process.execPath, [join(stage, 'scripts/prebuild.mjs'), '--from', built], { encoding: 'utf8' });
  const r = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], stage);
  assert.is(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout)[0];
  tarball = join(scratch, info.filename);
  const paths = info.files.map((f) => f.path);
  assert.ok(paths.includes(`prebuilds/${platform}/fused_multilabel.node`), 'the prebuild is in the tarball');
  assert.ok(paths.includes('dist/index.js') && paths.includes('dist/cli.js'));
  assert.not.ok(paths.some((p) => p.startsWith('build-cmake/') || p.startsWith('build/') || p.startsWith('test/')), 'no build folders or tests');
  console.log(`  tarball ${info.filename}: ${(statSync(tarball).size / 1048576).toFixed(1)} MiB packed, ${(info.unpackedSize / 1048576).toFixed(1)} MiB unpacked, ${info.entryCount} files`);
});

// npm ping answers in a second when the registry is reachable; a machine without network fails fast
const ping = spawnSync('npm', ['ping', '--fetch-timeout=15000', '--fetch-retries=0', '--loglevel=error'], { encoding: 'utf8', timeout: 30_000 });
const registry = ping.status === 0;
const registryRequired = process.env.REQUIRE_NPM_REGISTRY === '1';

/**
 * Installs the tarball into a fresh project: a real `npm install` from the registry (npm's cache first),
 * or without a registry the offline cache, then the unpack-and-link fallback. Returns the path taken.
 */
function installTarball(dir, args) {
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fresh', private: true, type: 'module' }));
  const t0 = Date.now();
  const seconds = () => ((Date.now() - t0) / 1000).toFixed(1);
  if (registry) {
    const r = npm(['install', ...args, '--prefer-offline', tarball], dir);
    assert.is(r.status, 0, `npm install ${args.join(' ')} of the tarball: ${r.stderr}`);
    console.log(`  path: npm install ${args.join(' ')} --prefer-offline <tarball> (registry reachable): ${seconds()} s`);
    return { path: 'registry', stdout: r.stdout };
  }
  assert.not.ok(registryRequired, `REQUIRE_NPM_REGISTRY=1 but npm ping failed: ${ping.stderr || ping.error}`);
  const r = npm(['install', ...args, '--offline', tarball], dir);
  if (r.status === 0) {
    console.log(`  path: npm install ${args.join(' ')} --offline <tarball> (registry unreachable, npm's cache has every dependency): ${seconds()} s`);
    return { path: 'offline', stdout: r.stdout };
  }
  assert.match(r.stderr, /ENOTCACHED|only-if-cached/, `npm install of the tarball: ${r.stderr}`);
  console.log(`  path: FALLBACK (registry unreachable and npm's cache lacks ${r.stderr.match(/request to (\S+) failed/)?.[1] ?? 'a dependency'}): the tarball unpacked, the checkout's dependencies linked`);
  const installed = join(dir, 'node_modules/fused-multilabel');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  for (const dep of readdirSync(join(root, 'node_modules'))) if (!dep.startsWith('.')) symlinkSync(join(root, 'node_modules', dep), join(dir, 'node_modules', dep));
  mkdirSync(join(dir, 'node_modules/.bin'));
  symlinkSync('../fused-multilabel/dist/cli.js', join(dir, 'node_modules/.bin/fused-multilabel'));
  return { path: 'fallback', stdout: '' };
}

/** What a new user does first: import, a loss, an encoder forward, an n-gram training, the CLI. */
function useAtOnce(dir) {
  const installed = join(dir, 'node_modules/fused-multilabel');
  assert.ok(existsSync(join(installed, `prebuilds/${platform}/fused_multilabel.node`)));
  assert.not.ok(existsSync(join(installed, 'build-cmake')) || existsSync(join(installed, 'build')), 'nothing was built');
  const script = `
    import { bceWithLogits, Encoder, Trainer } from 'fused-multilabel';
    const loss = bceWithLogits(new Float32Array([0.5, -1, 2, 0]), new Float32Array([1, 0, 1, 0]), { shape: [2, 2] }).loss;
    const enc = await Encoder.create({ architecture: 'bert', vocabSize: 30, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 8, numLabels: 3 }, { device: 'cpu', seed: 1 });
    const logits = await enc.forward({ inputIds: new Int32Array([2, 5, 7, 3]), attentionMask: new Uint8Array([1, 1, 1, 1]), batchSize: 1, seqLen: 4 });
    const rows = Array.from({ length: 40 }, (_, i) => i % 2 ? { text: 'printer jammed on floor ' + i, labels: ['hardware'] } : { text: 'charged twice, refund please ' + i, labels: ['billing'] });
    const trainer = new Trainer({ model: 'ngram', epochs: 3, lr: 0.05, seed: 1 });
    await trainer.fit(rows.slice(0, 30), rows.slice(30));
    const [p] = await trainer.classifier.predict(['my printer is jammed']);
    trainer.dispose();
    console.log(JSON.stringify({ loss, logits: Array.from(logits), top: Object.entries(p.scores).sort((a, b) => b[1] - a[1])[0][0] }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  const expected = (Math.log1p(Math.exp(-0.5)) + Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(-2)) + Math.log(2)) / 4;
  assert.ok(Math.abs(out.loss - expected) < 1e-6, `loss ${out.loss} vs ${expected}`);
  assert.is(out.logits.length, 3);
  assert.ok(out.logits.every(Number.isFinite));
  assert.is(out.top, 'hardware', 'the n-gram model trained');
  const cli = (...args) => spawnSync(process.execPath, [join(dir, 'node_modules/.bin/fused-multilabel'), ...args], { cwd: dir, encoding: 'utf8' });
  const info = cli('info');
  assert.is(info.status, 0, info.stderr);
  assert.match(info.stdout, /SGEMM: /);
  assert.not.match(info.stdout, /NOT LOADED/);
  const train = cli('train', '--data', join(installed, 'examples/tickets.csv'), '--out', 'model', '--epochs', '1');
  assert.is(train.status, 0, train.stderr);
  assert.match(train.stdout, /model saved to/);
  const predict = cli('predict', '--model', 'model', '--text', 'I was charged twice for my subscription');
  assert.is(predict.status, 0, predict.stderr);
  assert.ok(Array.isArray(JSON.parse(predict.stdout).labels));
}

test('installed with --ignore-scripts: import, a loss, an encoder forward, n-gram training, the CLI', () => {
  installTarball(project, ['--ignore-scripts']);
  useAtOnce(project);
});

test('installed with scripts allowed: the install script finds the prebuild and builds nothing; everything works', () => {
  const dir = join(scratch, 'project-scripts');
  const r = installTarball(dir, ['--foreground-scripts']);
  if (r.path !== 'fallback') assert.match(r.stdout, /fused-multilabel: using the prebuilt binary/);
  useAtOnce(dir);
});

test('the install script builds nothing when the prebuild loads', () => {
  const t0 = Date.now();
  const r = npm(['run', 'install', '--offline'], join(project, 'node_modules/fused-multilabel'));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /using the prebuilt binary/);
  assert.not.ok(existsSync(join(project, 'node_modules/fused-multilabel/build-cmake')), 'nothing was built');
  console.log(`  the install script with the prebuild: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test('the install script builds from source when asked, or when the prebuild does not load', () => {
  const pkg = join(project, 'node_modules/fused-multilabel');
  // no CMake and no node-gyp on this PATH: a build from source stops at once, saying so
  const env = { ...process.env, npm_lifecycle_event: 'install', PATH: join(scratch, 'no-such-bin'), npm_config_node_gyp: join(scratch, 'no-node-gyp.js') };
  delete env.npm_config_build_from_source;
  const install = (extra = {}, args = []) => spawnSync(process.execPath, [join(pkg, 'scripts/build-native.mjs'), ...args], { cwd: pkg, encoding: 'utf8', env: { ...env, ...extra } });
  assert.match(install().stdout, /using the prebuilt binary/);
  for (const [extra, args] of [[{ FUSED_MULTILABEL_BUILD_FROM_SOURCE: '1' }, []], [{ npm_config_build_from_source: 'true' }, []], [{}, ['--build-from-source']]]) {
    const r = install(extra, args);
    assert.is(r.status, 1, JSON.stringify(extra) + args);
    assert.not.match(r.stdout, /using the prebuilt binary/);
    assert.match(r.stderr, /neither CMake nor node-gyp was found/);
  }
  writeFileSync(join(pkg, `prebuilds/${platform}/fused_multilabel.node`), 'truncated');
  const r = install();
  assert.match(r.stdout, /does not load here .*; building from source/);
  assert.match(r.stderr, /neither CMake nor node-gyp was found/);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
