/**
 * Multi-label evaluation with scikit-learn's definitions and zero_division = 0: micro / macro /
 * weighted / samples precision, recall and F1, Hamming loss, subset accuracy, ROC AUC (micro and
 * macro, labels with one class skipped and counted), label ranking average precision, coverage
 * error, per-label figures and the HEAD / MEDIUM / TAIL / ZERO label groups of seed article 002.
 *
 * Unknown targets (-1, partial annotation) are left out:
 *  - per-element figures (TP/FP/FN per label, so micro, macro, weighted and per-label P/R/F1;
 *    Hamming loss, whose denominator is the number of known elements; ROC AUC) skip the element;
 *  - per-row figures (samples P/R/F1, subset accuracy, LRAP, coverage error) use only the row's
 *    known labels, and rows with no known label at all are left out of their means.
 * A label is predicted when score >= threshold.
 * This file validates the options and averages; the counts come from one fused pass over the targets and
 * one over the scores (metrics_scan.ts), the HEAD / MEDIUM / TAIL / ZERO groups from label_groups.ts.
 */
import { checkOptions, rejectUnknownKeys, typeError, rangeErrorMessage, checkNumber } from './errors.js';
import { checkShape, checkTargets, checkScores, checkThreshold, type TargetArray, type ScoreArray } from './matrix.js';
import { div, prf, type PRF } from './prf.js';
import { scan } from './metrics_scan.js';
import { labelGroups } from './label_groups.js';

export type { PRF };

export interface LabelReport extends PRF {
  /** The label's name (from labelSet) or its index as a string. */
  label: string;
  index: number;
  /** Known positives of this label in the evaluated set (TP + FN). */
  support: number;
  /** Per-label ROC AUC; null when the label has only one class among its known targets. */
  rocAuc: number | null;
  trainCount?: number;
}

export interface GroupReport {
  /** Labels (names, or indices as strings) in the group. */
  labels: string[];
  /** Mean support (known positives in the evaluated set) of the group's labels; 0 for an empty group. */
  meanSupport: number;
  /** Mean training count of the group's labels. */
  meanTrainCount: number;
  micro: PRF;
  macro: PRF;
}

export interface GroupBoundaries {
  /** Labels with trainCount < zeroBelow are ZERO (default 5). */
  zeroBelow?: number;
  /** Labels with zeroBelow <= trainCount < tailBelow are TAIL (default: the 1/3 quantile of the other labels' counts). */
  tailBelow?: number;
  /** Labels with tailBelow <= trainCount < mediumBelow are MEDIUM, the rest HEAD (default: the 2/3 quantile). */
  mediumBelow?: number;
}

export interface EvaluateOptions {
  shape: [number, number];
  threshold?: number | Float32Array;
  labelSet?: readonly string[];
  /** Positives per label in the training set (labelCounts on the training rows); enables `groups`. */
  trainCounts?: ArrayLike<number>;
  groups?: GroupBoundaries;
}

export interface EvaluateResult {
  micro: PRF;
  macro: PRF;
  weighted: PRF;
  samples: PRF;
  hammingLoss: number;
  subsetAccuracy: number;
  rocAuc: { micro: number; macro: number; skippedLabels: number };
  labelRankingAveragePrecision: number;
  coverageError: number;
  /** Labels whose F1 is > 0 (seed article 002's "number of predicted labels"). */
  labelsWithPositiveF1: number;
  perLabel: LabelReport[];
  groups?: { head: GroupReport; medium: GroupReport; tail: GroupReport; zero: GroupReport; boundaries: Required<GroupBoundaries> };
  /** Rows and known target elements that entered the figures. */
  counts: { rows: number; rowsWithKnownLabels: number; knownElements: number; unknownElements: number };
}

const EVAL_KEYS = ['shape', 'threshold', 'labelSet', 'trainCounts', 'groups'] as const;
const GROUP_KEYS = ['zeroBelow', 'tailBelow', 'mediumBelow'] as const;

function checkLabelSet(labelSet: unknown, k: number): readonly string[] | undefined {
  if (labelSet === undefined) return undefined;
  if (!Array.isArray(labelSet) || labelSet.some((s) => typeof s !== 'string'))
    throw typeError('options.labelSet', `an array of K = ${k} label names`, labelSet);
  if (labelSet.length !== k)
    throw rangeErrorMessage(`Expected options.labelSet to have K = ${k} names (shape[1]) but it has ${labelSet.length}`);
  return labelSet;
}

