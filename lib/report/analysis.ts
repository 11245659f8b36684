/**
 * What the training report's figures need beyond evaluate()'s metrics, computed where the scores are
 * (Classifier.evaluate) and saved with the evaluation in report.json, so that `report --model DIR`
 * redraws every figure without the model: micro/macro precision, recall and F1 against one global
 * threshold, and a sample of misclassified texts with their scores. Unknown targets (-1) are left out.
 */
import { prf, type PRF } from '../prf.js';

export interface SweepPoint {
  threshold: number;
  micro: PRF;
  macro: PRF;
}

export interface ScoredLabel {
  label: string;
  score: number;
  threshold: number;
}

export interface Misclassified {
  /** the text (cut to MAX_TEXT characters) */
  text: string;
  /** predicted (score >= threshold) but not a label of the row */
  falsePositives: ScoredLabel[];
  /** a label of the row that was not predicted */
  falseNegatives: ScoredLabel[];
}

/** Thresholds of the sweep: 0.025, 0.05, ..., 0.975. */
export const SWEEP_STEPS = 40;
const MAX_TEXT = 400;

/**
 * Micro and macro P/R/F1 (zero_division 0) at every threshold i / SWEEP_STEPS, 0 < i < SWEEP_STEPS, in one
 * pass over the scores: each known target falls in the bucket of the highest grid threshold it reaches.
 */
export function thresholdSweep(targets: Int8Array, probs: Float32Array, k: number): SweepPoint[] {
  const S = SWEEP_STEPS;
  // pos[j * (S + 1) + b]: positives of label j whose score reaches exactly b grid thresholds; neg likewise
  const pos = new Float64Array(k * (S + 1));
  const neg = new Float64Array(k * (S + 1));
  for (let e = 0; e < targets.length; e++) {
    const t = targets[e];
    if (t < 0) continue;
    const b = Math.min(S, Math.max(0, Math.floor(probs[e] * S)));
    (t > 0 ? pos : neg)[(e % k) * (S + 1) + b]++;
  }
  const out: SweepPoint[] = [];
  for (let i = 1; i < S; i++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const sum = { precision: 0, recall: 0, f1: 0 };
    for (let j = 0; j < k; j++) {
      let ltp = 0;
      let lfp = 0;
      let lfn = 0;
      for (let b = 0; b <= S; b++) {
        if (b >= i) {
          ltp += pos[j * (S + 1) + b];
          lfp += neg[j * (S + 1) + b];
        } else lfn += pos[j * (S + 1) + b];
      }
      const l = prf(ltp, lfp, lfn);
      sum.precision += l.precision;
      sum.recall += l.recall;
      sum.f1 += l.f1;
      tp += ltp;
      fp += lfp;
      fn += lfn;
    }
    const macro = k === 0 ? sum : { precision: sum.precision / k, recall: sum.recall / k, f1: sum.f1 / k };
    out.push({ threshold: i / S, micro: prf(tp, fp, fn), macro });
  }
  return out;
}

/**
 * Up to `limit` rows with a false positive or a false negative at `thresholds`, the most confident
 * mistakes first (largest distance of a wrong score from its threshold), in a stable order.
 */
export function misclassifiedSample(
  texts: readonly string[],
  targets: Int8Array,
  probs: Float32Array,
  labels: readonly string[],
  thresholds: Float32Array,
  limit = 20,
): Misclassified[] {
  const k = labels.length;
  const found: { row: number; worst: number; item: Misclassified }[] = [];
  for (let i = 0; i < texts.length; i++) {
    const fps: ScoredLabel[] = [];
    const fns: ScoredLabel[] = [];
    let worst = 0;
    for (let j = 0; j < k; j++) {
      const t = targets[i * k + j];
      if (t < 0) continue;
      const s = probs[i * k + j];
      const predicted = s >= thresholds[j];
      if (predicted === t > 0) continue;
      const item = { label: labels[j], score: s, threshold: thresholds[j] };
      (predicted ? fps : fns).push(item);
      worst = Math.max(worst, Math.abs(s - thresholds[j]));
    }
    if (fps.length + fns.length === 0) continue;
    const byScore = (a: ScoredLabel, b: ScoredLabel) => b.score - a.score;
    const text = texts[i].length > MAX_TEXT ? texts[i].slice(0, MAX_TEXT) + '…' : texts[i];
    found.push({ row: i, worst, item: { text, falsePositives: fps.sort(byScore), falseNegatives: fns.sort(byScore) } });
  }
  found.sort((a, b) => b.worst - a.worst || a.row - b.row);
  return found.slice(0, limit).map((f) => f.item);
}
