/**
 * Decision-threshold tuning on validation scores (seed article 002's grid search, finer). Every
 * known (target, score) element is dropped once into a per-label histogram over the grid, so the
 * TP/FP counts at every grid threshold come from one cumulative sum per label: no per-threshold
 * recomputation. A label is predicted when score >= threshold, as in evaluate().
 *
 *  - global: the grid threshold maximising the objective with one threshold for all labels;
 *  - perClass (optional): 'macro-f1' maximises each label's own F1 (macro F1 is separable);
 *    'micro-f1' does coordinate ascent on the pooled micro F1, starting from the global threshold.
 *    Labels with fewer than minSupport known positives keep the global threshold. minSupport 'auto'
 *    picks it from MIN_SUPPORT_CANDIDATES by two-fold cross-validation on the rows (chooseMinSupport).
 *  - bags (optional, with perClass): the thresholds of labels with BAG_MIN_POSITIVES or more known
 *    positives (and at least minSupport) become the mean of their thresholds tuned on `bags` bootstrap resamples of the rows
 *    (baggedThresholds); the other labels keep the thresholds tuned on all the rows.
 * Ties between grid points: the middle of the first run of best values (robust to plateaus).
 */
import { checkOptions, rejectUnknownKeys, typeError, rangeErrorMessage, checkInteger } from './errors.js';
import { checkShape, checkTargets, checkScores, upperBound, type TargetArray, type ScoreArray } from './matrix.js';
import { mulberry32 } from './random.js';

export type ThresholdObjective = 'micro-f1' | 'macro-f1';

export interface TuneThresholdsOptions {
  shape: [number, number];
  objective?: ThresholdObjective;
  perClass?: boolean;
  /** Ascending candidate thresholds (default 0.001, 0.002, …, 0.999). */
  grid?: ArrayLike<number>;
  /**
   * Known positives a label needs for its own threshold (default 5); 'auto': chosen by cross-validation
   * on the rows (chooseMinSupport), for when a few positives per label cannot be trusted to place one.
   */
  minSupport?: number | 'auto';
  /**
   * Bootstrap resamples whose tuned thresholds are averaged for the labels with BAG_MIN_POSITIVES or
   * more known positives (default 0: none; needs perClass). A label's best threshold on one sample sits
   * on a noisy peak of its F1 curve; the mean over resamples is steadier on new data.
   */
  bags?: number;
}

export interface TuneThresholdsResult {
  global: number;
  /** The objective at the global threshold. */
  value: number;
  perClass?: Float32Array;
  /** The objective with the per-class thresholds (when perClass). */
  perClassValue?: number;
  /** Labels that got their own threshold (the others use the global one). */
  tunedLabels?: number;
  /** The minSupport used (with perClass); with 'auto', the one chooseMinSupport picked. */
  minSupport?: number;
  /** With minSupport 'auto': each candidate's mean held-out objective. */
  minSupportScores?: { minSupport: number; value: number }[];
  /** With bags: the resamples averaged and the labels whose thresholds are their mean. */
  bags?: number;
  baggedLabels?: number;
  curve: { threshold: number; value: number }[];
}

const KEYS = ['shape', 'objective', 'perClass', 'grid', 'minSupport', 'bags'] as const;
const OBJECTIVES = ['micro-f1', 'macro-f1'] as const;

function f1(tp: number, fp: number, fn: number): number {
  const d = 2 * tp + fp + fn;
  return d === 0 ? 0 : (2 * tp) / d;
}

/** Index of the middle of the first run of maximal values. */
function bestIndex(values: ArrayLike<number>, from = 0, to = values.length): number {
  let best = -Infinity;
  for (let i = from; i < to; i++) if (values[i] > best) best = values[i];
  const eps = 1e-12;
  let start = from;
  while (values[start] < best - eps) start++;
  let end = start;
  while (end + 1 < to && values[end + 1] >= best - eps) end++;
  return (start + end) >> 1;
}

function defaultGrid(): Float32Array {
  const g = new Float32Array(999);
  for (let i = 0; i < 999; i++) g[i] = (i + 1) / 1000;
  return g;
}

function checkGrid(grid: unknown): Float32Array {
  if (grid === undefined) return defaultGrid();
  if (!(Array.isArray(grid) || grid instanceof Float32Array || grid instanceof Float64Array))
    throw typeError('options.grid', 'an ascending array of candidate thresholds', grid);
  const g = Float32Array.from(grid as ArrayLike<number>);
  if (g.length === 0) throw rangeErrorMessage('Expected options.grid to hold at least one threshold but it is empty');
  for (let i = 0; i < g.length; i++) {
    if (!Number.isFinite(g[i])) throw rangeErrorMessage(`Expected options.grid[${i}] to be a finite number but received ${g[i]}`);
    if (i > 0 && !(g[i] > g[i - 1]))
      throw rangeErrorMessage(`Expected options.grid to be strictly ascending but grid[${i - 1}] = ${g[i - 1]} >= grid[${i}] = ${g[i]}`);
  }
  return g;
}

