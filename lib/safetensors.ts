/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors, format version 0.x).
 *
 * Layout: an unsigned little-endian u64 header length N, N bytes of UTF-8 JSON
 * `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__"?: {string: string}}`, then the
 * byte buffer. The reader applies every check of the reference implementation before it allocates
 * anything sized by the file's claims: header length at most 100,000,000 and inside the file, valid
 * UTF-8 JSON of the right shape, offsets sorted and contiguous from 0 (no gap, no overlap), shape ×
 * dtype size computed in BigInt (no overflow), and data that fills the file exactly. Any failure is an
 * ERR_INVALID_FILE error naming the problem. F32, F16 and BF16 tensors load as Float32Array.
 *
 * The writer sorts tensors as the reference does (dtype alignment, then name), pads the header with
 * spaces to a multiple of 8 and writes through the package's one durable atomic writer (model_dir/atomic.ts).
 */
import { closeSync, existsSync, fstatSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { openRegularFile, readRegularFile } from './files.js';
import { endianness } from 'node:os';
import { invalidFileError } from './errors.js';
import { writeFileAtomic } from './model_dir/atomic.js';

// The format is little-endian; on little-endian hosts F32 data is copied as bytes.
const LITTLE_ENDIAN = endianness() === 'LE';

/** Bits per element of every dtype the format defines (used for validation). */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8, I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, C64: 64, F64: 64, I64: 64, U64: 64,
};

export const MAX_HEADER_LENGTH = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** byte offsets into the data buffer, end exclusive */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** bytes before the data buffer (8 + header length) */
  dataStart: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Validates a header against the file size. `headerBytes` are the N header bytes; `fileSize` the total.
 * Throws ERR_INVALID_FILE (prefixed with `path`).
 */
