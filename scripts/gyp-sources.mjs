#!/usr/bin/env node
// Helper for binding.gyp (the CPU-only node-gyp fallback):
//   node scripts/gyp-sources.mjs           prints the addon's C++ sources, one per line: the CPU list and
//                                          the module entry of native/sources.cmake (CMake's own lists)
//   node scripts/gyp-sources.mjs --built   prints "true" when the cmake-js build already made the addon
//   node scripts/gyp-sources.mjs --napi    prints node-addon-api's include folder
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = process.argv[2];

/** The `set(NAME path...)` lists of native/sources.cmake, by name. */
export function sourceLists() {
  const text = readFileSync(join(root, 'native/sources.cmake'), 'utf8').replace(/#.*$/gm, '');
  const lists = {};
  for (const m of text.matchAll(/set\(\s*(\w+)([^)]*)\)/g)) lists[m[1]] = m[2].split(/\s+/).filter(Boolean);
  return lists;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (arg === '--built') {
    console.log(existsSync(join(root, 'build-cmake/Release/fused_multilabel.node')) ? 'true' : 'false');
  } else if (arg === '--napi') {
    console.log(createRequire(import.meta.url)('node-addon-api').include_dir);
  } else {
    const { FML_CPU_SOURCES, FML_ENTRY_SOURCES } = sourceLists();
    console.log([...FML_CPU_SOURCES, ...FML_ENTRY_SOURCES].join('\n'));
  }
}
