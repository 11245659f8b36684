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
 * (Over 400 lines: every figure comes out of one fused pass over the targets and one over the scores,
 * `scan`; split by figure, each would need its own pass.)
 */
import { checkOptions, rejectUnknownKeys, typeError, rangeErrorMessage, checkNumber } from './errors.js';
import {
  checkShape,
  checkTargets,
  checkScores,
  checkThreshold,
  bitsKey,
  type TargetArray,
  type ScoreArray,
} from './matrix.js';

export interface PRF {
  precision: number;
  recall: number;
  f1: number;
}

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

function div(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

export function prf(tp: number, fp: number, fn: number): PRF {
  return { precision: div(tp, tp + fp), recall: div(tp, tp + fn), f1: div(2 * tp, 2 * tp + fp + fn) };
}

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

/** Value at quantile q of sorted values (lower interpolation, deterministic). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Infinity;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
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

function labelGroups(
  trainCounts: Float64Array,
  tp: Float64Array,
  fp: Float64Array,
  fn: Float64Array,
  perLabel: LabelReport[],
  g: GroupBoundaries,
): NonNullable<EvaluateResult['groups']> {
  const k = trainCounts.length;
  const zeroBelow = g.zeroBelow ?? 5;
  const rest = Array.from(trainCounts)
    .filter((c) => c >= zeroBelow)
    .sort((a, b) => a - b);
  const tailBelow = g.tailBelow ?? Math.max(zeroBelow, quantile(rest, 1 / 3));
  const mediumBelow = g.mediumBelow ?? Math.max(tailBelow, quantile(rest, 2 / 3));
  if (!(zeroBelow <= tailBelow && tailBelow <= mediumBelow))
    throw rangeErrorMessage(
      `Expected options.groups boundaries zeroBelow <= tailBelow <= mediumBelow but received ${zeroBelow}, ${tailBelow}, ${mediumBelow}`,
    );
  const members: number[][] = [[], [], [], []]; // head, medium, tail, zero
  for (let j = 0; j < k; j++) {
    const c = trainCounts[j];
    members[c < zeroBelow ? 3 : c < tailBelow ? 2 : c < mediumBelow ? 1 : 0].push(j);
  }
  const report = (idx: number[]): GroupReport => {
    let T = 0;
    let F = 0;
    let N = 0;
    let p = 0;
    let r = 0;
    let f = 0;
    let sup = 0;
    let tc = 0;
    for (const j of idx) {
      T += tp[j];
      F += fp[j];
      N += fn[j];
      p += perLabel[j].precision;
      r += perLabel[j].recall;
      f += perLabel[j].f1;
      sup += perLabel[j].support;
      tc += trainCounts[j];
    }
    const m = idx.length;
    return {
      labels: idx.map((j) => perLabel[j].label),
      meanSupport: div(sup, m),
      meanTrainCount: div(tc, m),
      micro: prf(T, F, N),
      macro: { precision: div(p, m), recall: div(r, m), f1: div(f, m) },
    };
  };
  return {
    head: report(members[0]),
    medium: report(members[1]),
    tail: report(members[2]),
    zero: report(members[3]),
    boundaries: { zeroBelow, tailBelow, mediumBelow },
  };
}

/**
 * First index in sorted a[from..to) whose value is >= x. The loop's trip count depends only on the
 * length and the step is a conditional move, so random data costs no branch mispredictions.
 */
function lowerBound(a: Float32Array, from: number, to: number, x: number): number {
  let base = from;
  let len = to - from;
  if (len === 0) return from;
  while (len > 1) {
    const half = len >>> 1;
    base = a[base + half - 1] < x ? base + half : base;
    len -= half;
  }
  return a[base] < x ? base + 1 : base;
}

interface ScanResult {
  tp: Float64Array;
  fp: Float64Array;
  fn: Float64Array;
  known: Float64Array;
  knownElements: number;
  mismatches: number;
  rowsKnown: number;
  exactRows: number;
  sp: number;
  sr: number;
  sf: number;
  lrapSum: number;
  coverageSum: number;
  auc: Float64Array;
  aucMicro: number;
}

function nanError(k: number, f: number): Error {
  return rangeErrorMessage(`Expected scores to hold no NaN but element ${f} (row ${Math.floor(f / k)}, label ${f % k}) is NaN`);
}

/**
 * Every figure in one pass over the scores, after one pass over the targets alone.
 *
 * The targets pass collects the known positives (row-major flat indices). Their scores are then
 * sorted per label and pooled, so that the main pass gets ROC AUC without sorting the matrix: each
 * known negative adds 2·#{positives above it} + #{positives equal to it} (twice the Mann–Whitney
 * count, ties as 1/2: scikit-learn's trapezoidal AUC); negatives below every positive (the common
 * case) are accounted for from the totals. The ranking figures use the row's sorted positive
 * scores: rank(j) = #{known k: s_k >= s_j} (ties take the max rank) comes from a histogram of
 * where each known score falls among them, L(j) = #{positive k: s_k >= s_j} from their order.
 * Scores are float32 values (-0 equals +0).
 */
function scan(y: TargetArray, s: Float32Array, thr: Float32Array, n: number, k: number): ScanResult {
  // ---- pass over the targets: values checked, positives, unknowns per label ------------------
  const rowStart = new Int32Array(n + 1);
  const unknown = new Float64Array(k);
  const labStart = new Int32Array(k + 1);
  let posFlat = new Int32Array(Math.max(16, n));
  let P = 0;
  for (let i = 0; i < n; i++) {
    const off = i * k;
    for (let j = 0; j < k; j++) {
      const t = y[off + j];
      if (t === 1) {
        if (P === posFlat.length) {
          const bigger = new Int32Array(P * 2);
          bigger.set(posFlat);
          posFlat = bigger;
        }
        posFlat[P++] = off + j;
        labStart[j + 1]++;
      } else if (t !== 0) {
        if (t !== -1)
          throw rangeErrorMessage(`Expected targets to hold only 0, 1 or -1 (unknown) but element ${off + j} (row ${i}, label ${j}) is ${t}`);
        unknown[j]++;
      }
    }
    rowStart[i + 1] = P;
  }
  for (let j = 0; j < k; j++) labStart[j + 1] += labStart[j];
  const known = new Float64Array(k);
  for (let j = 0; j < k; j++) known[j] = n - unknown[j];

  // Positive scores by label (sorted) and pooled (sorted, with a table over the top 20 bits of the
  // sortable key narrowing each search to a handful of entries).
  const pos = new Float32Array(P);
  {
    const fillAt = labStart.slice(0, k);
    for (let p = 0; p < P; p++) {
      const f = posFlat[p];
      const v = s[f];
      if (v !== v) throw nanError(k, f);
      pos[fillAt[f % k]++] = v;
    }
  }
  const minPos = new Float32Array(k).fill(Infinity);
  for (let j = 0; j < k; j++) {
    if (labStart[j + 1] > labStart[j]) {
      pos.subarray(labStart[j], labStart[j + 1]).sort();
      minPos[j] = pos[labStart[j]];
    }
  }
  const all = pos.slice().sort();
  const allBits = new Uint32Array(all.buffer);
  const TB = 1 << 20;
  const table = new Int32Array(TB + 1);
  for (let p = 0; p < P; p++) table[(bitsKey(allBits[p]) >>> 12) + 1]++;
  for (let h = 0; h < TB; h++) table[h + 1] += table[h];
  const allMin = P ? all[0] : Infinity;
  const bits = new Uint32Array(s.buffer, s.byteOffset, s.length);

  // ---- the main pass ---------------------------------------------------------------------------
  const tp = new Float64Array(k);
  const fp = new Float64Array(k);
  const num2 = new Float64Array(k);
  const slow = new Int32Array(k);
  let micro2 = 0;
  let slowMicro = 0;
  let knownElements = 0;
  let mismatches = 0;
  let rowsKnown = 0;
  let exactRows = 0;
  let sp = 0;
  let sr = 0;
  let sf = 0;
  let lrapSum = 0;
  let coverageSum = 0;
  let ps = new Float64Array(16);
  let hist = new Float64Array(17);
  let ranks = new Float64Array(16);

  for (let i = 0; i < n; i++) {
    const off = i * k;
    const npos = rowStart[i + 1] - rowStart[i];
    if (ps.length < npos) {
      ps = new Float64Array(npos * 2);
      hist = new Float64Array(npos * 2 + 1);
      ranks = new Float64Array(npos * 2);
    }
    for (let p = 0; p < npos; p++) ps[p] = s[posFlat[rowStart[i] + p]];
    if (npos > 1) ps.subarray(0, npos).sort();
    hist.fill(0, 0, npos + 1);
    const rowMin = npos > 0 ? ps[0] : Infinity;
    let rtp = 0;
    let rfp = 0;
    let rknown = 0;
    for (let j = 0; j < k; j++) {
      const t = y[off + j];
      if (t < 0) continue;
      rknown++;
      const x = s[off + j];
      if (x >= thr[j]) {
        if (t === 1) {
          tp[j]++;
          rtp++;
        } else {
          fp[j]++;
          rfp++;
        }
      } else if (x !== x) throw nanError(k, off + j);
      // LRAP / coverage: where x falls among the row's positives (below all of them: no effect).
      if (x >= rowMin) {
        let lo = 0;
        let hi = npos;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (ps[mid] <= x) lo = mid + 1;
          else hi = mid;
        }
        hist[lo]++;
      }
      // ROC AUC, negatives only; those below every positive are counted from the totals below.
      if (t === 1 || !(x >= allMin)) continue;
      slowMicro++;
      {
        const h = bitsKey(bits[off + j]) >>> 12;
        const end = table[h + 1];
        const lo = lowerBound(all, table[h], end, x);
        let up = lo;
        let hi: number;
        if (up < end && all[up] === x) {
          // ties (rare with continuous scores): find the end of the run
          hi = end;
          while (up < hi) {
            const mid = (up + hi) >> 1;
            if (all[mid] <= x) up = mid + 1;
            else hi = mid;
          }
        }
        micro2 += 2 * (P - up) + (up - lo);
      }
      if (x < minPos[j]) continue;
      slow[j]++;
      const end = labStart[j + 1];
      const lo = lowerBound(pos, labStart[j], end, x);
      let up = lo;
      let hi: number;
      if (up < end && pos[up] === x) {
        hi = end;
        while (up < hi) {
          const mid = (up + hi) >> 1;
          if (pos[mid] <= x) up = mid + 1;
          else hi = mid;
        }
      }
      num2[j] += 2 * (end - up) + (up - lo);
    }
    knownElements += rknown;
    if (rknown === 0) continue;
    rowsKnown++;
    const rfn = npos - rtp;
    mismatches += rfp + rfn;
    if (rfp + rfn === 0) exactRows++;
    sp += div(rtp, rtp + rfp);
    sr += div(rtp, npos);
    sf += div(2 * rtp, 2 * rtp + rfp + rfn);
    if (npos === 0) {
      lrapSum += 1; // scikit-learn: rows without relevant labels score 1; their coverage is 0
      continue;
    }
    // rank of positive p (sorted ascending) = #{k : u_k > p} = sum of hist[p+1..npos]
    let suffix = 0;
    for (let p = npos - 1; p >= 0; p--) {
      suffix += hist[p + 1];
      ranks[p] = suffix;
    }
    coverageSum += ranks[0];
    if (npos === rknown) lrapSum += 1;
    else {
      let lrapRow = 0;
      let first = 0;
      for (let p = 0; p < npos; p++) {
        // L = positives with score >= ps[p] = npos - (first index holding the value ps[p])
        if (p > 0 && ps[p] !== ps[p - 1]) first = p;
        lrapRow += (npos - first) / ranks[p];
      }
      lrapSum += lrapRow / npos;
    }
  }

  const fn = new Float64Array(k);
  const auc = new Float64Array(k);
  let negTotal = 0;
  for (let j = 0; j < k; j++) {
    const pj = labStart[j + 1] - labStart[j];
    fn[j] = pj - tp[j];
    const nj = known[j] - pj;
    negTotal += nj;
    num2[j] += 2 * pj * (nj - slow[j]);
    auc[j] = pj === 0 || nj === 0 ? NaN : num2[j] / 2 / pj / nj;
  }
  micro2 += 2 * P * (negTotal - slowMicro);
  const aucMicro = P === 0 || negTotal === 0 ? NaN : micro2 / 2 / P / negTotal;
  return { tp, fp, fn, known, knownElements, mismatches, rowsKnown, exactRows, sp, sr, sf, lrapSum, coverageSum, auc, aucMicro };
}
