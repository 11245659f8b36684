/** What the CLI reads: labelled data files (--data, --val, --test with the column options) and texts to predict. */
import { extname } from 'node:path';
import type { TrainRow } from '../rows.js';
import { printable } from '../errors.js';
import { checkInputFile, UsageError } from './paths.js';

/** parseArgs values */
export type Values = Record<string, string | boolean | string[] | undefined>;

export const DATA_OPTIONS = {
  encoding: { type: 'string' },
  partial: { type: 'boolean' },
  'text-column': { type: 'string' },
  'labels-column': { type: 'string' },
  'negatives-column': { type: 'string' },
  'label-separator': { type: 'string' },
} as const;

export interface Dataset {
  rows: TrainRow[];
  labelSet: string[];
}

function encodingOf(v: Values): 'utf8' | 'latin1' | undefined {
  const e = v.encoding;
  if (e !== undefined && e !== 'utf8' && e !== 'latin1') throw new UsageError(`--encoding must be one of utf8, latin1, got "${printable(String(e))}"`);
  return e;
}

/** Reads a labelled file for `--flag`; rows dropped for an empty text are counted and reported through `log`. */
export async function loadData(path: string, v: Values, flag: string, log: (s: string) => void): Promise<Dataset> {
  checkInputFile(flag, path);
  const partial = v.partial === true;
  const { readDataset } = await import('../data.js');
  const ds = (readDataset(path, {
    encoding: encodingOf(v),
    textColumn: (v['text-column'] as string) ?? 'text',
    labelsColumn: (v['labels-column'] as string) ?? 'labels',
    labelSeparator: (v['label-separator'] as string) ?? ',',
    ...(partial ? { negativesColumn: (v['negatives-column'] as string) ?? 'negatives', partial: true } : {}),
  })) as unknown as Dataset & { report: { emptyText: { line: number }[] } };
  const dropped = ds.report.emptyText;
  if (dropped.length)
    log(`--${flag} ${printable(path)}: dropped ${dropped.length} row${dropped.length === 1 ? '' : 's'} with an empty text (line${dropped.length === 1 ? '' : 's'} ${dropped.slice(0, 10).map((d) => d.line).join(', ')}${dropped.length > 10 ? ', …' : ''})`);
  if (ds.rows.length === 0) throw new Error(`${path}: no rows`);
  // With --partial, a row whose negatives cell is empty is fully annotated; a row that lists negatives
  // was checked only for those (and its positives): its other labels are unknown.
  if (partial) for (const r of ds.rows) if (r.negatives && r.negatives.length === 0) delete r.negatives;
  return ds;
}

export async function readTexts(path: string, column: string): Promise<string[]> {
  checkInputFile('data', path);
  const ext = extname(path).toLowerCase();
  const { readTextFile } = await import('../data.js');
  const raw = readTextFile(path).toString('utf8').replace(/^\uFEFF/, '');
  if (ext === '.txt') return raw.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (ext === '.jsonl' || ext === '.ndjson') {
    const out: string[] = [];
    raw.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        throw new Error(`${path}:${i + 1}: invalid JSON (${(err as Error).message})`);
      }
      const t = (obj as Record<string, unknown>)?.[column];
      if (typeof t !== 'string') throw new Error(`${path}:${i + 1}: no string "${column}" field`);
      out.push(t);
    });
    return out;
  }
  const { parse: parseCsv } = await import('csv-parse/sync');
  let records: Record<string, string>[];
  try {
    records = parseCsv(raw, { columns: true, skip_empty_lines: true, relax_column_count: false }) as Record<string, string>[];
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (records.length > 0 && !(column in records[0])) throw new Error(`${path}: missing column "${column}" (columns: ${Object.keys(records[0]).join(', ')})`);
  return records.map((r) => r[column]);
}
