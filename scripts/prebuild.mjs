#!/usr/bin/env node
// `npm run prebuild`: builds the addon for this platform into prebuilds/<platform>-<arch>/fused_multilabel.node,
// the binary that `npm pack` ships and lib/binding.ts loads when no build folder holds one.
//
// The build is the release build the install script makes (CPU with every ISA path picked at run time,
// CUDA when nvcc is present with the CUDA runtime linked statically, no OpenBLAS), in its own folder
// (build-prebuild) so that a developer's build-cmake keeps its own switches. The result must load in a
// fresh Node process before it is placed (atomically: copy to a temporary name, then rename).
//
//   npm run prebuild                   build, then place the binary
//   node scripts/prebuild.mjs --from F place an existing binary F (e.g. build-cmake/Release/fused_multilabel.node)
// (The full rebuild is `npm run build:all`, not `build`, so that npm does not run this as its pre-hook.)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prebuildPath, tryLoad } from './build-native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fromAt = process.argv.indexOf('--from');
let source;
if (fromAt >= 0) {
  source = process.argv[fromAt + 1] && resolve(process.argv[fromAt + 1]);
  if (!source) {
    console.error('prebuild: --from needs a path to a fused_multilabel.node');
    process.exit(2);
  }
} else {
  const buildDir = 'build-prebuild';
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs')], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, FUSED_MULTILABEL_BUILD_DIR: buildDir, FUSED_MULTILABEL_BLAS: 'off', FUSED_MULTILABEL_SANITIZE: '' },
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
  source = join(root, buildDir, 'Release/fused_multilabel.node');
}

const why = tryLoad(source);
if (why !== null) {
  console.error(`prebuild: ${source} does not load (${why}); not placing it`);
  process.exit(1);
}
mkdirSync(dirname(prebuildPath), { recursive: true });
const tmp = `${prebuildPath}.${process.pid}.tmp`;
try {
  copyFileSync(source, tmp);
  renameSync(tmp, prebuildPath);
} catch (err) {
  try {
    unlinkSync(tmp);
  } catch {
    /* never made */
  }
  throw err;
}
console.log(`prebuild: ${prebuildPath} (${(statSync(prebuildPath).size / 1048576).toFixed(1)} MiB)`);
