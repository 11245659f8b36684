// The packed package with a prebuilt binary: `npm pack` ships prebuilds/<platform>-<arch>/ (placed by
// scripts/prebuild.mjs --from the current build), a fresh project installs the tarball with scripts
// blocked and offline (dependencies from npm's cache, which the checkout's own `npm install` fills; where
// the cache lacks them the tarball is unpacked into node_modules and the checkout's dependencies linked
// beside it, said in the output), and import, a loss, an encoder forward and the CLI work at once; the
// install script then builds nothing. About 15-40 s, most of it npm itself.
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

test('installed with --ignore-scripts --offline: import, a loss, an encoder forward, the CLI', () => {
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh', private: true, type: 'module' }));
  const r = npm(['install', '--ignore-scripts', '--offline', tarball], project);
  const installed = join(project, 'node_modules/fused-multilabel');
  if (r.status !== 0) {
    assert.match(r.stderr, /ENOTCACHED|only-if-cached/, `npm install of the tarball: ${r.stderr}`);
    console.log(`  npm's cache lacks a dependency (${r.stderr.match(/registry\.npmjs\.org\/(\S+)/)?.[1]}): unpacking the tarball, dependencies linked from the checkout`);
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    for (const dep of readdirSync(join(root, 'node_modules'))) if (!dep.startsWith('.')) symlinkSync(join(root, 'node_modules', dep), join(project, 'node_modules', dep));
    mkdirSync(join(project, 'node_modules/.bin'));
    symlinkSync('../fused-multilabel/dist/cli.js', join(project, 'node_modules/.bin/fused-multilabel'));
  }
  assert.ok(existsSync(join(installed, `prebuilds/${platform}/fused_multilabel.node`)));
  assert.not.ok(existsSync(join(installed, 'build-cmake')), 'nothing was built');
  const script = `
    import { bceWithLogits, Encoder } from 'fused-multilabel';
    const loss = bceWithLogits(new Float32Array([0.5, -1, 2, 0]), new Float32Array([1, 0, 1, 0]), { shape: [2, 2] }).loss;
    const enc = await Encoder.create({ architecture: 'bert', vocabSize: 30, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 8, numLabels: 3 }, { device: 'cpu', seed: 1 });
    const logits = await enc.forward({ inputIds: new Int32Array([2, 5, 7, 3]), attentionMask: new Uint8Array([1, 1, 1, 1]), batchSize: 1, seqLen: 4 });
    console.log(JSON.stringify({ loss, logits: Array.from(logits) }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
  assert.is(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  const expected = (Math.log1p(Math.exp(-0.5)) + Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(-2)) + Math.log(2)) / 4;
  assert.ok(Math.abs(out.loss - expected) < 1e-6, `loss ${out.loss} vs ${expected}`);
  assert.is(out.logits.length, 3);
  assert.ok(out.logits.every(Number.isFinite));
  const cli = spawnSync(process.execPath, [join(project, 'node_modules/.bin/fused-multilabel'), 'info'], { cwd: project, encoding: 'utf8' });
  assert.is(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /cpu/i);
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
