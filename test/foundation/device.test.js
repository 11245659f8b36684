import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deviceInfo, getThreads, setThreads, resolveDevice } from '../../dist/index.js';
import { assertThrowsCode } from '../helpers/assert.js';
import { cudaAvailable, cudaTest } from '../helpers/cuda.js';

const nvccPresent = spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status === 0;

test('deviceInfo() has the documented shape and never throws', () => {
  const info = deviceInfo();
  assert.type(info.version, 'string');
  assert.type(info.compiledWithCuda, 'boolean');
  assert.ok(Array.isArray(info.cudaArchitectures));
  assert.type(info.cuda.available, 'boolean');
  assert.type(info.cuda.deviceCount, 'number');
  assert.ok(Array.isArray(info.cuda.devices));
  assert.ok(['OpenBLAS', 'built-in'].includes(info.blas), info.blas);
  assert.ok(['avx512', 'avx2', 'generic'].includes(info.attention), info.attention);
  // the attention kernel follows the SGEMM path's ISA (the same CPU checks and environment variables)
  assert.is(info.attention, { avx512: 'avx512', avx2: 'avx2' }[info.sgemm.split(' ')[0]] ?? 'generic');
  assert.ok(info.threads.count >= 1);
  assert.is(info.loadError, undefined);
  if (info.cuda.available) {
    assert.is(info.cuda.error, null);
    assert.is(info.cuda.devices.length, info.cuda.deviceCount);
  } else {
    assert.type(info.cuda.error, 'string');
    assert.ok(info.cuda.error.length > 0, 'a reason is given when CUDA is unavailable');
    assert.is(info.cuda.deviceCount, 0);
  }
});

// Skipped (with the reason printed) where no CUDA build is expected: no nvcc, or a CPU-only build asked for.
const noCudaBuildReason = !nvccPresent
  ? 'nvcc is not on the PATH'
  : process.env.FUSED_MULTILABEL_CUDA === 'off'
    ? 'FUSED_MULTILABEL_CUDA=off'
    : process.env.FUSED_MULTILABEL_SANITIZE === '1'
      ? 'the sanitizer build is CPU-only'
      : null;
if (noCudaBuildReason) console.log(`skipping the CUDA-build check: ${noCudaBuildReason}`);
(noCudaBuildReason ? test.skip : test)('the addon was compiled with CUDA when nvcc is on the PATH (so CI proves every .cu compiles)', () => {
  const info = deviceInfo();
  assert.ok(info.compiledWithCuda, 'nvcc is present but the addon was built without CUDA');
  assert.ok(info.cudaArchitectures.includes('sm_90'), info.cudaArchitectures.join(','));
});

test('setThreads changes the CPU thread count and validates its argument', () => {
  const before = getThreads();
  setThreads(1);
  assert.is(getThreads(), 1);
  assert.is(deviceInfo().threads.count, 1);
  setThreads(before);
  assert.is(getThreads(), before);
  assertThrowsCode(() => setThreads(0), 'ERR_INVALID_ARG', RangeError, /n/);
  assertThrowsCode(() => setThreads(1.5), 'ERR_INVALID_ARG', RangeError);
  assertThrowsCode(() => setThreads('2'), 'ERR_INVALID_ARG', TypeError, /received string/);
});

test('FUSED_MULTILABEL_THREADS sets the initial thread count', () => {
  const r = spawnSync(process.execPath, ['-e', "import('./dist/index.js').then(m => console.log(m.getThreads()))"], {
    env: { ...process.env, FUSED_MULTILABEL_THREADS: '3' },
    encoding: 'utf8',
  });
  assert.is(r.stdout.trim(), '3', r.stderr);
});

test("resolveDevice: 'cpu' is cpu, 'auto' follows availability, 'cuda' without a GPU throws ERR_CUDA", () => {
  assert.is(resolveDevice('cpu'), 'cpu');
  assert.is(resolveDevice('auto'), cudaAvailable ? 'cuda' : 'cpu');
  if (!cudaAvailable) assertThrowsCode(() => resolveDevice('cuda'), 'ERR_CUDA', Error, /not available/);
  assertThrowsCode(() => resolveDevice('gpu'), 'ERR_INVALID_ARG', TypeError, /'auto' \| 'cpu' \| 'cuda'/);
});

test('a missing binary gives ERR_NO_BINARY with every path tried and the rebuild command', () => {
  // A copy of the package without any build: every candidate path is missing.
  const dir = mkdtempSync(join(tmpdir(), 'fml-nobinary-'));
  cpSync('dist', join(dir, 'dist'), { recursive: true });
  cpSync('package.json', join(dir, 'package.json'));
  const script = `import('${join(dir, 'dist/index.js')}').then(async (m) => {
    const { loadBinding } = await import('${join(dir, 'dist/binding.js')}');
    try { loadBinding(); console.log('loaded') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, info: m.deviceInfo() })) }
  })`;
  const env = { ...process.env };
  delete env.FUSED_MULTILABEL_BINARY;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  const out = JSON.parse(r.stdout);
  assert.is(out.code, 'ERR_NO_BINARY');
  assert.match(out.message, /build-cmake\/Release\/fused_multilabel\.node \(not found\)/);
  assert.match(out.message, /build\/Release\/fused_multilabel\.node \(not found\)/);
  assert.match(out.message, /prebuilds\//);
  assert.match(out.message, /npm run build:native/);
  // deviceInfo() still answers, with the reason.
  assert.is(out.info.compiledWithCuda, false);
  assert.match(out.info.loadError, /could not be loaded/);
});

test('an explicit FUSED_MULTILABEL_BINARY that is not an addon is reported with its load error', () => {
  const script = "import('./dist/binding.js').then(m => { try { m.loadBinding(); console.log('{}') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) } })";
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, FUSED_MULTILABEL_BINARY: 'package.json' },
    encoding: 'utf8',
  });
  const out = JSON.parse(r.stdout);
  assert.is(out.code, 'ERR_NO_BINARY');
  assert.match(out.message, /package\.json \(/);
});

test('binding.gyp builds nothing once the cmake-js build exists (npm may run node-gyp on its own)', () => {
  const built = spawnSync(process.execPath, ['scripts/gyp-sources.mjs', '--built'], { encoding: 'utf8' }).stdout.trim();
  const cmakeBinary = existsSync('build-cmake/Release/fused_multilabel.node');
  assert.is(built, cmakeBinary ? 'true' : 'false');
  const sources = spawnSync(process.execPath, ['scripts/gyp-sources.mjs'], { encoding: 'utf8' }).stdout.trim().split('\n');
  assert.ok(sources.includes('native/addon/addon.cpp'), 'the fallback compiles the addon entry point');
  assert.ok(sources.every((f) => f.endsWith('.cpp')), 'the CPU-only fallback never lists .cu files');
});

cudaTest(test, 'CUDA devices report a name, compute capability and memory', () => {
  const info = deviceInfo();
  assert.ok(info.cuda.deviceCount >= 1);
  for (const d of info.cuda.devices) {
    assert.type(d.name, 'string');
    assert.match(d.computeCapability, /^\d+\.\d+$/);
    assert.ok(d.totalMemory > 0);
  }
});

test.run();