export function parseHeader(path: string, headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  const bad = (problem: string) => invalidFileError(path, `invalid safetensors file: ${problem}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw bad('the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw bad('the header does not start with "{"');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw bad(`the header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(json)) throw bad('the header is not a JSON object');
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry)) throw bad('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw bad(`__metadata__["${k}"] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isPlainObject(entry)) throw bad(`tensor "${name}" is not an object`);
    const keys = Object.keys(entry).sort().join(',');
    if (keys !== 'data_offsets,dtype,shape') throw bad(`tensor "${name}" must have exactly dtype, shape and data_offsets (has ${keys})`);
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BITS)) throw bad(`tensor "${name}" has an unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    tensors.push({ name, dtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number });
  }
  // Offsets sorted, contiguous from 0, each the exact size of its dtype × shape (BigInt: no overflow).
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const t of sorted) {
    if (t.begin !== expected || t.end < t.begin)
      throw bad(`invalid offsets for tensor "${t.name}": [${t.begin}, ${t.end}] (expected it to start at ${expected}; gap or overlap)`);
    let numel = 1n;
    for (const d of t.shape) numel *= BigInt(d);
    const bits = numel * BigInt(DTYPE_BITS[t.dtype]);
    if (bits % 8n !== 0n) throw bad(`tensor "${t.name}" is misaligned (${bits} bits is not whole bytes)`);
    const bytes = bits / 8n;
    if (bytes !== BigInt(t.end - t.begin))
      throw bad(`tensor "${t.name}" has ${t.end - t.begin} bytes of data but ${t.dtype} ${JSON.stringify(t.shape)} needs ${bytes}`);
    expected = t.end;
  }
  const dataStart = 8 + headerBytes.length;
  if (dataStart + expected !== fileSize)
    throw bad(`the tensors cover ${expected} data bytes but the file holds ${fileSize - dataStart} after the header`);
  return { tensors, metadata, dataStart };
}

function readExactly(fd: number, buf: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n <= 0) throw invalidFileError(path, 'invalid safetensors file: unexpected end of file');
    done += n;
  }
}

/** Reads and validates the header only. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const { fd } = openRegularFile(path, 'weights file');
  try {
    return readHeaderFd(fd, path);
  } finally {
    closeSync(fd);
  }
}

function readHeaderFd(fd: number, path: string): SafetensorsHeader {
  const size = fstatSync(fd).size;
  if (size < 8) throw invalidFileError(path, `invalid safetensors file: header too small (the file has ${size} bytes)`);
  const len8 = new Uint8Array(8);
  readExactly(fd, len8, 0, path);
  const n = new DataView(len8.buffer).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_LENGTH)) throw invalidFileError(path, `invalid safetensors file: header too large (${n} bytes, limit ${MAX_HEADER_LENGTH})`);
  if (n + 8n > BigInt(size))
    throw invalidFileError(path, `invalid safetensors file: invalid header length ${n} (past the end of the ${size}-byte file)`);
  const header = new Uint8Array(Number(n));
  readExactly(fd, header, 8, path);
  return parseHeader(path, header, size);
}

export interface LoadedTensor {
  dtype: string;
  shape: number[];
  /** converted to float32 */
  data: Float32Array;
}

/** One tensor's bytes from the open file as float32 (F32 on a little-endian host: read straight into the result). */
function readTensorFd(fd: number, dataStart: number, t: { dtype: string; begin: number; end: number }, path: string): Float32Array {
  const n = (t.end - t.begin) / (t.dtype === 'F32' ? 4 : 2);
  const out = new Float32Array(n);
  if (t.dtype === 'F32' && LITTLE_ENDIAN) {
    readExactly(fd, new Uint8Array(out.buffer), dataStart + t.begin, path);
    return out;
  }
  const raw = new Uint8Array(t.end - t.begin);
  readExactly(fd, raw, dataStart + t.begin, path);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (t.dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  } else if (t.dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Reads a safetensors file. F32/F16/BF16 tensors are returned as Float32Array; `names`, when given,
 * limits which tensors are loaded (the others are still validated). Another dtype in a loaded tensor is
 * an ERR_INVALID_FILE error naming it.
 */
export function readSafetensors(path: string, names?: (name: string) => boolean): { tensors: Map<string, LoadedTensor>; metadata: Record<string, string> } {
  const { fd } = openRegularFile(path, 'weights file');
  try {
    const header = readHeaderFd(fd, path);
    const tensors = new Map<string, LoadedTensor>();
    for (const t of header.tensors) {
      if (names && !names(t.name)) continue;
      if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16')
        throw invalidFileError(path, `tensor "${t.name}" has dtype ${t.dtype}; only F32, F16 and BF16 load`);
      tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data: readTensorFd(fd, header.dataStart, t, path) });
    }
    return { tensors, metadata: header.metadata };
  } finally {
    closeSync(fd);
  }
}

/**
 * The shard files a sharded checkpoint's index (model.safetensors.index.json: { weight_map: { tensor: file } })
 * lists, each once, in order of first appearance; ERR_INVALID_FILE for anything else.
 */
export function readShardIndex(indexPath: string): string[] {
  let map: unknown;
  try {
    map = (JSON.parse(readRegularFile(indexPath, 'shard index').toString('utf8')) as { weight_map?: unknown }).weight_map;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_INVALID_FILE') throw err;
    throw invalidFileError(indexPath, `not valid JSON (${(err as Error).message})`);
  }
  const files = map && typeof map === 'object' ? [...new Set(Object.values(map as Record<string, unknown>))] : [];
  if (files.length === 0 || !files.every((f) => typeof f === 'string' && /^[\w.-]+\.safetensors$/.test(f) && !f.startsWith('.')))
    throw invalidFileError(indexPath, 'weight_map must map tensor names to shard files (NAME.safetensors) in the same folder');
  return files as string[];
}

/** A tensor of a checkpoint whose header has been read and validated; `load()` reads its data (as float32). */
export interface LazyTensor {
  dtype: string;
  shape: number[];
  load(): Float32Array;
}

/**
 * The weights of a model folder: `model.safetensors`, or the shards `model.safetensors.index.json` lists
 * (Hugging Face's sharded checkpoints), merged. Only the headers are read here (and validated, with the
 * dtypes of the tensors `names` selects); each tensor's data is read when its `load()` is called, so a
 * caller that copies tensors one at a time holds one tensor, not the whole checkpoint (BERT-base: 440 MB).
 * `path` names what was read, for error messages.
 */
export function readModelWeights(dir: string, names?: (name: string) => boolean): { tensors: Map<string, LazyTensor>; path: string } {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  const files = existsSync(single) || !existsSync(index) ? [single] : readShardIndex(index).map((f) => join(dir, f));
  const tensors = new Map<string, LazyTensor>();
  for (const file of files) {
    const header = readSafetensorsHeader(file);
    for (const t of header.tensors) {
      if (names && !names(t.name)) continue;
      if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16')
        throw invalidFileError(file, `tensor "${t.name}" has dtype ${t.dtype}; only F32, F16 and BF16 load`);
      const load = (): Float32Array => {
        const { fd } = openRegularFile(file, 'weights file');
        try {
          return readTensorFd(fd, header.dataStart, t, file);
        } finally {
          closeSync(fd);
        }
      };
      tensors.set(t.name, { dtype: t.dtype, shape: t.shape, load });
    }
  }
  return { tensors, path: files.length === 1 ? single : index };
}

/** Serialises F32 tensors (sorted by name; all share one alignment) with optional string metadata. */
export function serializeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }>, metadata?: Record<string, string>): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) throw new RangeError(`tensor "${name}": shape ${JSON.stringify(t.shape)} does not match ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * numel] };
    offset += 4 * numel;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
      pos += d.byteLength;
    } else {
      for (let i = 0; i < d.length; i++, pos += 4) dv.setFloat32(pos, d[i], true);
    }
  }
  return out;
}

/** Writes F32 tensors as a safetensors file, atomically. */
export function writeSafetensors(path: string, tensors: Map<string, { shape: number[]; data: Float32Array }>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
