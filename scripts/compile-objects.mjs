// What the test-only binaries (scripts/build-cuda-sim.mjs, scripts/build-cross-check.mjs) and the Clang test
// share to compile C++ outside CMake: the object cache's naming (a hash of the inputs), the header walk it hashes,
// the addon's include flags, and compiling units `jobs` at a time (each object written beside its final name and
// renamed into place, so that an interrupted build never leaves a half-written object in the cache).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The .h and .cuh files under `dir`, sorted. */
export function headerFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? headerFiles(join(dir, e.name)) : /\.(h|cuh)$/.test(e.name) ? [join(dir, e.name)] : []))
    .sort();
}

/** Updates `hash` with each file's path and contents. */
export function hashFiles(hash, files) {
  for (const f of files) hash.update(f).update(readFileSync(f));
  return hash;
}

/** The cached object of repository-relative `rel` in `objDir` for the inputs hashed into `key` (a sha1 Hash). */
export function objectFile(objDir, rel, key) {
  return join(objDir, `${rel.replace(/[/.]/g, '_')}-${key.digest('hex').slice(0, 16)}.o`);
}

/** A sha1 Hash over the headers under native/, what every unit's object depends on besides its own source. */
export function nativeHeadersHash() {
  return hashFiles(createHash('sha1'), headerFiles(join(root, 'native')));
}

/** The include and define flags the addon's sources (N-API bindings, node-addon-api) compile with, as CMake gives
 * them; Node's headers are looked for beside the running node, as Node's own installs lay them out. */
export function addonFlags() {
  const headers = join(dirname(process.execPath), '..', 'include', 'node');
  if (!existsSync(join(headers, 'node_api.h'))) throw new Error(`Node's headers are not beside ${process.execPath} (${headers})`);
  const napi = createRequire(import.meta.url)('node-addon-api').include_dir;
  return [`-I${headers}`, `-I${napi}`, '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED'];
}

function compile(cxx, flags, src, obj) {
  return new Promise((resolve, reject) => {
    const child = spawn(cxx, [...flags, '-c', src, '-o', `${obj}.tmp`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${cxx} failed on ${relative(root, src)}:\n${err.slice(0, 4000)}`));
      renameSync(`${obj}.tmp`, obj);
      resolve();
    });
  });
}

/** Compiles every [src, obj, flags] of `units` with `cxx`, `jobs` at a time; rejects with the first failure. */
export async function compileObjects(cxx, units, jobs = 2) {
  let next = 0;
  const worker = async () => {
    while (next < units.length) {
      const [src, obj, flags] = units[next++];
      await compile(cxx, flags, src, obj);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
}
