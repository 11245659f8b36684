// safetensors reader/writer: round trip, F16/BF16 loading, and hostile files (every reference check).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, readSafetensorsHeader, writeSafetensors, serializeSafetensors, Encoder } from '../../dist/index.js';
import { assertThrowsCode, assertRejectsCode } from '../helpers/assert.js';

const tmp = mkdtempSync(join(tmpdir(), 'fml-st-'));
let n = 0;

/** Builds a file from a header object (or raw header string) and a data byte count. */
function file(header, dataBytes, { headerLen } = {}) {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const buf = Buffer.alloc(8 + h.length + dataBytes);
  buf.writeBigUInt64LE(BigInt(headerLen ?? h.length), 0);
  h.copy(buf, 8);
  const path = join(tmp, `f${n++}.safetensors`);
  writeFileSync(path, buf);
  return path;
}

test('write → read round trip (sorted, header padded to 8, metadata, atomic)', () => {
  const path = join(tmp, 'rt.safetensors');
  const a = Float32Array.from([1, -2.5, 3e-8, 65504, -0]);
  const b = Float32Array.from([Math.PI, NaN]);
  writeSafetensors(path, new Map([['z.w', { shape: [5], data: a }], ['a.b', { shape: [1, 2], data: b }]]), { format: 'pt' });
  const h = readSafetensorsHeader(path);
  assert.is(h.dataStart % 8, 0, 'data aligned');
  assert.equal(h.tensors.map((t) => t.name).sort(), ['a.b', 'z.w']);
  assert.equal(h.metadata, { format: 'pt' });
  const { tensors } = readSafetensors(path);
  assert.equal(Array.from(tensors.get('z.w').data), Array.from(a));
  assert.equal(tensors.get('a.b').shape, [1, 2]);
  assert.ok(Number.isNaN(tensors.get('a.b').data[1]));
  assert.equal(tensors.get('a.b').data[0], Math.fround(Math.PI));
  assert.ok(!readdirSync(tmp).some((f) => f.endsWith('.tmp')));
  const bytes = serializeSafetensors(new Map([['a.b', { shape: [1, 2], data: b }], ['z.w', { shape: [5], data: a }]]), { format: 'pt' });
  const hl = Number(Buffer.from(bytes).readBigUInt64LE(0));
  assert.ok(JSON.parse(Buffer.from(bytes.subarray(8, 8 + hl)).toString()).__metadata__);
});

test('F16 and BF16 tensors load as float32', () => {
  const f16 = Buffer.alloc(8);
  [0x3c00, 0xc000, 0x7bff, 0x0001].forEach((v, i) => f16.writeUInt16LE(v, 2 * i));  // 1, -2, 65504, 2^-24
  const bf16 = Buffer.alloc(4);
  [0x3f80, 0xc0a0].forEach((v, i) => bf16.writeUInt16LE(v, 2 * i));  // 1, -5
  const header = { h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] }, b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] } };
  const path = file(header, 12);
  const buf = Buffer.from(require_bytes(path));
  f16.copy(buf, buf.length - 12);
  bf16.copy(buf, buf.length - 4);
  writeFileSync(path, buf);
  const { tensors } = readSafetensors(path);
  assert.equal(Array.from(tensors.get('h').data), [1, -2, 65504, 2 ** -24]);
  assert.equal(Array.from(tensors.get('b').data), [1, -5]);
});

import { readFileSync } from 'node:fs';
function require_bytes(p) {
  return readFileSync(p);
}

const hostile = [
  ['a file shorter than 8 bytes', () => { const p = join(tmp, 'short'); writeFileSync(p, Buffer.alloc(5)); return p; }, /header too small/],
  ['a header length past the end', () => file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4, { headerLen: 10_000 }), /invalid header length/],
  ['a header length over 100 MB', () => file({}, 0, { headerLen: 100_000_001 }), /header too large/],
  ['a header length of 2^64 - 1', () => file({}, 0, { headerLen: 2n ** 64n - 1n }), /header too large/],
  ['a truncated data buffer', () => file({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 12), /16 bytes.*needs|cover|holds/],
  ['trailing bytes after the data', () => file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8), /cover 4 data bytes/],
  ['overlapping offsets', () => file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), /invalid offsets for tensor "b"/],
  ['a gap between tensors', () => file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12), /gap or overlap/],
  ['data not starting at 0', () => file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /invalid offsets/],
  ['end before begin', () => file({ a: { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, 4), /invalid offsets|gap/],
  ['a huge shape (overflow)', () => file({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, 4), /needs/],
  ['a shape that is not an integer array', () => file({ a: { dtype: 'F32', shape: [1e300], data_offsets: [0, 4] } }, 4), /invalid shape/],
  ['shape × dtype not matching the offsets', () => file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /needs 12/],
  ['bad JSON', () => file('{"a": {', 0), /not valid JSON/],
  ['a header that is not an object', () => file('[1, 2]', 0), /start with/],
  ['invalid UTF-8', () => file(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1'), 0), /UTF-8|JSON/],
  ['an unknown dtype', () => file({ a: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, 4), /unknown dtype/],
  ['a missing field', () => file({ a: { dtype: 'F32', shape: [1] } }, 0), /data_offsets/],
  ['non-string metadata', () => file({ __metadata__: { a: 1 } }, 0), /__metadata__/],
  ['a misaligned sub-byte tensor', () => file({ a: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, 2), /misaligned/],
];

for (const [name, make, re] of hostile)
  test(`ERR_INVALID_FILE: ${name}`, () => {
    const path = make();
    const err = assertThrowsCode(() => readSafetensors(path), 'ERR_INVALID_FILE', Error, re);
    assert.ok(err.message.includes(path), 'names the file');
  });

test('an F4 tensor validates but does not load as float32; I64 likewise', () => {
  const path = file({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8);
  assert.is(readSafetensorsHeader(path).tensors[0].dtype, 'I64');
  assertThrowsCode(() => readSafetensors(path), 'ERR_INVALID_FILE', Error, /I64/);
});

test('fromPretrained reports a hostile model.safetensors and a misshaped tensor', async () => {
  const dir = join(tmp, 'model');
  const enc = await Encoder.create({ architecture: 'distilbert', vocabSize: 10, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 8, maxPositions: 4, numLabels: 2 }, { device: 'cpu' });
  await enc.save(dir);
  const good = readFileSync(join(dir, 'model.safetensors'));
  writeFileSync(join(dir, 'model.safetensors'), good.subarray(0, good.length - 3));
  await assertRejectsCode(() => Encoder.fromPretrained(dir, { device: 'cpu' }), 'ERR_INVALID_FILE', Error, /model\.safetensors/);
  const p = enc.parameters();
  const m = new Map([...p].map(([k, v]) => [k, { shape: enc.parameterShapes().get(k), data: v }]));
  m.set('distilbert.transformer.layer.0.ffn.lin1.weight', { shape: [4, 16], data: p.get('distilbert.transformer.layer.0.ffn.lin1.weight') });
  writeSafetensors(join(dir, 'model.safetensors'), m);
  await assertRejectsCode(() => Encoder.fromPretrained(dir, { device: 'cpu' }), 'ERR_INVALID_FILE', Error, /ffn\.lin1\.weight" has shape \[4,16\]/);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
