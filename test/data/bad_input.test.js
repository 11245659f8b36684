// Bad input to the library: each case is an error naming the problem (or, where asked, decoded as
// asked), never a silent wrong answer or a hang. Duplicate CSV columns, mixed line ends, invalid UTF-8 and
// --encoding latin1, special files (FIFO, device) refused before reading, SharedArrayBuffer-backed loss
// inputs, values echoed printable and Infinity shown as such.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readDataset, bceWithLogits } from '../../dist/index.js';
import { readSafetensorsHeader } from '../../dist/safetensors.js';
import { printable, showValue } from '../../dist/errors.js';
import { assertThrowsCode } from '../helpers/assert.js';

const dir = mkdtempSync(join(tmpdir(), 'fml-bad-'));
const file = (name, content) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

test('a duplicated CSV column name is an error naming it and its positions', () => {
  const p = file('dup.csv', 'text,labels,text\nfirst,a,second\n');
  assertThrowsCode(() => readDataset(p), 'ERR_INVALID_FILE', Error, /line 1: duplicate column name "text" \(columns 1 and 3\)/);
  const q = file('dup2.csv', 'text,labels,x,x,labels\nt,a,1,2,b\n');
  assertThrowsCode(() => readDataset(q), 'ERR_INVALID_FILE', Error, /duplicate column names "x" \(columns 3 and 4\), "labels" \(columns 2 and 5\)/);
});

test('a JSONL row with a key twice is an error naming it (nested and quoted look-alikes are not)', () => {
  const p = file('dup.jsonl', '{"text":"a","labels":["x"]}\n{"text":"b","labels":["y"],"text":"c"}\n');
  assertThrowsCode(() => readDataset(p), 'ERR_INVALID_FILE', Error, /line 2: the key "text" appears more than once/);
  const ok = file('nodup.jsonl', '{"text":"say \\"text\\": twice","labels":["x"],"meta":{"text":1,"labels":2}}\n');
  assert.equal(readDataset(ok).rows.map((r) => r.text), ['say "text": twice']);
});

test('quoted CSV with mixed LF and CRLF line ends parses (line numbers kept)', () => {
  const p = file('mixed.csv', 'text,labels\n"first\nrow",a\r\n"second",b\n"third\r\nrow","c,d"\r\nfourth,e\n');
  const ds = readDataset(p);
  assert.equal(
    ds.rows.map((r) => [r.text, r.labels, r.line]),
    [['first\nrow', ['a'], 2], ['second', ['b'], 4], ['third\r\nrow', ['c', 'd'], 5], ['fourth', ['e'], 7]],
  );
});

test('invalid UTF-8 is an error naming the line; encoding latin1 decodes it as asked', () => {
  const bytes = Buffer.concat([Buffer.from('text,labels\nfine,a\n'), Buffer.from([0x62, 0x69, 0x6c, 0x6c, 0xe9, 0x6e, 0x67]), Buffer.from(',b\n')]);
  const p = file('latin1.csv', bytes);
  assertThrowsCode(() => readDataset(p), 'ERR_INVALID_FILE', Error, /latin1\.csv: line 3: not valid UTF-8.*encoding 'latin1'/);
  const ds = readDataset(p, { encoding: 'latin1' });
  assert.equal(ds.rows.map((r) => r.text), ['fine', 'billéng']);
  const j = file('bad.jsonl', Buffer.concat([Buffer.from('{"text":"ok","labels":["a"]}\n{"text":"'), Buffer.from([0xff]), Buffer.from('","labels":["b"]}\n')]));
  assertThrowsCode(() => readDataset(j), 'ERR_INVALID_FILE', Error, /line 2: not valid UTF-8/);
  assertThrowsCode(() => readDataset(p, { encoding: 'utf16' }), 'ERR_INVALID_ARG', TypeError, /options\.encoding/);
});

test('special files are refused before any byte is read: FIFO (no hang), character device, directory', () => {
  const fifo = join(dir, 'pipe.csv');
  execFileSync('mkfifo', [fifo]);
  assertThrowsCode(() => readDataset(fifo), 'ERR_INVALID_FILE', Error, /pipe\.csv: data file is a FIFO \(named pipe\), not a regular file/);
  const weights = join(dir, 'model.safetensors');
  execFileSync('mkfifo', [weights]);
  assertThrowsCode(() => readSafetensorsHeader(weights), 'ERR_INVALID_FILE', Error, /weights file is a FIFO/);
  assertThrowsCode(() => readDataset('/dev/zero', { format: 'csv' }), 'ERR_INVALID_FILE', Error, /a character device/);
  assertThrowsCode(() => readDataset(dir, { format: 'csv' }), 'ERR_INVALID_FILE', Error, /a directory/);
  assertThrowsCode(() => readDataset(join(dir, 'missing.csv')), 'ERR_INVALID_FILE', Error, /data file not found/);
});

test('a loss input on a SharedArrayBuffer is a coded TypeError naming it', () => {
  const shared = new Float32Array(new SharedArrayBuffer(4 * 6));
  const plain = new Float32Array(6);
  const t = new Uint8Array(6);
  assertThrowsCode(() => bceWithLogits(shared, t, { shape: [2, 3] }), 'ERR_INVALID_ARG', TypeError, /logits on an ArrayBuffer but received Float32Array of length 6 on a SharedArrayBuffer/);
  assertThrowsCode(() => bceWithLogits(plain, new Uint8Array(new SharedArrayBuffer(6)), { shape: [2, 3] }), 'ERR_INVALID_ARG', TypeError, /targets on an ArrayBuffer/);
  assertThrowsCode(() => bceWithLogits(plain, t, { shape: [2, 3], posWeight: shared.subarray(0, 3) }), 'ERR_INVALID_ARG', TypeError, /options\.posWeight on an ArrayBuffer/);
  assert.ok(Number.isFinite(bceWithLogits(plain, t, { shape: [2, 3] }).loss));
});

test('a JSONL label 1e999 is reported as Infinity, not null', () => {
  const p = file('inf.jsonl', '{"text":"x","labels":[1e999]}\n');
  assertThrowsCode(() => readDataset(p), 'ERR_INVALID_FILE', Error, /non-string label \(Infinity\)/);
});

test('printable and showValue: nothing unprintable, numbers as JavaScript prints them', () => {
  assert.is(printable('a\u0000b\u001b[31mc\u007f\u0085\u202e\u2028\ud800d'), 'a\\x00b\\x1b[31mc\\x7f\\x85\\u202e\\u2028\\ud800d');
  assert.is(printable('ok 😀 é'), 'ok 😀 é');
  assert.is(showValue(Infinity), 'Infinity');
  assert.is(showValue({ t: -Infinity }), '{"t":"-Infinity"}');
  assert.is(showValue("a\u0007"), String.raw`"a\u0007"`);
});

test.run();
