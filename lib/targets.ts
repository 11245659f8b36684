/**
 * Target matrices from dataset rows: N×K Int8Array targets (1 positive, 0 known negative, -1 unknown for
 * partially annotated rows) and per-label positive counts.
 */
import { checkOptions, rejectUnknownKeys, typeError, rangeErrorMessage } from './errors.js';
import type { DataRow } from './data.js';

function labelIds(labelSet: unknown): Map<string, number> {
  if (!Array.isArray(labelSet) || labelSet.some((l) => typeof l !== 'string')) throw typeError('labelSet', 'an array of label names', labelSet);
  const m = new Map<string, number>();
  labelSet.forEach((l: string, j) => {
    if (m.has(l)) throw rangeErrorMessage(`Expected labelSet to hold distinct names but "${l}" appears twice`);
    m.set(l, j);
  });
  return m;
}

function checkRows(rows: unknown): DataRow[] {
  if (!Array.isArray(rows)) throw typeError('rows', 'an array of { labels: string[] } rows', rows);
  return rows as DataRow[];
}

function rowLabels(rows: DataRow[], i: number, key: 'labels' | 'negatives'): readonly string[] | undefined {
  const row = rows[i];
  if (row === null || typeof row !== 'object') throw typeError(`rows[${i}]`, 'an object with a labels array', row);
  const v = row[key];
  if (v === undefined && key === 'negatives') return undefined;
  if (!Array.isArray(v)) throw typeError(`rows[${i}].${key}`, 'an array of label names', v);
  return v;
}

/**
 * N×K targets (row-major Int8Array): 1 for a row's labels, 0 for known negatives, -1 for unknown.
 * partial 'auto' (default): rows that carry a `negatives` array are partial (labels in neither list
 * are -1), other rows are fully annotated. true: every row is partial. false: unknown means 0.
 */
export function encodeTargets(rows: readonly DataRow[], labelSet: readonly string[], options: { partial?: boolean | 'auto' } = {}): Int8Array {
  const rs = checkRows(rows);
  const ids = labelIds(labelSet);
  const opts = checkOptions('encodeTargets options', options);
  rejectUnknownKeys('encodeTargets options', opts, ['partial']);
  const partial = opts.partial ?? 'auto';
  if (partial !== true && partial !== false && partial !== 'auto') throw typeError('options.partial', "true, false or 'auto'", partial);
  const k = labelSet.length;
  const out = new Int8Array(rs.length * k);
  const lookup = (l: string, i: number) => {
    const j = ids.get(l);
    if (j === undefined) throw rangeErrorMessage(`rows[${i}] has label "${l}" which is not in labelSet (${k} labels)`);
    return j;
  };
  for (let i = 0; i < rs.length; i++) {
    const pos = rowLabels(rs, i, 'labels')!;
    const neg = rowLabels(rs, i, 'negatives');
    const isPartial = partial === true || (partial === 'auto' && neg !== undefined);
    const row = out.subarray(i * k, (i + 1) * k);
    if (isPartial) {
      row.fill(-1);
      if (neg) for (const l of neg) row[lookup(l, i)] = 0;
    }
    for (const l of pos) row[lookup(l, i)] = 1;
  }
  return out;
}

/** Positives per label (Int32Array of K), the input of the class-weight helpers (positives, total). */
export function labelCounts(rows: readonly DataRow[], labelSet: readonly string[]): Int32Array {
  const rs = checkRows(rows);
  const ids = labelIds(labelSet);
  const out = new Int32Array(labelSet.length);
  for (let i = 0; i < rs.length; i++) {
    const seen = new Set<number>();
    for (const l of rowLabels(rs, i, 'labels')!) {
      const j = ids.get(l);
      if (j === undefined) throw rangeErrorMessage(`rows[${i}] has label "${l}" which is not in labelSet (${labelSet.length} labels)`);
      if (!seen.has(j)) out[j]++;
      seen.add(j);
    }
  }
  return out;
}
