/**
 * Train / validation / test split by order-1 iterative stratification (Sechidis, Tsoumakas and
 * Vlahavas, ECML PKDD 2011), deterministic for a seed:
 *  1. desired rows per subset c_j = n·r_j and desired rows of label l per subset c_j^l = |D_l|·r_j;
 *  2. repeatedly take the label with the fewest (>= 1) unassigned rows (ties: a seeded random
 *     priority per label), and give each of its unassigned rows (in a seeded shuffled order) to
 *     the subset with the largest c_j^l, ties by the largest c_j, then by the seeded PRNG; then
 *     decrement c_m^λ for every label λ of the row and c_m;
 *  3. rows without labels go to the subset with the largest remaining c_j (ties by the PRNG);
 *  4. (not in the paper) a repair pass: a label with at least one row per subset that the greedy
 *     pass left out of a subset gets one row moved there from the subset holding most of its rows;
 *     repeated (at most 4 passes) since a move can open a hole for another label of the moved row.
 * "Fewest remaining" is a binary heap with lazy deletion keyed by (remaining count, priority), so
 * the whole split is O(nnz · log L) for nnz row-label pairs.
 */
import { checkOptions, rejectUnknownKeys, checkNumber, typeError, rangeErrorMessage, checkInteger } from './errors.js';
import { mulberry32 } from './random.js';

export interface SplitOptions {
  /** Fraction of rows for the test set (default 0.2). */
  test?: number;
  /** Fraction of rows for the validation set (default 0.2). */
  val?: number;
  /** PRNG seed (default 0). */
  seed?: number;
}

export interface SplitCoverage {
  /** Labels with at least one row in this split. */
  present: number;
  /** Labels (of those seen in the input) with no row in this split, sorted. */
  missing: string[];
}

export interface SplitResult<T> {
  train: T[];
  val: T[];
  test: T[];
  /** Row indices into the input for each split, ascending. */
  indices: { train: Int32Array; val: Int32Array; test: Int32Array };
  coverage: { labels: number; train: SplitCoverage; val: SplitCoverage; test: SplitCoverage };
}

const KEYS = ['test', 'val', 'seed'] as const;


