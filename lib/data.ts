/**
 * Multi-label datasets: reading CSV (through csv-parse: quoted fields, embedded newlines and
 * separators, BOM, CRLF) and JSONL files of text + labels, optional explicit negatives for
 * partially annotated data (seed article 003), with the seed articles' text preprocessing
 * (preprocess.ts) applied on read. Target matrices and label counts are in targets.ts.
 */
import { isUtf8 } from 'node:buffer';
import { readRegularFile } from './files.js';
import { extname } from 'node:path';
import { createRequire } from 'node:module';
import type { Options as CsvOptions } from 'csv-parse/sync';
import { checkOptions, rejectUnknownKeys, typeError, rangeErrorMessage, invalidFileError, codedError, showValue } from './errors.js';
import { checkPreprocessOptions, preprocess, type PreprocessOptions } from './preprocess.js';

export interface DataRow {
  text: string;
  labels: string[];
  /** Labels known to be absent (partial annotation); every other label not in `labels` is unknown. */
  negatives?: string[];
  /** 1-based line of the file where the row starts. */
  line?: number;
}

export interface ReadDatasetOptions {
  format?: 'csv' | 'jsonl';
  textColumn?: string;
  labelsColumn?: string;
  labelSeparator?: string;
  /** Column of labels known to be negative; with `partial` it defaults to "negatives". */
  negativesColumn?: string;
  /** Partially annotated data: labels neither positive nor negative are unknown. */
  partial?: boolean;
  /** Text preprocessing applied to every row (options or a function). */
  preprocess?: PreprocessOptions | ((text: string) => string);
  /** 'utf8' (default: invalid UTF-8 is an error naming the line) or 'latin1' (ISO-8859-1, every byte a character). */
  encoding?: 'utf8' | 'latin1';
}

export interface DatasetReport {
  /** Rows read from the file (before dropping). */
  rowsRead: number;
  /** Rows kept. */
  rowsKept: number;
  /** Rows dropped because their text is empty (after preprocessing), with their line numbers. */
  emptyText: { line: number }[];
  /** Kept rows without any positive label. */
  rowsWithoutLabels: number;
}

export interface Dataset {
  rows: DataRow[];
  /** Every label seen (positives and negatives), sorted by code unit order. */
  labelSet: string[];
  report: DatasetReport;
}

// csv-parse is loaded on first use, so that importing the package needs no third-party module.
const require = createRequire(import.meta.url);
type CsvParse = (input: Buffer, options: CsvOptions) => unknown;
let csvParse: CsvParse | undefined;
function parseCsv(input: Buffer, options: CsvOptions): unknown {
  csvParse ??= (require('csv-parse/sync') as { parse: CsvParse }).parse;
  return csvParse(input, options);
}

const READ_KEYS = ['format', 'textColumn', 'labelsColumn', 'labelSeparator', 'negativesColumn', 'partial', 'preprocess', 'encoding'] as const;
// a file may mix Windows and Unix line ends (rows appended by different tools)
const RECORD_DELIMITERS = ['\r\n', '\n'];

/**
 * A text file's content as UTF-8 bytes: UTF-8 is checked (never replaced silently: an invalid sequence is
 * ERR_INVALID_FILE naming its line), Latin-1 is converted. Only regular files are read (lib/files.ts).
 */
export function readTextFile(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): Buffer {
  const buf = readRegularFile(path, 'data file');
  if (encoding === 'latin1') return Buffer.from(buf.toString('latin1'), 'utf8');
  if (isUtf8(buf)) return buf;
  // a newline byte is never part of a multi-byte sequence, so the first invalid line is exact
  let line = 1;
  for (let start = 0; start <= buf.length; line++) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length;
    if (!isUtf8(buf.subarray(start, end))) break;
    start = end + 1;
  }
  throw invalidFileError(path, `line ${line}: not valid UTF-8; if the file is Latin-1 (ISO-8859-1), read it with encoding 'latin1' (CLI: --encoding latin1)`);
}
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkString(name: string, v: unknown, def: string): string {
  if (v === undefined) return def;
  if (typeof v !== 'string' || v.length === 0) throw typeError(name, 'a non-empty string', v);
  return v;
}

