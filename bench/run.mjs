#!/usr/bin/env node
// Runs the benchmark suites: every bench/<suite>.bench.mjs, each in its own process.
//   npm run bench                 all suites
//   npm run bench -- losses       the suites whose name contains "losses"
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)));
if (suites.length === 0) {
  console.error(`no benchmark suite matches ${filters.join(', ')}; suites: ${readdirSync(here).filter((f) => f.endsWith('.bench.mjs')).join(', ')}`);
  process.exit(1);
}
let failed = 0;
for (const s of suites) {
  console.log(`\n### ${s.replace('.bench.mjs', '')}`);
  const r = spawnSync(process.execPath, [join(here, s), ...passThrough], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
