#!/usr/bin/env node
// Runs every test file (test/**/*.test.js) in its own Node process with uvu, then prints one plain
// closing line: `N passed, N failed, N skipped`. Exits non-zero on any failure, on a file that crashes
// or prints no uvu summary, and when no test ran at all.
//
//   node test/run.mjs                 all files
//   node test/run.mjs losses encoder  files whose path contains any of these words
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const filters = process.argv.slice(2);
const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS || 20 * 60 * 1000);

function findTests(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findTests(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

function runFile(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(process.env.TEST_NODE_ARGS?.split(' ').filter(Boolean) ?? []), file], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      out += d;
      process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      out += `\n[test runner] ${relative(root, file)} timed out after ${FILE_TIMEOUT_MS} ms\n`;
      child.kill('SIGKILL');
    }, FILE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, signal, out });
    });
  });
}

const files = findTests(here).filter((f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w)));
let passed = 0;
let failed = 0;
let skipped = 0;
const broken = [];
const started = Date.now();

for (const file of files) {
  const name = relative(root, file);
  console.log(`\n=== ${name}`);
  const { code, signal, out } = await runFile(file);
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const skip = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (Number.isNaN(total) || Number.isNaN(ok)) {
    failed += 1;
    broken.push(`${name}: no test summary (exit ${code}${signal ? `, ${signal}` : ''})`);
    continue;
  }
  passed += ok;
  failed += total - ok;
  skipped += skip;
  if (total - ok > 0) broken.push(`${name}: ${total - ok} failed`);
  else if (code !== 0) {
    failed += 1;
    broken.push(`${name}: exit ${code}${signal ? ` (${signal})` : ''} although every test passed`);
  }
}

console.log(`\n${files.length} test files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const b of broken) console.log(`FAILED ${b}`);
if (passed + failed === 0) {
  console.log('no test ran');
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