function splitLabels(value: unknown, sep: string, where: () => string, column: string): string[] {
  let parts: unknown[];
  if (value === undefined || value === null) parts = [];
  else if (typeof value === 'string') parts = value.split(sep);
  else if (Array.isArray(value)) parts = value;
  else throw codedError('ERR_INVALID_FILE', `${where()}: column "${column}" must be a string or an array of strings, got ${typeof value}`);
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of parts) {
    if (typeof p !== 'string') throw codedError('ERR_INVALID_FILE', `${where()}: column "${column}" holds a non-string label (${showValue(p)})`);
    const l = p.trim();
    if (l === '' || seen.has(l)) continue;
    seen.add(l);
    out.push(l);
  }
  return out;
}

/** 1-based line of each byte offset: the number of '\n' before it, plus one. */
function lineIndex(buf: Buffer): (offset: number) => number {
  const nl: number[] = [];
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) nl.push(i);
  return (offset) => {
    let lo = 0;
    let hi = nl.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (nl[mid] < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

interface RawRecord {
  line: number;
  get(column: string): unknown;
  has(column: string): boolean;
}

function readCsv(path: string, buf: Buffer, required: string[], optional: string[]): { records: RawRecord[]; columns: string[] } {
  const delimiter = extname(path).toLowerCase() === '.tsv' ? '\t' : ',';
  // Header first, so that a wrong column name is reported as such rather than as a parse error.
  let columns: string[] = [];
  try {
    const head = parseCsv(buf, { bom: true, to_line: 1, delimiter, relax_column_count: true, record_delimiter: RECORD_DELIMITERS }) as string[][];
    columns = head[0] ?? [];
  } catch (e) {
    const err = e as { message?: string; code?: string };
    throw invalidFileError(path, `line 1: malformed CSV header (${err.code ?? 'error'}): ${err.message ?? String(e)}`);
  }
  const dups = [...new Set(columns.filter((c, i) => columns.indexOf(c) !== i))];
  if (dups.length) {
    const where = (c: string) => columns.flatMap((x, i) => (x === c ? [i + 1] : [])).join(' and ');
    throw invalidFileError(path, `line 1: duplicate column name${dups.length > 1 ? 's' : ''} ${dups.map((c) => `${showValue(c)} (columns ${where(c)})`).join(', ')}; every column needs its own name`);
  }
  for (const c of [...required, ...optional]) {
    if (!columns.includes(c))
      throw invalidFileError(path, `missing column "${c}"; the header has ${columns.length ? columns.map((x) => `"${x}"`).join(', ') : 'no columns'}`);
  }
  let parsed: { record: Record<string, string>; info: { bytes: number } }[];
  try {
    parsed = parseCsv(buf, { bom: true, columns: true, info: true, skip_empty_lines: true, delimiter, record_delimiter: RECORD_DELIMITERS }) as never;
  } catch (e) {
    const err = e as { message?: string; lines?: number; code?: string };
    const line = err.lines ? `line ${err.lines}: ` : '';
    throw invalidFileError(path, `${line}malformed CSV (${err.code ?? 'error'}): ${err.message ?? String(e)}`);
  }
  const lineOf = lineIndex(buf);
  // A record starts where the previous one ended, after any empty lines.
  let headerEnd = 0;
  {
    let inQuote = false;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c === 34) inQuote = !inQuote;
      else if (c === 10 && !inQuote) {
        headerEnd = i + 1;
        break;
      }
    }
    if (headerEnd === 0) headerEnd = buf.length;
  }
  let prev = headerEnd;
  const records: RawRecord[] = parsed.map(({ record, info }) => {
    let start = prev;
    while (start < buf.length && (buf[start] === 10 || buf[start] === 13)) start++;
    prev = info.bytes;
    return { line: lineOf(start), get: (c) => record[c], has: (c) => c in record };
  });
  return { records, columns };
}

/** The first key that appears twice among a (valid) JSON object's top-level keys, or null. */
function duplicateKey(json: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && /^\s*:/.test(json.slice(j + 1, j + 40))) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
      }
      i = j;
    }
  }
  return null;
}

