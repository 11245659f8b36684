// readDataset / encodeTargets / labelCounts / preprocess: CSV edge cases, JSONL, partial labels, errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset, encodeTargets, labelCounts, preprocess } from '../../dist/index.js';
import { assertThrowsCode } from '../helpers/assert.js';

const dir = mkdtempSync(join(tmpdir(), 'fml-data-'));
function file(name, content) {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

test('CSV: BOM, CRLF, quoted fields with separators and newlines, empty lines, trimmed labels', () => {
  const p = file(
    'a.csv',
    '\ufefftext,labels,extra\r\n' +
      '"hello, world"," b , a ",x\r\n' +
      '"two\r\nlines","c",y\r\n' +
      '\r\n' +
      'no labels,,z\r\n' +
      '"  ",a,w\r\n' +
      'dup,"a,a,,b",v\r\n',
  );
  const d = readDataset(p);
  assert.equal(d.labelSet, ['a', 'b', 'c']);
  assert.equal(
    d.rows.map((r) => [r.text, r.labels, r.line]),
    [
      ['hello, world', ['b', 'a'], 2],
      ['two\r\nlines', ['c'], 3],
      ['no labels', [], 6],
      ['dup', ['a', 'b'], 8],
    ],
  );
  assert.equal(d.report.emptyText, [{ line: 7 }]);
  assert.is(d.report.rowsRead, 5);
  assert.is(d.report.rowsKept, 4);
  assert.is(d.report.rowsWithoutLabels, 1);
});

test('CSV: custom columns and separator; malformed rows and missing columns name the file and line', () => {
  const p = file('b.csv', 'body;tags\n"x";"p|q"\n"y";"q"\n');
  // the file's delimiter is ';' only for this check of a missing column
  assertThrowsCode(() => readDataset(p), 'ERR_INVALID_FILE', Error, /missing column "text"; the header has "body;tags"/);
  const q = file('c.csv', 'body,tags\nx,p|q\ny,q\n');
  const d = readDataset(q, { textColumn: 'body', labelsColumn: 'tags', labelSeparator: '|' });
  assert.equal(d.rows.map((r) => r.labels), [['p', 'q'], ['q']]);
  assertThrowsCode(() => readDataset(q, { textColumn: 'body', labelsColumn: 'tag' }), 'ERR_INVALID_FILE', Error, /missing column "tag"; the header has "body", "tags"/);
  const bad = file('d.csv', 'text,labels\na,b\nc,d,e\n');
  assertThrowsCode(() => readDataset(bad), 'ERR_INVALID_FILE', Error, /d\.csv: line 3/);
  const unclosed = file('e.csv', 'text,labels\n"a,b\n');
  assertThrowsCode(() => readDataset(unclosed), 'ERR_INVALID_FILE', Error, /e\.csv: line 2/);
});

test('TSV by extension: tab-separated columns, labels still split by labelSeparator', () => {
  const p = file('t.tsv', 'text\tlabels\nhello, world\ta,b\n"quoted\ttab"\tc\n');
  const d = readDataset(p);
  assert.equal(d.rows.map((r) => [r.text, r.labels]), [
    ['hello, world', ['a', 'b']],
    ['quoted\ttab', ['c']],
  ]);
});

test('JSONL: labels as an array or a separated string, blank lines, errors with line numbers', () => {
  const p = file('a.jsonl', '\ufeff{"text":"one","labels":["x"," y "]}\r\n\n{"text":"two","labels":"y,z"}\n{"text":"","labels":"x"}\n');
  const d = readDataset(p);
  assert.equal(d.labelSet, ['x', 'y', 'z']);
  assert.equal(d.rows.map((r) => [r.text, r.labels, r.line]), [
    ['one', ['x', 'y'], 1],
    ['two', ['y', 'z'], 3],
  ]);
  assert.equal(d.report.emptyText, [{ line: 4 }]);
  const bad = file('b.jsonl', '{"text":"a","labels":[]}\n{"text": oops}\n');
  assertThrowsCode(() => readDataset(bad), 'ERR_INVALID_FILE', Error, /b\.jsonl: line 2: malformed JSON/);
  const miss = file('c.jsonl', '{"text":"a","labels":[]}\n{"labels":["q"]}\n');
  assertThrowsCode(() => readDataset(miss), 'ERR_INVALID_FILE', Error, /line 2: missing "text"/);
  const wrong = file('d.jsonl', '{"txt":"a","labels":[]}\n');
  assertThrowsCode(() => readDataset(wrong), 'ERR_INVALID_FILE', Error, /missing column "text"; the rows have "txt", "labels"/);
  const num = file('e.jsonl', '{"text":"a","labels":[1]}\n');
  assertThrowsCode(() => readDataset(num), 'ERR_INVALID_FILE', Error, /line 1: column "labels" holds a non-string label/);
});

test('partial annotation: negatives column, encodeTargets gives -1 for unknown, labelCounts', () => {
  const p = file('p.jsonl', ['{"text":"a","labels":["x"],"negatives":["y"]}', '{"text":"b","labels":[],"negatives":["x","z"]}', '{"text":"c","labels":"z","negatives":""}'].join('\n'));
  const d = readDataset(p, { partial: true });
  assert.equal(d.labelSet, ['x', 'y', 'z']);
  assert.equal(d.rows[1].negatives, ['x', 'z']);
  const t = encodeTargets(d.rows, d.labelSet);
  assert.instance(t, Int8Array);
  assert.equal(Array.from(t), [1, 0, -1, 0, -1, 0, -1, -1, 1]);
  assert.equal(Array.from(encodeTargets(d.rows, d.labelSet, { partial: false })), [1, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(Array.from(labelCounts(d.rows, d.labelSet)), [1, 0, 1]);
  const full = encodeTargets([{ text: 'q', labels: ['y'] }], d.labelSet);
  assert.equal(Array.from(full), [0, 1, 0]);
  assert.equal(Array.from(encodeTargets([{ text: 'q', labels: ['y'] }], d.labelSet, { partial: true })), [-1, 1, -1]);
  const both = file('q.jsonl', '{"text":"a","labels":["x"],"negatives":["x"]}\n');
  assertThrowsCode(() => readDataset(both, { partial: true }), 'ERR_INVALID_FILE', Error, /line 1: label "x" is listed both/);
  const noNeg = file('r.csv', 'text,labels\na,x\n');
  assertThrowsCode(() => readDataset(noNeg, { partial: true }), 'ERR_INVALID_FILE', Error, /missing column "negatives"/);
  assertThrowsCode(() => encodeTargets([{ labels: ['w'] }], ['x']), 'ERR_INVALID_ARG', RangeError, /"w" which is not in labelSet/);
  assertThrowsCode(() => labelCounts([{ labels: 'x' }], ['x']), 'ERR_INVALID_ARG', TypeError, /rows\[0\]\.labels/);
});

test('preprocess: lowercase, URLs, digits, punctuation; also through readDataset', () => {
  const t = 'Visit https://example.com/a?b=1 or www.x.org NOW: 42 items, café!';
  assert.is(preprocess(t, { stripUrls: true }), 'Visit or NOW: 42 items, café!');
  assert.is(preprocess(t, { lowercase: true, stripUrls: true, stripDigits: true, stripPunctuation: true }), 'visit or now items café');
  assert.is(preprocess('  a\t\nb  '), 'a b');
  const p = file('pre.csv', 'text,labels\n"Hello, World 2",a\n"!!!",b\n');
  const d = readDataset(p, { preprocess: { lowercase: true, stripPunctuation: true, stripDigits: true } });
  assert.equal(d.rows.map((r) => r.text), ['hello world']);
  assert.equal(d.report.emptyText, [{ line: 3 }]);
  assertThrowsCode(() => preprocess('x', { lowerCase: true }), 'ERR_INVALID_ARG', TypeError, /did you mean "lowercase"/);
});

test('argument errors', () => {
  assertThrowsCode(() => readDataset(42), 'ERR_INVALID_ARG', TypeError, /path/);
  assertThrowsCode(() => readDataset(join(dir, 'x.txt')), 'ERR_INVALID_ARG', RangeError, /options.format/);
  assertThrowsCode(() => readDataset(join(dir, 'none.csv')), 'ERR_INVALID_FILE', Error, /data file not found/);
  assertThrowsCode(() => readDataset(join(dir, 'a.csv'), { labelColumn: 'x' }), 'ERR_INVALID_ARG', TypeError, /did you mean "labelsColumn"/);
  assertThrowsCode(() => readDataset(join(dir, 'a.csv'), { format: 'tsv' }), 'ERR_INVALID_ARG', TypeError, /format/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
