/**
 * Durable, atomic writes: one file (`writeFileAtomic`: a temporary file in the same folder, fsync, rename,
 * fsync of the folder) and one directory (`saveDirAtomic`: a temporary sibling directory swapped in with
 * two renames). Every file the package writes goes through `writeFileAtomic`.
 *
 * Directory atomicity: everything is written into a temporary sibling directory; then the previous
 * directory (if any) is renamed aside, the new one renamed into place and the old one removed. A process
 * killed at any point leaves either the previous model under `dir`, or (killed between the two renames)
 * the previous model under a `dir.old-*` sibling, which `resolveModelDir` finds. Nothing half-written is
 * ever under `dir`.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { invalidFileError } from '../errors.js';

/** fsyncs a folder so that renames in it survive a power cut (best effort: not every platform allows it). */
function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    /* not supported for folders here */
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `data` to `path` durably and atomically: a temporary file in the same folder, written in full
 * and fsynced, renamed over `path`, then the folder fsynced. A reader sees the old file or the new one,
 * never a part; a failure removes the temporary file and leaves `path` as it was.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
  fsyncDir(dirname(path));
}

/** JSON (2-space indented, typed arrays as plain arrays) through writeFileAtomic. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const replacer = (_k: string, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v);
  writeFileAtomic(path, JSON.stringify(value, replacer, 2) + '\n');
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const SIBLING = /^(.*)\.(tmp|old)-(\d+)-([0-9a-f]+)$/;

/** Sibling directories left by saves of `dir` (temporary or set aside), with the writer's pid. */
function siblings(dir: string): { path: string; kind: 'tmp' | 'old'; pid: number; mtimeMs: number }[] {
  const parent = dirname(dir);
  const base = basename(dir);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const out = [];
  for (const name of names) {
    const m = SIBLING.exec(name);
    if (!m || m[1] !== base) continue;
    const path = join(parent, name);
    let mtimeMs = 0;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      continue;
    }
    out.push({ path, kind: m[2] as 'tmp' | 'old', pid: Number(m[3]), mtimeMs });
  }
  return out;
}

function isOurModelDir(dir: string): boolean {
  try {
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    return typeof cfg.fused_multilabel === 'object' && cfg.fused_multilabel !== null;
  } catch {
    return false;
  }
}

export interface SaveHooks {
  /** called after `fill` wrote the temporary directory, before any rename (tests simulate a crash here) */
  beforeSwap?: (tmpDir: string) => void | Promise<void>;
  /** called after the previous directory was set aside, before the new one is renamed in */
  betweenRenames?: (oldDir: string, tmpDir: string) => void | Promise<void>;
}

/** Throws unless `dir` is absent, empty, or a model directory written by this package (checked before training). */
export function assertReplaceable(dirIn: string): void {
  const dir = resolve(dirIn);
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw invalidFileError(dir, 'exists and is not a directory; refusing to replace it with a model');
  if (readdirSync(dir).length > 0 && !isOurModelDir(dir))
    throw invalidFileError(dir, 'is a non-empty directory that is not a fused-multilabel model directory; refusing to replace it');
}

/**
 * Re-creates `src` at `dst` with hard links (a copy where links are refused): folders recursively,
 * symbolic links as links. The originals stay where they are until the swap succeeded.
 */
async function linkTree(src: string, dst: string): Promise<void> {
  const st = await lstat(src);
  if (st.isDirectory()) {
    await mkdir(dst, { mode: st.mode & 0o7777 });
    for (const e of await readdir(src)) await linkTree(join(src, e), join(dst, e));
  } else if (st.isSymbolicLink()) await symlink(await readlink(src), dst);
  else await link(src, dst).catch(() => copyFile(src, dst));
}

/**
 * Saves a directory atomically: `fill(tmpDir)` writes every file into a fresh temporary sibling, which
 * then replaces `dir`. Entries of the previous `dir` that `fill` did not write and that are not in
 * `owned` (files this package writes) are the user's: they are linked into the new directory before the
 * swap, so re-training keeps NOTES.md or an eval-results/ folder (a crash before the swap leaves them in
 * the untouched previous directory). Refuses to replace a non-empty directory that is not a model directory written by
 * this package (so `--out .` cannot delete someone's files). Leftovers of dead writers are removed first.
 */
export async function saveDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>, hooks: SaveHooks = {}, owned: readonly string[] = []): Promise<void> {
  dir = resolve(dir);
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  assertReplaceable(dir);
  // Remove what dead writers left: temporary directories always; set-aside copies only once `dir` is whole.
  for (const s of siblings(dir)) {
    if (pidAlive(s.pid)) continue;
    if (s.kind === 'tmp' || isOurModelDir(dir)) await rm(s.path, { recursive: true, force: true });
  }

  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = `${dir}.tmp-${tag}`;
  await mkdir(tmp);
  try {
    await fill(tmp);
    if (existsSync(dir)) {
      const written = new Set(readdirSync(tmp));
      for (const e of readdirSync(dir)) if (!written.has(e) && !owned.includes(e)) await linkTree(join(dir, e), join(tmp, e));
    }
    await hooks.beforeSwap?.(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  let old: string | null = null;
  if (existsSync(dir)) {
    old = `${dir}.old-${tag}`;
    await rename(dir, old);
  }
  try {
    if (old) await hooks.betweenRenames?.(old, tmp);
    await rename(tmp, dir);
  } catch (err) {
    // put the previous model back where it was
    if (old && !existsSync(dir)) await rename(old, dir).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (old) await rm(old, { recursive: true, force: true });
  // copies set aside by writers killed between their two renames are stale now that `dir` is whole
  for (const s of siblings(dir)) if (s.kind === 'old' && !pidAlive(s.pid)) await rm(s.path, { recursive: true, force: true });
  fsyncDir(parent);
}

/**
 * The directory to load for `dir`: `dir` itself when it holds a model, else the newest complete
 * `dir.old-*` copy a killed save left behind. Throws ERR_INVALID_FILE naming what is missing.
 */
export function resolveModelDir(dir: string): string {
  const abs = resolve(dir);
  if (existsSync(join(abs, 'config.json'))) return abs;
  const backups = siblings(abs)
    .filter((s) => s.kind === 'old' && existsSync(join(s.path, 'config.json')))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  if (backups.length > 0) return backups[0].path;
  if (!existsSync(abs)) throw invalidFileError(dir, 'model directory not found');
  throw invalidFileError(dir, 'not a model directory (no config.json)');
}

