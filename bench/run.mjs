#!/usr/bin/env node
// Runs the benchmark suites: every bench/<suite>.bench.mjs, each in its own process.
//   npm run bench                 all suites
//   npm run bench -- losses       the suites whose name contains "losses"
// The suites run against the benchmark addon (bench/addon.mjs), built or brought up to date here first.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchAddonPath, buildBenchAddon } from './addon.mjs';

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
const env = { ...process.env };
if (!env.FUSED_MULTILABEL_BINARY) {
  const why = buildBenchAddon();
  if (why) {
    console.error(`the benchmark addon could not be built: ${why}`);
    process.exit(1);
  }
  env.FUSED_MULTILABEL_BINARY = benchAddonPath;
}
let failed = 0;
for (const s of suites) {
  console.log(`\n### ${s.replace('.bench.mjs', '')}`);
  const r = spawnSync(process.execPath, [join(here, s), ...passThrough], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
