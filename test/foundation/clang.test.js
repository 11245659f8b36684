// The CPU sources must build with Clang as well as GCC (macOS has only Clang; some Linux users set CXX=clang++).
// Clang and GCC differ where it matters here: a lambda does not inherit its function's target attribute in
// Clang, so an AVX-512 intrinsic inside one is a compile error that GCC never shows. When a clang++ is on the
// PATH, every CPU translation unit is compiled (code generation included, where those errors appear);
// otherwise the test is skipped with the reason printed, and REQUIRE_CLANG=1 (set by .ci/run, which installs
// Debian's clang and libc++) makes that a failure.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addonFlags } from '../../scripts/compile-objects.mjs';
import { sourceLists } from '../../scripts/gyp-sources.mjs';

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

// macOS's C++ library is LLVM's libc++, not GCC's libstdc++ (the headers differ in what they declare and which
// of each other they include). With libc++ installed (Debian: libc++-dev), every source the addon builds from,
// the N-API bindings and node-addon-api included, is checked against it: syntax and types, warnings as errors.
const libcxx = clang && spawnSync(clang, ['-stdlib=libc++', '-x', 'c++', '-fsyntax-only', '-'], { input: '#include <vector>\n', encoding: 'utf8' }).status === 0;
if (clang && !libcxx && !required) console.log('skipping the libc++ check: clang++ -stdlib=libc++ finds no libc++ (apt-get install libc++-dev)');
(libcxx || required ? test : test.skip)('every source of the addon compiles against libc++ (macOS\'s C++ library)', () => {
  assert.ok(libcxx, 'REQUIRE_CLANG=1 but clang++ -stdlib=libc++ does not work here (apt-get install libc++-dev libc++abi-dev)');
  const addon = addonFlags();
  const { FML_CPU_SOURCES, FML_ENTRY_SOURCES } = sourceLists();
  const failures = [];
  for (const src of [...FML_CPU_SOURCES, ...FML_ENTRY_SOURCES]) {
    const r = spawnSync(
      clang,
      ['-stdlib=libc++', '-std=gnu++17', '-fsyntax-only', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Wno-unknown-pragmas',
        '-Werror', '-I', join(root, 'native'), ...addon, join(root, src)],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) failures.push(`${src}:\n${(r.stderr || r.stdout).slice(0, 1500)}`);
  }
  assert.is(failures.length, 0, failures.join('\n'));
});

test.run();