/** Number of grid values <= x (so x is predicted positive at grid indices 0 .. result-1). */
function gridBin(grid: Float32Array, x: number, uniform: boolean, g0: number, invStep: number): number {
  const G = grid.length;
  let b: number;
  if (uniform) {
    b = Math.floor((x - g0) * invStep) + 1;
    if (b < 0) b = 0;
    else if (b > G) b = G;
    // float rounding: fix up against the actual float32 grid values
    while (b > 0 && grid[b - 1] > x) b--;
    while (b < G && grid[b] <= x) b++;
    return b;
  }
  return upperBound(grid, 0, G, x);
}

export function tuneThresholds(targets: TargetArray, scores: ScoreArray, options: TuneThresholdsOptions): TuneThresholdsResult {
  const opts = checkOptions('tuneThresholds options', options);
  rejectUnknownKeys('tuneThresholds options', opts, KEYS);
  if (opts.shape === undefined) throw typeError('options.shape', 'an array [N, K] of two integers', undefined);
  const [n, k] = checkShape('options.shape', opts.shape);
  const y = checkTargets('targets', targets, n, k, false); // values checked in the histogram pass
  const s = checkScores('scores', scores, n, k, false);
  const objective = (opts.objective ?? 'micro-f1') as ThresholdObjective;
  if (!OBJECTIVES.includes(objective)) {
    rejectUnknownKeys('options.objective', { [String(objective)]: 1 }, OBJECTIVES);
    throw typeError('options.objective', "'micro-f1' or 'macro-f1'", objective);
  }
  if (opts.perClass !== undefined && typeof opts.perClass !== 'boolean')
    throw typeError('options.perClass', 'a boolean', opts.perClass);
  const perClass = opts.perClass === true;
  const grid = checkGrid(opts.grid);
  const auto = opts.minSupport === 'auto';
  if (!auto && opts.minSupport !== undefined && typeof opts.minSupport !== 'number') throw typeError('options.minSupport', "an integer >= 0 or 'auto'", opts.minSupport);
  let minSupport = opts.minSupport === undefined || auto ? 5 : checkInteger('options.minSupport', opts.minSupport, 0);
  let minSupportScores: { minSupport: number; value: number }[] | undefined;
  const bags = opts.bags === undefined ? 0 : checkInteger('options.bags', opts.bags, 0, 1000);
  if (auto && perClass) ({ minSupport, scores: minSupportScores } = chooseMinSupport(y, s, n, k, objective, grid));

  const G = grid.length;
  const W = G + 1;
  // Uniform grid detection for O(1) binning.
  const g0 = grid[0];
  const step = G > 1 ? (grid[G - 1] - grid[0]) / (G - 1) : 1;
  const invStep = 1 / step;
  let uniform = G > 1;
  for (let i = 1; i < G && uniform; i++) if (Math.abs(grid[i] - (g0 + i * step)) > step * 1e-3) uniform = false;

  // pos[j*W + b] / neg[j*W + b]: known positives / negatives of label j whose score has bin b.
  const pos = new Int32Array(k * W);
  const neg = new Int32Array(k * W);
  const P = new Float64Array(k);
  // One row-major pass (blocking the labels to keep their histograms in cache measured slower:
  // the strided reads cost more than the histogram misses).
  for (let i = 0; i < n; i++) {
    const off = i * k;
    for (let j = 0; j < k; j++) {
      const t = y[off + j];
      if (t !== 0 && t !== 1) {
        if (t === -1) continue;
        throw rangeErrorMessage(`Expected targets to hold only 0, 1 or -1 (unknown) but element ${off + j} (row ${i}, label ${j}) is ${t}`);
      }
      const x = s[off + j];
      if (!(x >= g0)) {
        // below every threshold: never predicted, so only the positive count matters
        if (x !== x) throw rangeErrorMessage(`Expected scores to hold no NaN but element ${off + j} (row ${i}, label ${j}) is NaN`);
        if (t === 1) P[j]++;
        continue;
      }
      const b = gridBin(grid, x, uniform, g0, invStep);
      if (t === 1) {
        pos[j * W + b]++;
        P[j]++;
      } else neg[j * W + b]++;
    }
  }
  // Suffix sums in place: pos[j*W + t + 1] = positives of label j with score >= grid[t] (TP at t),
  // neg[j*W + t + 1] likewise for negatives (FP at t).
  for (let j = 0; j < k; j++) {
    const o = j * W;
    for (let b = G - 1; b >= 1; b--) {
      pos[o + b] += pos[o + b + 1];
      neg[o + b] += neg[o + b + 1];
    }
  }
  const tpAt = (j: number, t: number) => pos[j * W + t + 1];
  const fpAt = (j: number, t: number) => neg[j * W + t + 1];

  // Global sweep.
  const curveValues = new Float64Array(G);
  let Ptot = 0;
  for (let j = 0; j < k; j++) Ptot += P[j];
  // Label-major loops: each label's counts are contiguous.
  if (objective === 'micro-f1') {
    const T = new Float64Array(G);
    const F = new Float64Array(G);
    for (let j = 0; j < k; j++) {
      const o = j * W + 1;
      for (let t = 0; t < G; t++) {
        T[t] += pos[o + t];
        F[t] += neg[o + t];
      }
    }
    for (let t = 0; t < G; t++) curveValues[t] = f1(T[t], F[t], Ptot - T[t]);
  } else {
    for (let j = 0; j < k; j++) {
      const o = j * W + 1;
      const pj = P[j];
      for (let t = 0; t < G; t++) curveValues[t] += f1(pos[o + t], neg[o + t], pj - pos[o + t]);
    }
    for (let t = 0; t < G; t++) curveValues[t] /= k;
  }
  const gi = bestIndex(curveValues);
  const result: TuneThresholdsResult = {
    global: grid[gi],
    value: curveValues[gi],
    curve: Array.from(grid, (threshold, t) => ({ threshold, value: curveValues[t] })),
  };
  if (!perClass) return result;

  const choice = new Int32Array(k).fill(gi);
  const eligible = new Uint8Array(k);
  let tuned = 0;
  for (let j = 0; j < k; j++) if (P[j] >= Math.max(1, minSupport)) eligible[j] = 1;
  const vals = new Float64Array(G);
  if (objective === 'macro-f1') {
    for (let j = 0; j < k; j++) {
      if (!eligible[j]) continue;
      for (let t = 0; t < G; t++) vals[t] = f1(tpAt(j, t), fpAt(j, t), P[j] - tpAt(j, t));
      choice[j] = bestIndex(vals);
    }
  } else {
    // Coordinate ascent on pooled micro F1; each step can only raise it, so it terminates.
    let T = 0;
    let F = 0;
    for (let j = 0; j < k; j++) {
      T += tpAt(j, gi);
      F += fpAt(j, gi);
    }
    for (let pass = 0; pass < 20; pass++) {
      let changed = false;
      for (let j = 0; j < k; j++) {
        if (!eligible[j]) continue;
        const c = choice[j];
        const Tr = T - tpAt(j, c);
        const Fr = F - fpAt(j, c);
        for (let t = 0; t < G; t++) {
          const Tt = Tr + tpAt(j, t);
          vals[t] = f1(Tt, Fr + fpAt(j, t), Ptot - Tt);
        }
        let b = bestIndex(vals);
        if (vals[b] <= vals[c] + 1e-12) b = c; // keep the current one unless strictly better
        if (b !== c) {
          choice[j] = b;
          T = Tr + tpAt(j, b);
          F = Fr + fpAt(j, b);
          changed = true;
        }
      }
      if (!changed) break;
    }
  }
  const th = new Float32Array(k);
  let T = 0;
  let F = 0;
  let macro = 0;
  for (let j = 0; j < k; j++) {
    const c = choice[j];
    th[j] = grid[c];
    if (eligible[j]) tuned++;
    T += tpAt(j, c);
    F += fpAt(j, c);
    macro += f1(tpAt(j, c), fpAt(j, c), P[j] - tpAt(j, c));
  }
  result.perClass = th;
  result.perClassValue = objective === 'micro-f1' ? f1(T, F, Ptot - T) : macro / k;
  result.tunedLabels = tuned;
  result.minSupport = minSupport;
  if (minSupportScores) result.minSupportScores = minSupportScores;
  if (bags > 0 && n > 0) {
    const mean = baggedThresholds(y, s, n, k, { objective, grid, minSupport, bags });
    let bagged = 0;
    for (let j = 0; j < k; j++) if (eligible[j] && P[j] >= BAG_MIN_POSITIVES) (th[j] = mean[j]), bagged++;
    result.perClassValue = f1At(y, s, n, k, th, objective);
    result.bags = bags;
    result.baggedLabels = bagged;
  }
  return result;
}