export function checkTrainCounts(name: string, counts: unknown, k: number): Float64Array | undefined {
  if (counts === undefined) return undefined;
  if (!(ArrayBuffer.isView(counts) || Array.isArray(counts)) || (counts as { length: number }).length === undefined)
    throw typeError(name, `an array or typed array of K = ${k} counts`, counts);
  const arr = counts as ArrayLike<number>;
  if (arr.length !== k) throw rangeErrorMessage(`Expected ${name} to have K = ${k} counts but it has ${arr.length}`);
  const out = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const v = arr[j];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw rangeErrorMessage(`Expected ${name}[${j}] to be a finite count >= 0 but received ${String(v)}`);
    out[j] = v;
  }
  return out;
}

export function evaluate(targets: TargetArray, scores: ScoreArray, options: EvaluateOptions): EvaluateResult {
  const opts = checkOptions('evaluate options', options);
  rejectUnknownKeys('evaluate options', opts, EVAL_KEYS);
  if (opts.shape === undefined) throw typeError('options.shape', 'an array [N, K] of two integers', undefined);
  const [n, k] = checkShape('options.shape', opts.shape);
  if (n * k > 2 ** 31 - 1) throw rangeErrorMessage(`evaluate handles at most 2^31 - 1 elements; shape [${n}, ${k}] has ${n * k}`);
  const y = checkTargets('targets', targets, n, k, false);
  // Scores are compared as float32 (Float64Array input is rounded once), so ties are float32 ties.
  const s32 = checkScores('scores', scores, n, k, false);
  const s = s32 instanceof Float32Array ? s32 : Float32Array.from(s32);
  const thr = checkThreshold('options.threshold', opts.threshold ?? 0.5, k);
  const labelSet = checkLabelSet(opts.labelSet, k);
  const trainCounts = checkTrainCounts('options.trainCounts', opts.trainCounts, k);
  let groupOpts: GroupBoundaries | undefined;
  if (opts.groups !== undefined) {
    const g = checkOptions('options.groups', opts.groups);
    rejectUnknownKeys('options.groups', g, GROUP_KEYS);
    for (const key of GROUP_KEYS) if (g[key] !== undefined) checkNumber(`options.groups.${key}`, g[key], 0);
    if (!trainCounts) throw typeError('options.trainCounts', 'training counts per label (needed by options.groups)', undefined);
    groupOpts = g as GroupBoundaries;
  }

  const c = scan(y, s, thr, n, k);
  const { tp, fp, fn } = c;
  // Per-label and averaged P/R/F1.
  let TP = 0;
  let FP = 0;
  let FN = 0;
  let mp = 0;
  let mr = 0;
  let mf = 0;
  let wp = 0;
  let wr = 0;
  let wf = 0;
  let supportSum = 0;
  let positiveF1 = 0;
  const perLabel: LabelReport[] = new Array(k);
  const aucs = c.auc;
  let aucSum = 0;
  let aucCount = 0;
  for (let j = 0; j < k; j++) {
    TP += tp[j];
    FP += fp[j];
    FN += fn[j];
    const r = prf(tp[j], fp[j], fn[j]);
    const support = tp[j] + fn[j];
    mp += r.precision;
    mr += r.recall;
    mf += r.f1;
    wp += r.precision * support;
    wr += r.recall * support;
    wf += r.f1 * support;
    supportSum += support;
    if (r.f1 > 0) positiveF1++;
    const auc = aucs[j];
    if (!Number.isNaN(auc)) {
      aucSum += auc;
      aucCount++;
    }
    const entry: LabelReport = {
      label: labelSet ? labelSet[j] : String(j),
      index: j,
      ...r,
      support,
      rocAuc: Number.isNaN(auc) ? null : auc,
    };
    if (trainCounts) entry.trainCount = trainCounts[j];
    perLabel[j] = entry;
  }

  const result: EvaluateResult = {
    micro: prf(TP, FP, FN),
    macro: { precision: mp / k, recall: mr / k, f1: mf / k },
    weighted: { precision: div(wp, supportSum), recall: div(wr, supportSum), f1: div(wf, supportSum) },
    samples: { precision: div(c.sp, c.rowsKnown), recall: div(c.sr, c.rowsKnown), f1: div(c.sf, c.rowsKnown) },
    hammingLoss: div(c.mismatches, c.knownElements),
    subsetAccuracy: div(c.exactRows, c.rowsKnown),
    rocAuc: { micro: c.aucMicro, macro: aucCount ? aucSum / aucCount : NaN, skippedLabels: k - aucCount },
    labelRankingAveragePrecision: div(c.lrapSum, c.rowsKnown),
    coverageError: div(c.coverageSum, c.rowsKnown),
    labelsWithPositiveF1: positiveF1,
    perLabel,
    counts: { rows: n, rowsWithKnownLabels: c.rowsKnown, knownElements: c.knownElements, unknownElements: n * k - c.knownElements },
  };
  if (trainCounts) result.groups = labelGroups(trainCounts, tp, fp, fn, perLabel, groupOpts ?? {});
  return result;
}