function readJsonl(path: string, buf: Buffer, required: string[], optional: string[]): { records: RawRecord[]; columns: string[] } {
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  const records: RawRecord[] = [];
  const columns = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw invalidFileError(path, `line ${i + 1}: malformed JSON (${(e as Error).message})`);
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
      throw invalidFileError(path, `line ${i + 1}: expected a JSON object per line but found ${Array.isArray(obj) ? 'an array' : typeof obj}`);
    const o = obj as Record<string, unknown>;
    const dup = duplicateKey(raw);
    if (dup !== null) throw invalidFileError(path, `line ${i + 1}: the key ${showValue(dup)} appears more than once in the object (JSON keeps only the last); every field needs its own name`);
    for (const key of Object.keys(o)) columns.add(key);
    records.push({ line: i + 1, get: (c) => o[c], has: (c) => Object.prototype.hasOwnProperty.call(o, c) });
  }
  const found = [...columns];
  for (const c of [...required, ...optional]) {
    if (records.length > 0 && !columns.has(c))
      throw invalidFileError(path, `missing column "${c}"; the rows have ${found.length ? found.map((x) => `"${x}"`).join(', ') : 'no keys'}`);
  }
  for (const r of records)
    for (const c of required)
      if (!r.has(c)) throw invalidFileError(path, `line ${r.line}: missing "${c}" (the columns are ${found.map((x) => `"${x}"`).join(', ')})`);
  return { records, columns: found };
}

export function readDataset(path: string, options: ReadDatasetOptions = {}): Dataset {
  if (typeof path !== 'string' || path === '') throw typeError('path', 'a file path string', path);
  const opts = checkOptions('readDataset options', options);
  rejectUnknownKeys('readDataset options', opts, READ_KEYS);
  let format = opts.format as string | undefined;
  if (format === undefined) {
    const ext = extname(path).toLowerCase();
    format = ext === '.jsonl' || ext === '.ndjson' || ext === '.json' ? 'jsonl' : ext === '.csv' || ext === '.tsv' ? 'csv' : undefined;
    if (!format) throw rangeErrorMessage(`Cannot tell the format of ${path} from its extension; pass options.format 'csv' or 'jsonl'`);
  }
  if (format !== 'csv' && format !== 'jsonl') throw typeError('options.format', "'csv' or 'jsonl'", format);
  const textColumn = checkString('options.textColumn', opts.textColumn, 'text');
  const labelsColumn = checkString('options.labelsColumn', opts.labelsColumn, 'labels');
  const sep = checkString('options.labelSeparator', opts.labelSeparator, ',');
  if (opts.partial !== undefined && typeof opts.partial !== 'boolean') throw typeError('options.partial', 'a boolean', opts.partial);
  const partial = opts.partial === true;
  const negativesColumn =
    opts.negativesColumn === undefined ? (partial ? 'negatives' : undefined) : checkString('options.negativesColumn', opts.negativesColumn, '');
  let pre: ((t: string) => string) | undefined;
  if (typeof opts.preprocess === 'function') pre = opts.preprocess as (t: string) => string;
  else if (opts.preprocess !== undefined) {
    const po = checkPreprocessOptions('options.preprocess', opts.preprocess);
    pre = (t) => preprocess(t, po);
  }

  const encoding = opts.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'latin1') throw typeError('options.encoding', "'utf8' or 'latin1'", encoding);
  const buf = readTextFile(path, encoding);
  const optional = negativesColumn ? [negativesColumn] : [];
  const { records } = (format === 'csv' ? readCsv : readJsonl)(path, buf, [textColumn, labelsColumn], optional);

  const rows: DataRow[] = [];
  const emptyText: { line: number }[] = [];
  const labels = new Set<string>();
  let withoutLabels = 0;
  for (const r of records) {
    const where = () => `${path}: line ${r.line}`;
    let text = r.get(textColumn);
    if (text === null || text === undefined) text = '';
    if (typeof text !== 'string') throw codedError('ERR_INVALID_FILE', `${where()}: column "${textColumn}" must be a string, got ${typeof text}`);
    if (pre) text = pre(text as string);
    if ((text as string).trim() === '') {
      emptyText.push({ line: r.line });
      continue;
    }
    const pos = splitLabels(r.get(labelsColumn), sep, where, labelsColumn);
    const row: DataRow = { text: text as string, labels: pos, line: r.line };
    if (negativesColumn) {
      const neg = splitLabels(r.get(negativesColumn), sep, where, negativesColumn);
      for (const l of neg)
        if (pos.includes(l)) throw codedError('ERR_INVALID_FILE', `${where()}: label "${l}" is listed both as positive and as negative`);
      row.negatives = neg;
      for (const l of neg) labels.add(l);
    }
    for (const l of pos) labels.add(l);
    if (pos.length === 0) withoutLabels++;
    rows.push(row);
  }
  return {
    rows,
    labelSet: [...labels].sort(compareStrings),
    report: { rowsRead: records.length, rowsKept: rows.length, emptyText, rowsWithoutLabels: withoutLabels },
  };
}
