/** Precision, recall and F1 from counts, with scikit-learn's zero_division = 0. */

export interface PRF {
  precision: number;
  recall: number;
  f1: number;
}

/** a / b, 0 when b is 0. */
export function div(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

export function prf(tp: number, fp: number, fn: number): PRF {
  return { precision: div(tp, tp + fp), recall: div(tp, tp + fn), f1: div(2 * tp, 2 * tp + fp + fn) };
}
