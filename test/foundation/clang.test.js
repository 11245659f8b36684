// The CPU sources must build with Clang as well as GCC (macOS has only Clang; some Linux users set CXX=clang++).
// Clang and GCC differ where it matters here: a lambda does not inherit its function's target attribute in
// Clang, so an AVX-512 intrinsic inside one is a compile error that GCC never shows. When a clang++ is on the
// PATH, every CPU translation unit is compiled (code generation included, where those errors appear);
// otherwise the test is skipped with the reason printed, and REQUIRE_CLANG=1 (set by .ci/run, which installs
// Debian's clang) makes that a failure.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

function findClang() {
  const names = ['clang++'];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      for (const f of readdirSync(dir)) if (/^clang\+\+-\d+$/.test(f)) names.push(f);
    } catch {
      // unreadable PATH entry
    }
  }
  for (const name of names) {
    const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return name;
  }
  return null;
}

const clang = findClang();
const sources = ['native/core', 'native/ops', 'native/model'].flatMap((d) =>
  readdirSync(join(root, d))
    .filter((f) => f.endsWith('.cpp'))
    .map((f) => join(d, f)),
);

const required = process.env.REQUIRE_CLANG === '1';
if (!clang && !required) console.log('skipping the Clang build check: no clang++ on the PATH');
(clang || required ? test : test.skip)('every CPU source compiles with Clang, warnings as errors', () => {
  assert.ok(clang, 'REQUIRE_CLANG=1 but there is no clang++ on the PATH');
  assert.ok(sources.length >= 10, `found ${sources.length} sources`);
  const failures = [];
  for (const src of sources) {
    const r = spawnSync(
      clang,
      ['-std=gnu++17', '-O0', '-c', '-o', process.platform === 'win32' ? 'NUL' : '/dev/null', '-Wall', '-Wextra',
        '-Wno-unused-parameter', '-Wno-unknown-pragmas', '-Werror', '-I', join(root, 'native'), join(root, src)],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) failures.push(`${src}:\n${(r.stderr || r.stdout).slice(0, 1500)}`);
  }
  assert.is(failures.length, 0, failures.join('\n'));
});

test.run();
