// Loads the benchmark addon (fused_multilabel_bench.node, npm run build:bench) for a test file: built here
// (incremental) and selected for the whole process through FUSED_MULTILABEL_BINARY (child processes inherit
// it), before the first call into ../dist. Without CMake it cannot be built: the reason is printed and the
// caller skips its tests (REQUIRE_BENCH_ADDON=1 makes that a failure); a failed build with CMake present
// registers a failing test. Returns whether the addon is loaded.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchAddonPath, buildBenchAddon } from '../../bench/addon.mjs';

export function useBenchAddonForTests(what) {
  if (process.env.FUSED_MULTILABEL_BINARY === benchAddonPath) return true;  // a child of a file that built it
  const haveCmake = spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!haveCmake && process.env.REQUIRE_BENCH_ADDON !== '1') {
    console.log(`skipping ${what}: CMake is not installed (npm run build:bench needs it)`);
    return false;
  }
  const why = buildBenchAddon({ quiet: true });
  if (why) {
    test('the benchmark addon builds', () => assert.unreachable(why));
    return false;
  }
  process.env.FUSED_MULTILABEL_BINARY = benchAddonPath;
  return true;
}
