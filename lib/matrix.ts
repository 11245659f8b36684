/**
 * Internal helpers shared by metrics and thresholds: argument checks for row-major N×K target and
 * score matrices, sortable integer keys of float32 scores and binary searches in sorted arrays.
 */
import { checkInteger, typeError, rangeError, rangeErrorMessage, describe } from './errors.js';

export type TargetArray = Int8Array | Uint8Array | Float32Array;
export type ScoreArray = Float32Array | Float64Array;

export function checkShape(name: string, shape: unknown): [number, number] {
  if (!Array.isArray(shape) || shape.length !== 2) throw typeError(name, 'an array [N, K] of two integers', shape);
  const n = checkInteger(`${name}[0]`, shape[0], 0);
  const k = checkInteger(`${name}[1]`, shape[1], 1);
  return [n, k];
}

/** Targets: Int8Array (1, 0, -1 = unknown), Uint8Array (1, 0) or Float32Array (1, 0, -1), length N*K. */
/** With scanValues false the caller checks the values (0, 1, -1) in its own pass. */
export function checkTargets(name: string, targets: unknown, n: number, k: number, scanValues = true): TargetArray {
  if (!(targets instanceof Int8Array || targets instanceof Uint8Array || targets instanceof Float32Array))
    throw typeError(name, 'an Int8Array, Uint8Array or Float32Array of 0/1 (-1 = unknown)', targets);
  if (targets.length !== n * k)
    throw rangeErrorMessage(`Expected ${name} of length N*K = ${n}*${k} = ${n * k} (shape [${n}, ${k}]) but received ${describe(targets)}`);
  if (!scanValues) return targets;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    if (t !== 0 && t !== 1 && t !== -1)
      throw rangeErrorMessage(`Expected ${name} to hold only 0, 1 or -1 (unknown) but element ${i} (row ${Math.floor(i / k)}, label ${i % k}) is ${t}`);
  }
  return targets;
}

/** With scanNaN false the caller checks the scores it reads (unknown targets' scores are never read). */
export function checkScores(name: string, scores: unknown, n: number, k: number, scanNaN = true): ScoreArray {
  if (!(scores instanceof Float32Array || scores instanceof Float64Array))
    throw typeError(name, 'a Float32Array of scores (probabilities)', scores);
  if (scores.length !== n * k)
    throw rangeErrorMessage(`Expected ${name} of length N*K = ${n}*${k} = ${n * k} (shape [${n}, ${k}]) but received ${describe(scores)}`);
  if (!scanNaN) return scores;
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i]))
      throw rangeErrorMessage(`Expected ${name} to hold no NaN but element ${i} (row ${Math.floor(i / k)}, label ${i % k}) is NaN`);
  }
  return scores;
}

/** A number or a Float32Array of K thresholds, returned as a Float32Array of K (float32 so comparisons match tuning). */
export function checkThreshold(name: string, threshold: unknown, k: number): Float32Array {
  if (typeof threshold === 'number') {
    if (!Number.isFinite(threshold)) throw rangeError(name, 'a finite number or a Float32Array of K thresholds', threshold);
    return new Float32Array(k).fill(threshold);
  }
  if (threshold instanceof Float32Array || threshold instanceof Float64Array) {
    if (threshold.length !== k) throw rangeError(name, `a Float32Array of K = ${k} thresholds`, threshold);
    for (let j = 0; j < k; j++)
      if (Number.isNaN(threshold[j])) throw rangeErrorMessage(`Expected ${name} to hold no NaN but element ${j} is NaN`);
    return Float32Array.from(threshold);
  }
  throw typeError(name, `a number or a Float32Array of K = ${k} thresholds`, threshold);
}

// ---- float32 keys ----------------------------------------------------------------------------

/**
 * Maps the raw bits of a float32 to a uint32 whose unsigned order is the numeric order (-0 maps
 * to the key of +0; ±Infinity sort at the ends). NaN must be rejected beforehand.
 */
export function bitsKey(b: number): number {
  if (b === 0x80000000) return 0x80000000; // -0 sorts with +0
  return (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
}

/**
 * First index in sorted a[from..to) whose value is >= x. The loop's trip count depends only on the
 * length and the step is a conditional move, so random data costs no branch mispredictions.
 */
export function lowerBound(a: Float32Array, from: number, to: number, x: number): number {
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

/** First index in sorted a[from..to) whose value is > x. */
export function upperBound(a: Float32Array | Float64Array, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
