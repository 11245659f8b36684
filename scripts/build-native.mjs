#!/usr/bin/env node
// Builds the native addon. Run by `npm install` (the package's install script) and `npm run build:native`.
// With --bench it builds the benchmark addon instead (fused_multilabel_bench.node beside the main one: the
// same API plus the benchmark-only entry points; `npm run build:bench`, or bench/run.mjs on demand).
//
// cmake-js is the primary build (CPU always, CUDA when nvcc is found); without
// CMake it falls back to node-gyp (CPU only). Environment:
//   FUSED_MULTILABEL_CUDA=off           build without CUDA even when nvcc is present
//   FUSED_MULTILABEL_CUDA_ARCHS="90"    CUDA architectures (CMake syntax, ';'-separated)
//   FUSED_MULTILABEL_BLAS=on            also link OpenBLAS, for the SGEMM benchmark's comparison only
//   FUSED_MULTILABEL_BUILD_DIR=dir      build folder (default build-cmake)
//   FUSED_MULTILABEL_SANITIZE=1         AddressSanitizer + UBSan, CPU only (used by npm run test:sanitize)
//   FUSED_MULTILABEL_BUILD_FROM_SOURCE=1  build even when a prebuilt binary loads
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const env = process.env;
const off = (v) => v !== undefined && /^(0|off|false|no)$/i.test(v);

function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...env, ...extraEnv } });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function haveCmake() {
  const r = spawnSync('cmake', ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/** The prebuilt binary for this platform, as lib/binding.ts looks for it. */
export const prebuildPath = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'fused_multilabel.node');

/** Whether `path` loads (in a child process, so a broken binary cannot take this one down); the reason when not. */
export function tryLoad(path) {
  const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).deviceInfo()', path], { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr || r.error?.message || `exit ${r.status}`).split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`;
}

function fromSourceRequested() {
  const npmFlag = env.npm_config_build_from_source;
  return (
    process.argv.includes('--build-from-source') ||
    /^(1|on|true|yes)$/i.test(env.FUSED_MULTILABEL_BUILD_FROM_SOURCE ?? '') ||
    (npmFlag !== undefined && (/^(1|true)$/i.test(npmFlag) || npmFlag === 'fused-multilabel'))
  );
}

if (process.argv[1] !== fileURLToPath(import.meta.url)) {
  // imported (scripts/prebuild.mjs): build nothing
} else if (env.npm_lifecycle_event === 'install' && !fromSourceRequested() && existsSync(prebuildPath)) {
  const why = tryLoad(prebuildPath);
  if (why === null) {
    console.log(`fused-multilabel: using the prebuilt binary ${prebuildPath} (nothing to build; npm rebuild fused-multilabel --build-from-source builds it here)`);
    process.exit(0);
  }
  console.log(`fused-multilabel: the prebuilt binary ${prebuildPath} does not load here (${why}); building from source`);
  build();
} else {
  build();
}

function build() {
  const sanitize = env.FUSED_MULTILABEL_SANITIZE === '1';
  const bench = process.argv.includes('--bench');
  const buildDir = env.FUSED_MULTILABEL_BUILD_DIR || (sanitize ? 'build-sanitize' : 'build-cmake');

  if (haveCmake()) {
    const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    // `configure` then `build` rather than `compile`: compile skips configuring a folder configured
    // before, which would ignore the switches below. Configuring again is incremental and takes seconds.
    const args = ['--out', buildDir];
    // Every option is passed explicitly, every time: CMake caches -D values, so a switch left out would
    // silently keep whatever an earlier build in the same folder chose.
    const cuda = !sanitize && !off(env.FUSED_MULTILABEL_CUDA);
    const blas = !sanitize && /^(1|on|true|yes)$/i.test(env.FUSED_MULTILABEL_BLAS ?? '');
    if (sanitize) args.push('--debug');
    args.push(`--CDFML_SANITIZE=${sanitize ? 'ON' : 'OFF'}`, `--CDFML_CUDA=${cuda ? 'ON' : 'OFF'}`, `--CDFML_BLAS=${blas ? 'ON' : 'OFF'}`);
    args.push(`--CDFML_CUDA_ARCHS=${env.FUSED_MULTILABEL_CUDA_ARCHS ?? ''}`);
    const buildEnv = { CMAKE_BUILD_PARALLEL_LEVEL: env.CMAKE_BUILD_PARALLEL_LEVEL || '2' };
    let status;
    if (bench && existsSync(join(root, buildDir, 'CMakeCache.txt'))) {
      // The benchmark addon links the objects of the addon configured in this folder: it keeps that
      // configuration (the switches above apply only to a fresh folder), and plain CMake builds it.
      status = run('cmake', ['--build', buildDir, '--target', 'fused_multilabel_bench'], buildEnv);
    } else {
      status = run(process.execPath, [cmakeJs, 'configure', ...args], buildEnv);
      if (status === 0) status = run(process.execPath, [cmakeJs, 'build', ...args, ...(bench ? ['--target', 'fused_multilabel_bench'] : [])], buildEnv);
    }
    if (status !== 0) {
      console.error(`fused-multilabel: the CMake build failed (exit ${status}). Fix the error above and run: npm run build:${bench ? 'bench' : 'native'}`);
      process.exit(status);
    }
  } else if (bench) {
    console.error('fused-multilabel: the benchmark addon needs CMake (apt-get install cmake)');
    process.exit(1);
  } else {
    console.log('CUDA: off (CMake not found: building the CPU-only fallback with node-gyp)');
    const gyp = env.npm_config_node_gyp || join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
    if (!existsSync(gyp)) {
      console.error('fused-multilabel: neither CMake nor node-gyp was found; install cmake (apt-get install cmake) and run: npm run build:native');
      process.exit(1);
    }
    const status = run(process.execPath, [gyp, 'rebuild']);
    if (status !== 0) process.exit(status);
  }
}
