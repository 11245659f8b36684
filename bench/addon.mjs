// The benchmark addon: fused_multilabel_bench.node, built from the same objects as the addon users load
// plus the benchmark- and test-only entry points (_copyBytes, _benchSgemm, _fmaPeak, _benchEncoderKernels,
// _sgemm, _dropoutKeep: see native/addon/bench_binding.cpp). `npm run build:bench` builds it; so do bench/run.mjs,
// useBenchAddon() and the tests through test/helpers/bench_addon.js.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The folder scripts/build-native.mjs builds into (the sanitizer build is a Debug build of its own).
const sanitize = process.env.FUSED_MULTILABEL_SANITIZE === '1';
const buildDir = join(root, process.env.FUSED_MULTILABEL_BUILD_DIR || (sanitize ? 'build-sanitize' : 'build-cmake'), sanitize ? 'Debug' : 'Release');
export const benchAddonPath = join(buildDir, 'fused_multilabel_bench.node');
/** The addon users load, built beside the benchmark addon from the same objects. */
export const userAddonPath = join(buildDir, 'fused_multilabel.node');

/**
 * Builds the benchmark addon or brings it up to date (incremental: seconds when nothing changed).
 * Returns null on success, else why it failed; `quiet` captures the build's output into the reason.
 */
export function buildBenchAddon({ quiet = false } = {}) {
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs'), '--bench'], {
    cwd: root, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8',
  });
  if (r.status === 0 && existsSync(benchAddonPath)) return null;
  return `npm run build:bench failed (exit ${r.status})${quiet ? `:\n${r.stdout}${r.stderr}`.slice(-3000) : ''}`;
}

/**
 * Makes the package load the benchmark addon: call it before the first call into ../dist (the package
 * loads its addon on first use, from FUSED_MULTILABEL_BINARY when set). An explicit
 * FUSED_MULTILABEL_BINARY (bench/run.mjs sets it after building) is left alone. Exits when it cannot build.
 */
export function useBenchAddon() {
  if (process.env.FUSED_MULTILABEL_BINARY) return;
  const why = buildBenchAddon();
  if (why) {
    console.error(`the benchmark addon could not be built: ${why}`);
    process.exit(1);
  }
  process.env.FUSED_MULTILABEL_BINARY = benchAddonPath;
}