export function iterativeStratifiedSplit<T extends { labels: readonly string[] }>(
  rows: readonly T[],
  options: SplitOptions = {},
): SplitResult<T> {
  if (!Array.isArray(rows)) throw typeError('rows', 'an array of rows with a labels array', rows);
  const opts = checkOptions('iterativeStratifiedSplit options', options);
  rejectUnknownKeys('iterativeStratifiedSplit options', opts, KEYS);
  const testFrac = opts.test === undefined ? 0.2 : checkNumber('options.test', opts.test, 0, 1);
  const valFrac = opts.val === undefined ? 0.2 : checkNumber('options.val', opts.val, 0, 1);
  const seed = opts.seed === undefined ? 0 : checkInteger('options.seed', opts.seed, 0, 2 ** 32 - 1);
  const trainFrac = 1 - testFrac - valFrac;
  if (!(trainFrac > 0))
    throw rangeErrorMessage(`Expected options.test + options.val < 1 but received test = ${testFrac}, val = ${valFrac}`);
  const r = [trainFrac, valFrac, testFrac];
  const S = 3;
  const n = rows.length;

  // Label ids in sorted order; row label lists (deduplicated) as CSR.
  const labelIndex = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (row === null || typeof row !== 'object' || !Array.isArray(row.labels))
      throw typeError(`rows[${i}]`, 'an object with a labels array of strings', row);
    for (const l of row.labels) {
      if (typeof l !== 'string') throw typeError(`rows[${i}].labels`, 'an array of strings', row.labels);
      if (!labelIndex.has(l)) labelIndex.set(l, 0);
    }
  }
  const names = [...labelIndex.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  names.forEach((name, id) => labelIndex.set(name, id));
  const L = names.length;
  const rowStart = new Int32Array(n + 1);
  const tmp: number[] = [];
  const seen = new Int32Array(L).fill(-1);
  for (let i = 0; i < n; i++) {
    for (const l of rows[i].labels) {
      const id = labelIndex.get(l)!;
      if (seen[id] === i) continue;
      seen[id] = i;
      tmp.push(id);
    }
    rowStart[i + 1] = tmp.length;
  }
  const rowLabels = Int32Array.from(tmp);

  const rand = mulberry32(seed);
  // Seeded shuffled visiting order of rows, then per-label row lists in that order (CSR).
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const count = new Int32Array(L);
  for (let e = 0; e < rowLabels.length; e++) count[rowLabels[e]]++;
  const labStart = new Int32Array(L + 1);
  for (let l = 0; l < L; l++) labStart[l + 1] = labStart[l] + count[l];
  const labRows = new Int32Array(rowLabels.length);
  const fill = labStart.slice(0, L);
  for (const i of order) for (let e = rowStart[i]; e < rowStart[i + 1]; e++) labRows[fill[rowLabels[e]]++] = i;

  const desired = new Float64Array(S);
  for (let j = 0; j < S; j++) desired[j] = n * r[j];
  const desiredL = new Float64Array(L * S);
  for (let l = 0; l < L; l++) for (let j = 0; j < S; j++) desiredL[l * S + j] = count[l] * r[j];
  const remaining = Int32Array.from(count);
  const priority = new Float64Array(L);
  for (let l = 0; l < L; l++) priority[l] = rand();
  const assign = new Int8Array(n).fill(-1);

  // Min-heap of (remaining, priority, label) with lazy deletion.
  const heapRem: number[] = [];
  const heapLab: number[] = [];
  const less = (a: number, b: number) =>
    heapRem[a] < heapRem[b] ||
    (heapRem[a] === heapRem[b] && (priority[heapLab[a]] < priority[heapLab[b]] || (priority[heapLab[a]] === priority[heapLab[b]] && heapLab[a] < heapLab[b])));
  const swap = (a: number, b: number) => {
    let t = heapRem[a];
    heapRem[a] = heapRem[b];
    heapRem[b] = t;
    t = heapLab[a];
    heapLab[a] = heapLab[b];
    heapLab[b] = t;
  };
  const push = (rem: number, lab: number) => {
    heapRem.push(rem);
    heapLab.push(lab);
    let i = heapRem.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) break;
      swap(i, p);
      i = p;
    }
  };
  const pop = () => {
    const last = heapRem.length - 1;
    swap(0, last);
    heapRem.pop();
    heapLab.pop();
    let i = 0;
    const m = heapRem.length;
    for (;;) {
      const a = 2 * i + 1;
      const b = a + 1;
      let c = i;
      if (a < m && less(a, c)) c = a;
      if (b < m && less(b, c)) c = b;
      if (c === i) break;
      swap(i, c);
      i = c;
    }
  };
  for (let l = 0; l < L; l++) if (remaining[l] > 0) push(remaining[l], l);

  const cand = new Int32Array(S);
  const give = (i: number, m: number) => {
    assign[i] = m;
    desired[m] -= 1;
    for (let e = rowStart[i]; e < rowStart[i + 1]; e++) {
      const lab = rowLabels[e];
      desiredL[lab * S + m] -= 1;
      remaining[lab]--;
      if (remaining[lab] > 0) push(remaining[lab], lab);
    }
  };
  const pickAmong = (nc: number) => (nc === 1 ? cand[0] : cand[Math.floor(rand() * nc)]);

  while (heapRem.length > 0) {
    const rem = heapRem[0];
    const l = heapLab[0];
    pop();
    if (rem !== remaining[l] || rem === 0) continue; // stale entry
    for (let e = labStart[l]; e < labStart[l + 1]; e++) {
      const i = labRows[e];
      if (assign[i] >= 0) continue;
      // argmax c_j^l, then argmax c_j, then random
      let best = -Infinity;
      let nc = 0;
      for (let j = 0; j < S; j++) {
        if (r[j] === 0) continue;
        const d = desiredL[l * S + j];
        if (d > best) {
          best = d;
          nc = 0;
        }
        if (d === best) cand[nc++] = j;
      }
      if (nc > 1) {
        let bestC = -Infinity;
        let m = 0;
        for (let c = 0; c < nc; c++) {
          const d = desired[cand[c]];
          if (d > bestC) {
            bestC = d;
            m = 0;
          }
          if (d === bestC) cand[m++] = cand[c];
        }
        nc = m;
      }
      give(i, pickAmong(nc));
    }
  }
  // Rows without labels: the subset with the largest remaining demand.
  for (const i of order) {
    if (assign[i] >= 0) continue;
    let best = -Infinity;
    let nc = 0;
    for (let j = 0; j < S; j++) {
      if (r[j] === 0) continue;
      if (desired[j] > best) {
        best = desired[j];
        nc = 0;
      }
      if (desired[j] === best) cand[nc++] = j;
    }
    const m = pickAmong(nc);
    assign[i] = m;
    desired[m] -= 1;
  }

  // Repair: the greedy pass can leave a label with >= 3 rows absent from a split (its rows were
  // taken earlier by rarer labels). Move one of its rows there from the split holding most of
  // them, preferring a row whose other labels keep a row in the donor split, then fewer labels.
  const cnt = new Int32Array(S * L);
  for (let i = 0; i < n; i++) for (let e = rowStart[i]; e < rowStart[i + 1]; e++) cnt[assign[i] * L + rowLabels[e]]++;
  const byCount = Array.from({ length: L }, (_, l) => l).sort((a, b) => count[a] - count[b] || a - b);
  const splitsWanted = r.filter((x) => x > 0).length;
  const repairOnce = (): boolean => {
    let moved = false;
    for (const l of byCount) {
      if (count[l] < splitsWanted) continue;
      for (let m = 0; m < S; m++) {
        if (r[m] === 0 || cnt[m * L + l] > 0) continue;
        let donor = -1;
        for (let d = 0; d < S; d++) if (d !== m && cnt[d * L + l] >= 2 && (donor < 0 || cnt[d * L + l] > cnt[donor * L + l])) donor = d;
        if (donor < 0) continue;
        let bestRow = -1;
        let bestHoles = Infinity;
        let bestSize = Infinity;
        for (let e = labStart[l]; e < labStart[l + 1]; e++) {
          const i = labRows[e];
          if (assign[i] !== donor) continue;
          let holes = 0;
          for (let f = rowStart[i]; f < rowStart[i + 1]; f++) if (cnt[donor * L + rowLabels[f]] === 1) holes++;
          const size = rowStart[i + 1] - rowStart[i];
          if (holes < bestHoles || (holes === bestHoles && (size < bestSize || (size === bestSize && i < bestRow)))) {
            bestRow = i;
            bestHoles = holes;
            bestSize = size;
          }
        }
        if (bestRow < 0) continue;
        for (let f = rowStart[bestRow]; f < rowStart[bestRow + 1]; f++) {
          cnt[donor * L + rowLabels[f]]--;
          cnt[m * L + rowLabels[f]]++;
        }
        assign[bestRow] = m;
        moved = true;
      }
    }
    return moved;
  };
  // A move can open a hole for another label of the moved row, so repeat (a few passes at most).
  for (let pass = 0; pass < 4 && repairOnce(); pass++);

  const idx: number[][] = [[], [], []];
  for (let i = 0; i < n; i++) idx[assign[i]].push(i);
  const present = [new Uint8Array(L), new Uint8Array(L), new Uint8Array(L)];
  for (let i = 0; i < n; i++) for (let e = rowStart[i]; e < rowStart[i + 1]; e++) present[assign[i]][rowLabels[e]] = 1;
  const cover = (j: number): SplitCoverage => {
    const missing: string[] = [];
    for (let l = 0; l < L; l++) if (!present[j][l]) missing.push(names[l]);
    return { present: L - missing.length, missing };
  };
  return {
    train: idx[0].map((i) => rows[i]),
    val: idx[1].map((i) => rows[i]),
    test: idx[2].map((i) => rows[i]),
    indices: { train: Int32Array.from(idx[0]), val: Int32Array.from(idx[1]), test: Int32Array.from(idx[2]) },
    coverage: { labels: L, train: cover(0), val: cover(1), test: cover(2) },
  };
}

