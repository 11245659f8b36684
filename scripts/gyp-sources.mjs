#!/usr/bin/env node
// Helper for binding.gyp (the CPU-only node-gyp fallback):
//   node scripts/gyp-sources.mjs           prints the C++ sources under native/, one per line
//   node scripts/gyp-sources.mjs --built   prints "true" when the cmake-js build already made the addon
//   node scripts/gyp-sources.mjs --napi    prints node-addon-api's include folder
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = process.argv[2];

if (arg === '--built') {
  console.log(existsSync(join(root, 'build-cmake/Release/fused_multilabel.node')) ? 'true' : 'false');
} else if (arg === '--napi') {
  console.log(createRequire(import.meta.url)('node-addon-api').include_dir);
} else {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.cpp')) out.push(relative(root, p));
    }
  };
  walk(join(root, 'native'));
  console.log(out.join('\n'));
}