/**
 * Known positives a label needs for its threshold to be the bags' mean: a bootstrap resample leaves out
 * about a third of the rows, which moves a threshold placed on a few dozen positives by more than it
 * steadies it (measured on GoEmotions and the many-label sets, bench/README.md).
 */
export const BAG_MIN_POSITIVES = 50;

/**
 * The mean of the per-label thresholds tuned on `bags` bootstrap resamples of the n rows (drawn with
 * replacement, fixed seed), each with the same objective, grid and minSupport.
 */
function baggedThresholds(y: TargetArray, s: ScoreArray, n: number, k: number, o: { objective: ThresholdObjective; grid: Float32Array; minSupport: number; bags: number }): Float32Array {
  const rand = mulberry32(0x2545f491);
  const sum = new Float64Array(k);
  const yy = new Int8Array(n * k), ss = new Float32Array(n * k);
  for (let b = 0; b < o.bags; b++) {
    for (let i = 0; i < n; i++) {
      const r = Math.floor(rand() * n);
      for (let j = 0; j < k; j++) {
        yy[i * k + j] = y[r * k + j];
        ss[i * k + j] = s[r * k + j];
      }
    }
    const t = tuneThresholds(yy, ss, { shape: [n, k], objective: o.objective, perClass: true, grid: o.grid, minSupport: o.minSupport });
    for (let j = 0; j < k; j++) sum[j] += t.perClass![j];
  }
  return Float32Array.from(sum, (v) => v / o.bags);
}

