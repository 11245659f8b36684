/**
 * Labelled rows as the Trainer and the Classifier take them: the argument checks, the label order, the
 * one check that rows name only known labels, and the Int8 targets (-1 = unknown, partial annotation).
 */
import { encodeTargets } from './targets.js';
import { rangeErrorMessage, typeError } from './errors.js';

/** One example: its text, its positive labels and (partially annotated rows) the labels known to be absent. */
export interface TrainRow {
  text: string;
  labels: string[];
  negatives?: string[];
}

/** Rows, or a dataset as readDataset returns it (its labelSet fixes the label order). */
export type TrainData = readonly TrainRow[] | { rows: readonly TrainRow[]; labelSet?: readonly string[] };

/** The rows (checked) and the label set of `data`; `name` is the argument named in errors. */
export function rowsOf(data: TrainData, name: string): { rows: readonly TrainRow[]; labelSet?: readonly string[] } {
  let out: { rows: readonly TrainRow[]; labelSet?: readonly string[] };
  if (Array.isArray(data)) out = { rows: data as readonly TrainRow[] };
  else if (data && typeof data === 'object' && Array.isArray((data as { rows?: unknown }).rows))
    out = data as { rows: readonly TrainRow[]; labelSet?: readonly string[] };
  else throw typeError(name, 'an array of { text, labels } rows or a dataset { rows, labelSet }', data);
  const rows = out.rows;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!r || typeof r.text !== 'string' || !Array.isArray(r.labels))
      throw typeError(`${name}[${i}]`, 'a row { text: string, labels: string[] }', r);
  }
  return out;
}

/** The label order: the dataset's labelSet when given, else the sorted labels of the rows. */
export function labelOrder(data: { rows: readonly TrainRow[]; labelSet?: readonly string[] }): string[] {
  if (data.labelSet) return [...data.labelSet];
  const s = new Set<string>();
  for (const r of data.rows) for (const l of r.labels) s.add(l);
  return [...s].sort();
}

/**
 * Throws ERR_INVALID_ARG (RangeError) when a row names a label (positive or negative) outside `labels`:
 * `<name> has labels unseen at training time: a, b`.
 */
export function checkKnownLabels(rows: readonly TrainRow[], labels: readonly string[], name: string): void {
  const known = new Set(labels);
  const unseen = new Set<string>();
  for (const r of rows) for (const l of [...r.labels, ...(r.negatives ?? [])]) if (!known.has(l)) unseen.add(l);
  if (unseen.size > 0)
    throw rangeErrorMessage(`${name} has labels unseen at training time: ${[...unseen].slice(0, 10).join(', ')}${unseen.size > 10 ? ', …' : ''}`);
}

/** The targets of `rows` as an Int8Array (N×K, -1 = unknown) with the unknown count and the partial rows. */
export function targetsOf(rows: readonly TrainRow[], labels: readonly string[]): { targets: Int8Array; unknown: number; partialRows: number } {
  const targets = encodeTargets(rows, labels);
  let unknown = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] < 0) unknown++;
  const partialRows = rows.filter((r) => Array.isArray(r.negatives)).length;
  return { targets, unknown, partialRows };
}
