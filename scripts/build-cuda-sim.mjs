#!/usr/bin/env node
// Builds the test-only CUDA simulator binary (native/testing/cuda_sim_test.cpp): the real kernel sources
// native/ops/*_cuda.cu compiled as C++ with -fsanitize=thread (whose __tsan_* hooks the simulator
// implements: every load and store is checked), the CPU twins, the encoder, and the simulator itself, as
// listed in native/sources.cmake. Never part of the addon. Objects are cached in build-cuda-sim/obj by a hash of their inputs.
//
//   node scripts/build-cuda-sim.mjs            builds build-cuda-sim/cuda_sim_test, prints its path
//   import { buildCudaSim } from './build-cuda-sim.mjs'
//   await buildCudaSim({ replace: { 'native/ops/adamw_cuda.cu': '/tmp/mutant.cu' }, out: '/tmp/x' })
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { compileObjects, hashFiles, headerFiles, nativeHeadersHash, objectFile } from './compile-objects.mjs';
import { sourceLists } from './gyp-sources.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const buildDir = join(root, 'build-cuda-sim');
const CXX = process.env.CXX || 'g++';

/** Why the simulator cannot be built here (no C++ compiler), or null. */
export function missingCompiler() {
  const r = spawnSync(CXX, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? null : `no C++ compiler (${CXX} --version failed: ${r.error?.message ?? r.stderr.trim()})`;
}

const common = ['-std=gnu++17', '-O2', '-DFML_HAVE_CUDA', '-DFML_CUDA_SIM', `-I${join(root, 'native/testing/include')}`,
  `-I${join(root, 'native')}`, '-fno-fast-math'];
// Kernel units: instrumented (the hooks are ours, the TSan runtime is never linked).
const kernelFlags = [...common, '-x', 'c++', '-fsanitize=thread', '-fno-omit-frame-pointer'];

/**
 * Builds the simulator test binary; returns its path.
 * @param {{replace?: Record<string, string>, out?: string, jobs?: number}} [opts]
 *   replace: repository-relative kernel source → file compiled in its place (the mutation runs)
 */
export async function buildCudaSim(opts = {}) {
  const replace = opts.replace ?? {};
  const jobs = opts.jobs ?? Number(process.env.FML_SIM_JOBS || 2);
  const objDir = join(buildDir, 'obj');
  mkdirSync(objDir, { recursive: true });
  const headers = nativeHeadersHash();
  const lists = sourceLists();
  const abs = (files) => files.map((f) => join(root, f));
  const units = [
    ...abs([...lists.FML_CUDA_SOURCES, ...lists.FML_CUDA_SIM_KERNELS]).map((f) => [f, kernelFlags]),
    ...abs([...lists.FML_CPU_SOURCES.filter((f) => !f.startsWith('native/addon/')), ...lists.FML_CUDA_SIM_SOURCES]).map(
      (f) => [f, common],
    ),
  ];
  const todo = [];
  const objs = [];
  for (const [file, flags] of units) {
    const rel = relative(root, file);
    const src = replace[rel] ?? file;
    // a replaced source is compiled from its own path; its includes still resolve against native/
    const f = src === file ? flags : [...flags, `-I${dirname(file)}`];
    const key = headers.copy().update(readFileSync(src)).update(f.join(' ')).update(CXX);
    // a replaced source may sit next to replaced headers (quoted includes look there first)
    if (src !== file) hashFiles(key, headerFiles(dirname(src)));
    const obj = objectFile(objDir, rel, key);
    objs.push(obj);
    if (!existsSync(obj)) todo.push([src, obj, f]);
  }
  await compileObjects(CXX, todo, jobs);
  const out = opts.out ?? join(buildDir, 'cuda_sim_test');
  const link = spawnSync(CXX, ['-o', `${out}.tmp`, ...objs, '-lpthread'], { encoding: 'utf8' });
  if (link.status !== 0) throw new Error(`linking the CUDA simulator failed:\n${link.stderr}`);
  renameSync(`${out}.tmp`, out);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const why = missingCompiler();
  if (why) {
    console.error(why);
    process.exit(1);
  }
  buildCudaSim().then(
    (p) => console.log(p),
    (e) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
