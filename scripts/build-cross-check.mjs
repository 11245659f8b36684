#!/usr/bin/env node
// Builds the test-only cross-architecture check (native/testing/cross_check.cpp; test/foundation/aarch64.test.js)
// with a given C++ compiler: the host's, or an AArch64 cross compiler whose binary runs under qemu-aarch64.
// The binary links the CPU sources of native/sources.cmake outside native/addon/ with FML_CROSS_CHECK_SOURCES;
// with `addon: true` the addon's binding sources and module entry are compiled as well (not linked: they need
// Node's symbols), so that every source the addon builds from is known to compile for that target. Objects are
// cached in build-cross/<name>/obj by a hash of their inputs. Never part of the addon.
//
//   node scripts/build-cross-check.mjs [host|aarch64]   builds it, prints the binary's path
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { addonFlags, compileObjects, nativeHeadersHash, objectFile } from './compile-objects.mjs';
import { sourceLists } from './gyp-sources.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The compiler's `--version` first line, or null when it cannot run. */
export function compilerVersion(cxx) {
  const r = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
}

/**
 * Builds the check binary; returns its path.
 * @param {{cxx: string, name: string, flags?: string[], linkFlags?: string[], addon?: boolean, jobs?: number}} o
 *   flags: compile flags after the common ones (e.g. -Werror); linkFlags: e.g. -static for qemu
 */
export async function buildCrossCheck(o) {
  const objDir = join(root, 'build-cross', o.name, 'obj');
  mkdirSync(objDir, { recursive: true });
  const lists = sourceLists();
  const common = ['-std=gnu++17', '-O3', '-Wall', '-Wextra', '-Wno-unused-parameter', '-fno-fast-math', '-fopenmp-simd',
    `-I${join(root, 'native')}`, ...(o.flags ?? [])];
  const units = [...lists.FML_CPU_SOURCES.filter((f) => !f.startsWith('native/addon/')), ...lists.FML_CROSS_CHECK_SOURCES]
    .map((f) => ({ file: f, flags: common, link: true }));
  if (o.addon) {
    const flags = [...common, '-fPIC', ...addonFlags()];
    for (const f of [...lists.FML_CPU_SOURCES.filter((p) => p.startsWith('native/addon/')), ...lists.FML_ENTRY_SOURCES])
      units.push({ file: f, flags, link: false });
  }
  const headers = nativeHeadersHash();
  const version = compilerVersion(o.cxx) ?? o.cxx;
  const todo = [];
  const objs = [];
  for (const u of units) {
    const src = join(root, u.file);
    const obj = objectFile(objDir, u.file, headers.copy().update(readFileSync(src)).update(u.flags.join(' ')).update(version));
    if (u.link) objs.push(obj);
    if (!existsSync(obj)) todo.push([src, obj, u.flags]);
  }
  await compileObjects(o.cxx, todo, o.jobs ?? 2);
  const out = join(root, 'build-cross', o.name, 'cross_check');
  const link = spawnSync(o.cxx, ['-o', `${out}.tmp`, ...objs, '-lpthread', ...(o.linkFlags ?? [])], { encoding: 'utf8' });
  if (link.status !== 0) throw new Error(`linking the cross check (${o.cxx}) failed:\n${link.stderr}`);
  renameSync(`${out}.tmp`, out);
  return out;
}

/** The two builds the test compares, warnings as errors in both (an install prints no warnings): this machine's,
 * and AArch64's (static, for qemu-aarch64) with the addon's sources too. */
export const TARGETS = {
  host: { cxx: process.env.CXX || 'g++', name: 'host', flags: ['-Werror'] },
  aarch64: { cxx: 'aarch64-linux-gnu-g++', name: 'aarch64', addon: true, flags: ['-Werror'], linkFlags: ['-static'] },
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = TARGETS[process.argv[2] ?? 'host'];
  if (!target) {
    console.error(`usage: node scripts/build-cross-check.mjs [${Object.keys(TARGETS).join('|')}]`);
    process.exit(2);
  }
  buildCrossCheck(target).then(
    (p) => console.log(p),
    (e) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
