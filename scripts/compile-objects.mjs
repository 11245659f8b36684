// Compiles C++ units to object files for the test-only binaries (scripts/build-cuda-sim.mjs,
// scripts/build-cross-check.mjs), `jobs` at a time; each object is written beside its final name and renamed
// into place, so that an interrupted build never leaves a half-written object in the cache.
import { spawn } from 'node:child_process';
import { renameSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function compile(cxx, flags, src, obj) {
  return new Promise((resolve, reject) => {
    const child = spawn(cxx, [...flags, '-c', src, '-o', `${obj}.tmp`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${cxx} failed on ${relative(root, src)}:\n${err.slice(0, 4000)}`));
      renameSync(`${obj}.tmp`, obj);
      resolve();
    });
  });
}

/** Compiles every [src, obj, flags] of `units` with `cxx`, `jobs` at a time; rejects with the first failure. */
export async function compileObjects(cxx, units, jobs = 2) {
  let next = 0;
  const worker = async () => {
    while (next < units.length) {
      const [src, obj, flags] = units[next++];
      await compile(cxx, flags, src, obj);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
}
