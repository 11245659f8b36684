// The binary loader's failure message (ERR_NO_BINARY): the loader is copied, with the module it imports,
// into folders holding no binary at all, once as a checkout and once as an installed dependency.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'fml-binding-'));

/** Loads the binding from a copy of dist/binding.js under `pkg`; returns the error's code and message. */
function loadFrom(pkg) {
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"type":"module"}');
  for (const f of ['binding.js', 'errors.js']) copyFileSync(join(root, 'dist', f), join(pkg, 'dist', f));
  const code = `import('${join(pkg, 'dist/binding.js')}').then((m) => { try { m.loadBinding(); console.log('loaded'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } });`;
  const env = { ...process.env };
  delete env.FUSED_MULTILABEL_BINARY;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const platform = `${process.platform}-${process.arch}`;

test('ERR_NO_BINARY in a checkout: the platform, every path tried, npm run build:native', () => {
  const pkg = join(scratch, 'checkout');
  const e = loadFrom(pkg);
  assert.is(e.code, 'ERR_NO_BINARY');
  assert.ok(e.message.includes(`no binary for ${platform}`), e.message);
  assert.ok(e.message.includes(join(pkg, `prebuilds/${platform}/fused_multilabel.node`) + ' (not found)'), e.message);
  assert.ok(e.message.includes(join(pkg, 'build-cmake/Release/fused_multilabel.node')), e.message);
  assert.ok(e.message.includes(`npm run build:native (in ${pkg}`), e.message);
});

test('ERR_NO_BINARY in an installed package: npm rebuild --build-from-source', () => {
  const pkg = join(scratch, 'project/node_modules/fused-multilabel');
  const e = loadFrom(pkg);
  assert.is(e.code, 'ERR_NO_BINARY');
  assert.ok(e.message.includes(`no binary for ${platform}`), e.message);
  assert.ok(e.message.includes('npm rebuild fused-multilabel --build-from-source'), e.message);
  assert.not.ok(e.message.includes('build:native'), e.message);
});

test('a binary that does not load is named with its error', () => {
  const pkg = join(scratch, 'broken');
  mkdirSync(join(pkg, `prebuilds/${platform}`), { recursive: true });
  writeFileSync(join(pkg, `prebuilds/${platform}/fused_multilabel.node`), 'not an ELF file');
  const e = loadFrom(pkg);
  assert.is(e.code, 'ERR_NO_BINARY');
  assert.match(e.message, new RegExp(`prebuilds/${platform}/fused_multilabel.node \\((?!not found)`));
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
