/**
 * Reading input files safely: only regular files are read. A FIFO, socket or device is refused before a
 * single byte is read (opened non-blocking, then fstat: a FIFO without a writer would otherwise block
 * forever, /dev/zero never ends). Errors are ERR_INVALID_FILE naming the path.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { invalidFileError, printable } from './errors.js';

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Opens `path` for reading if it is a regular file (following symlinks); returns the fd and its size. */
export function openRegularFile(path: string, what = 'file'): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'not found' : err.code === 'EACCES' ? 'not readable (permission denied)' : `cannot be opened (${err.code ?? err.message})`;
    throw invalidFileError(printable(path), `${what} ${why}`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw invalidFileError(printable(path), `${what} is ${kind(st)}, not a regular file; refusing to read it`);
  }
  return { fd, size: st.size };
}

/** The bytes of a regular file (see openRegularFile). */
export function readRegularFile(path: string, what = 'file'): Buffer {
  const { fd, size } = openRegularFile(path, what);
  try {
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
