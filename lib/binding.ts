/**
 * Loads the native addon. Tries, in order: `FUSED_MULTILABEL_BINARY` (an explicit path), the cmake-js
 * build (`build-cmake/Release`), the node-gyp fallback build (`build/Release`), and the prebuilt binary
 * the package ships (`prebuilds/<platform>-<arch>`, made by `npm run prebuilds`). An installed package
 * has a build folder only when it was built from source on purpose (the install script builds nothing
 * when the prebuild loads), so a build wins over the prebuild. A missing binary throws ERR_NO_BINARY
 * naming the platform looked for, every path tried and the command that builds it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codedError } from './errors.js';

/** The package root (the folder holding package.json), from dist/ or lib/. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

// The raw binding's surface is typed where it is used; it checks its own arguments again.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NativeBinding = Record<string, any>;

let cached: NativeBinding | undefined;

export function binaryCandidates(): string[] {
  const out: string[] = [];
  if (process.env.FUSED_MULTILABEL_BINARY) out.push(process.env.FUSED_MULTILABEL_BINARY);
  out.push(
    join(packageRoot, 'build-cmake/Release/fused_multilabel.node'),
    join(packageRoot, 'build/Release/fused_multilabel.node'),
    join(packageRoot, `prebuilds/${process.platform}-${process.arch}/fused_multilabel.node`),
  );
  return out;
}

export function loadBinding(): NativeBinding {
  if (cached) return cached;
  // libgomp reads OMP_WAIT_POLICY once, when the addon's dlopen loads it. Its default spins idle threads
  // between parallel regions; interleaved with OpenBLAS's own threads (the encoder alternates matrix
  // products and row-parallel ops) the spinning threads steal the cores: passive waiting measured 2-3×
  // less CPU time for an encoder training step on a 2-core machine. A value set by the user wins.
  if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = 'PASSIVE';
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const path of binaryCandidates()) {
    if (!existsSync(path)) {
      tried.push(`${path} (not found)`);
      continue;
    }
    try {
      cached = require(path) as NativeBinding;
      return cached;
    } catch (err) {
      tried.push(`${path} (${(err as Error).message.split('\n')[0]})`);
      if (process.env.FUSED_MULTILABEL_BINARY) break;
    }
  }
  throw noBinaryError(tried);
}

/** ERR_NO_BINARY: the platform looked for, the paths tried, and the one command that builds the addon here. */
export function noBinaryError(tried: readonly string[]): Error {
  const root = packageRoot;
  const platform = `${process.platform}-${process.arch}`;
  // Installed as a dependency (…/node_modules/fused-multilabel): npm rebuilds it from the user's project.
  const installed = /[\\/]node_modules[\\/]/.test(root);
  const command = installed ? 'npm rebuild fused-multilabel --build-from-source (in your project)' : `npm run build:native (in ${root})`;
  return codedError(
    'ERR_NO_BINARY',
    `The fused-multilabel native addon could not be loaded: no binary for ${platform} (Node ${process.versions.node}, N-API ${process.versions.napi}). Tried:\n  ${tried.join('\n  ')}\n` +
      `Build it from source (needs CMake and a C++17 compiler; nvcc for CUDA) with: ${command}`,
  );
}
