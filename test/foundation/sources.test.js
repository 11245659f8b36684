// native/sources.cmake is the one list of native sources (CMake includes it; the node-gyp fallback reads it
// through scripts/gyp-sources.mjs): every .cpp/.cu under native/ is listed exactly once, in the list of
// the binary it belongs to, and every listed path exists.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sourceLists } from '../../scripts/gyp-sources.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : /\.(cpp|cu)$/.test(e.name) ? [relative(root, join(dir, e.name))] : []);
}

test('every native source is listed exactly once, and every listed source exists', () => {
  const lists = sourceLists();
  assert.equal(Object.keys(lists).sort(), ['FML_BENCH_SOURCES', 'FML_CPU_SOURCES', 'FML_CROSS_CHECK_SOURCES', 'FML_CUDA_SIM_KERNELS',
    'FML_CUDA_SIM_SOURCES', 'FML_CUDA_SOURCES', 'FML_ENTRY_SOURCES']);
  const listed = Object.values(lists).flat();
  const dup = listed.filter((p, i) => listed.indexOf(p) !== i);
  assert.equal(dup, [], `listed twice: ${dup}`);
  for (const p of listed) assert.ok(existsSync(join(root, p)), `${p} is listed but does not exist`);
  const missing = walk(join(root, 'native')).filter((p) => !listed.includes(p));
  assert.equal(missing, [], `not listed in native/sources.cmake: ${missing}`);
  assert.ok([...lists.FML_CUDA_SOURCES, ...lists.FML_CUDA_SIM_KERNELS].every((p) => p.endsWith('.cu')), 'the CUDA lists hold .cu files only');
  // the test-only sources (the CUDA simulator, the cross-architecture check) stay out of every addon list
  for (const name of ['FML_CPU_SOURCES', 'FML_CUDA_SOURCES', 'FML_ENTRY_SOURCES', 'FML_BENCH_SOURCES'])
    assert.ok(lists[name].every((p) => !p.startsWith('native/testing/')), `${name} lists a native/testing source`);
  assert.ok([...lists.FML_CPU_SOURCES, ...lists.FML_ENTRY_SOURCES, ...lists.FML_BENCH_SOURCES].every((p) => p.endsWith('.cpp')));
});

test('the node-gyp fallback builds the CPU list and the module entry, never the benchmark sources', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts/gyp-sources.mjs')], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const { FML_CPU_SOURCES, FML_ENTRY_SOURCES } = sourceLists();
  assert.equal(r.stdout.trim().split('\n'), [...FML_CPU_SOURCES, ...FML_ENTRY_SOURCES]);
});

test.run();
