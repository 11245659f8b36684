/**
 * The counts behind every multi-label figure of metrics.ts, in one pass over the targets and one over the
 * scores (see `scan`). Unknown targets (-1) are skipped per element and left out of the row figures.
 */
import { rangeErrorMessage } from './errors.js';
import { bitsKey, lowerBound, upperBound, type TargetArray } from './matrix.js';
import { div } from './prf.js';

export interface ScanResult {
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
export function scan(y: TargetArray, s: Float32Array, thr: Float32Array, n: number, k: number): ScanResult {
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
      if (x >= rowMin) hist[upperBound(ps, 0, npos, x)]++;
      // ROC AUC, negatives only; those below every positive are counted from the totals below.
      if (t === 1 || !(x >= allMin)) continue;
      slowMicro++;
      {
        const h = bitsKey(bits[off + j]) >>> 12;
        const end = table[h + 1];
        const lo = lowerBound(all, table[h], end, x);
        // ties (rare with continuous scores): find the end of the run
        const up = lo < end && all[lo] === x ? upperBound(all, lo, end, x) : lo;
        micro2 += 2 * (P - up) + (up - lo);
      }
      if (x < minPos[j]) continue;
      slow[j]++;
      const end = labStart[j + 1];
      const lo = lowerBound(pos, labStart[j], end, x);
      const up = lo < end && pos[lo] === x ? upperBound(pos, lo, end, x) : lo;
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
