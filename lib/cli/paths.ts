/**
 * The CLI's paths, checked before any long work starts, naming the flag: inputs must be readable
 * regular files (never a FIFO, device or socket); an output must be creatable (a usage error otherwise): no dangling
 * symbolic link, no file on the way, a folder that accepts new entries (probed by creating and removing a
 * temporary folder there, which also catches /proc and read-only mounts, even for root).
 */
import { accessSync, closeSync, constants, lstatSync, mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { printable } from '../errors.js';
import { openRegularFile } from '../files.js';

export class UsageError extends Error {}

const q = (p: string) => printable(p);

/** A readable regular file for `--flag` (ERR_INVALID_FILE otherwise: a file problem, exit 1). */
export function checkInputFile(flag: string, path: string): string {
  closeSync(openRegularFile(path, `--${flag} file`).fd);
  return path;
}

/** The nearest existing folder at or above `p`; a file on the way is an error. */
function existingAncestor(flag: string, p: string): string {
  let cur = p;
  for (;;) {
    let st;
    try {
      st = statSync(cur);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        cur = dirname(cur);
        continue;
      }
      if (code !== 'ENOENT') throw new UsageError(`--${flag} ${q(p)}: ${q(cur)} cannot be inspected (${code})`);
      if (lstatOk(cur)) throw new UsageError(`--${flag} ${q(p)}: ${q(cur)} is a symbolic link to a missing target`);
      const up = dirname(cur);
      if (up === cur) throw new UsageError(`--${flag} ${q(p)}: no existing folder above it`);
      cur = up;
      continue;
    }
    if (!st.isDirectory()) throw new UsageError(`--${flag} ${q(p)}: ${q(cur)} is ${cur === p ? 'not a folder' : 'a file, so nothing can be created under it'}`);
    return cur;
  }
}

function lstatOk(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function probeWritable(flag: string, target: string, folder: string): void {
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
    rmdirSync(mkdtempSync(join(folder, '.fused-multilabel-probe-')));
  } catch (e) {
    throw new UsageError(`--${flag} ${q(target)}: cannot create files in ${q(folder)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** An output folder for `--flag` (a model directory): creatable or replaceable by a save. */
export function checkOutputDir(flag: string, path: string): string {
  const abs = resolve(path);
  if (lstatOk(abs) && !existsAsTarget(abs)) throw new UsageError(`--${flag} ${q(path)} is a symbolic link to a missing target`);
  const folder = existingAncestor(flag, abs);
  // a save writes a temporary sibling, so the parent must accept new entries
  probeWritable(flag, path, folder === abs ? dirname(abs) : folder);
  return abs;
}

/** An output file for `--flag`: not a folder or special file, in a folder that accepts new entries. */
export function checkOutputFile(flag: string, path: string): string {
  const abs = resolve(path);
  if (lstatOk(abs) && !existsAsTarget(abs)) throw new UsageError(`--${flag} ${q(path)} is a symbolic link to a missing target`);
  let st;
  try {
    st = statSync(abs);
  } catch {
    st = null;
  }
  if (st && !st.isFile()) throw new UsageError(`--${flag} ${q(path)} exists and is not a regular file`);
  const folder = existingAncestor(flag, dirname(abs));
  if (folder !== dirname(abs)) throw new UsageError(`--${flag} ${q(path)}: the folder ${q(dirname(abs))} does not exist`);
  probeWritable(flag, path, folder);
  return abs;
}

function existsAsTarget(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