/** minSupport values 'auto' tries, in order of preference (a tie keeps the earlier one). */
export const MIN_SUPPORT_CANDIDATES = [5, 10, 3, 20, 1, 40] as const;

/**
 * minSupport by cross-validation: the rows are shuffled (fixed seed) and halved twice; on each half the
 * per-label thresholds are tuned with each candidate (halved, as a half holds half the positives) and
 * scored by the objective on the other half. The candidate with the highest mean held-out value wins.
 * Where labels have a few noisy positives each, their own thresholds fit the noise and the global one
 * generalises better (a higher minSupport); where a few clean positives place a threshold well, a lower one.
 */
function chooseMinSupport(y: TargetArray, s: ScoreArray, n: number, k: number, objective: ThresholdObjective, grid: Float32Array) {
  const sums = new Float64Array(MIN_SUPPORT_CANDIDATES.length);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(0x7f4a7c15);
  const half = n >> 1;
  if (half === 0) return { minSupport: MIN_SUPPORT_CANDIDATES[0], scores: [] };
  for (let rep = 0; rep < 2; rep++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    const parts = [order.subarray(0, half), order.subarray(half)].map((rows) => {
      const yy = new Int8Array(rows.length * k);
      const ss = new Float32Array(rows.length * k);
      rows.forEach((r, i) => {
        for (let j = 0; j < k; j++) {
          yy[i * k + j] = y[r * k + j];
          ss[i * k + j] = s[r * k + j];
        }
      });
      return { rows: rows.length, yy, ss };
    });
    for (const [fit, held] of [[parts[0], parts[1]], [parts[1], parts[0]]]) {
      MIN_SUPPORT_CANDIDATES.forEach((c, ci) => {
        const t = tuneThresholds(fit.yy, fit.ss, { shape: [fit.rows, k], objective, perClass: true, grid, minSupport: Math.ceil(c / 2) });
        sums[ci] += f1At(held.yy, held.ss, held.rows, k, t.perClass!, objective);
      });
    }
  }
  let best = 0;
  for (let ci = 1; ci < sums.length; ci++) if (sums[ci] > sums[best] + 1e-12) best = ci;
  return { minSupport: MIN_SUPPORT_CANDIDATES[best] as number, scores: MIN_SUPPORT_CANDIDATES.map((c, ci) => ({ minSupport: c as number, value: sums[ci] / 4 })) };
}

/** Micro- or macro-F1 of score >= threshold[label] over the known elements (targets -1 left out). */
function f1At(y: TargetArray, s: ScoreArray, n: number, k: number, th: Float32Array, objective: ThresholdObjective): number {
  const tp = new Float64Array(k), fp = new Float64Array(k), fn = new Float64Array(k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      const t = y[i * k + j];
      if (t === -1) continue;
      const p = s[i * k + j] >= th[j];
      if (p && t === 1) tp[j]++;
      else if (p) fp[j]++;
      else if (t === 1) fn[j]++;
    }
  if (objective === 'macro-f1') {
    let m = 0;
    for (let j = 0; j < k; j++) m += f1(tp[j], fp[j], fn[j]);
    return m / k;
  }
  let T = 0, F = 0, N = 0;
  for (let j = 0; j < k; j++) (T += tp[j]), (F += fp[j]), (N += fn[j]);
  return f1(T, F, N);
}