export interface SplitDatasetOptions {
  /** [train, val, test] shares, summing to 1 (default [0.6, 0.2, 0.2]) */
  ratios?: readonly [number, number, number];
  /** PRNG seed (default 0) */
  seed?: number;
}

/** A dataset split three ways, each part a dataset { rows, labelSet } that Trainer.fit/evaluate take. */
export interface DatasetSplit<T> {
  train: { rows: T[]; labelSet: string[] };
  val: { rows: T[]; labelSet: string[] };
  test: { rows: T[]; labelSet: string[] };
  /** the label order every part shares: the dataset's labelSet, else the sorted labels of the rows */
  labelSet: string[];
  indices: SplitResult<T>['indices'];
  /** labels present and missing in each part (Trainer.fit records it: fit(train, val, { splitCoverage })) */
  coverage: SplitResult<T>['coverage'];
}

/**
 * The CLI's split as a library call: iterative stratification (iterativeStratifiedSplit) of rows or of a
 * dataset { rows, labelSet } into train/val/test datasets sharing one label set, with the coverage facts.
 */
export function splitDataset<T extends { labels: readonly string[]; negatives?: readonly string[] }>(
  data: readonly T[] | { rows: readonly T[]; labelSet?: readonly string[] },
  options: SplitDatasetOptions = {},
): DatasetSplit<T> {
  const rows = Array.isArray(data) ? (data as readonly T[]) : (data as { rows?: unknown })?.rows;
  if (!Array.isArray(rows)) throw typeError('data', 'an array of rows or a dataset { rows, labelSet }', data);
  const opts = checkOptions('splitDataset options', options);
  rejectUnknownKeys('splitDataset options', opts, ['ratios', 'seed']);
  const ratios = opts.ratios ?? [0.6, 0.2, 0.2];
  if (!Array.isArray(ratios) || ratios.length !== 3) throw typeError('options.ratios', '[train, val, test] shares', ratios);
  ratios.forEach((r, i) => checkNumber(`options.ratios[${i}]`, r, 0, 1));
  const sum = ratios[0] + ratios[1] + ratios[2];
  if (Math.abs(sum - 1) > 1e-9 || !(ratios[0] > 0))
    throw rangeErrorMessage(`Expected options.ratios to sum to 1 with a positive train share but received [${ratios.join(', ')}]`);
  const given = Array.isArray(data) ? undefined : (data as { labelSet?: readonly string[] }).labelSet;
  let labelSet: string[];
  if (given) labelSet = [...given];
  else {
    const s = new Set<string>();
    for (const r of rows as readonly T[]) for (const l of [...(r?.labels ?? []), ...(r?.negatives ?? [])]) s.add(l);
    labelSet = [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  const s = iterativeStratifiedSplit(rows as readonly T[], { val: ratios[1], test: ratios[2], seed: opts.seed as number | undefined });
  const part = (r: T[]) => ({ rows: r, labelSet });
  return { train: part(s.train), val: part(s.val), test: part(s.test), labelSet, indices: s.indices, coverage: s.coverage };
}
