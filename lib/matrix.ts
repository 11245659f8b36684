/**
 * Internal helpers shared by metrics, thresholds and targets: argument checks for row-major N×K
 * target/score matrices, and a radix sort of float32 scores by their bit pattern (native
 * TypedArray.sort is too slow for 1,500 columns of 10,000 rows; see bench/README.md).
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
export function checkTargets(name: string, targets: unknown, n: number, k: number): TargetArray {
  if (!(targets instanceof Int8Array || targets instanceof Uint8Array || targets instanceof Float32Array))
    throw typeError(name, 'an Int8Array, Uint8Array or Float32Array of 0/1 (-1 = unknown)', targets);
  if (targets.length !== n * k)
    throw rangeErrorMessage(`Expected ${name} of length N*K = ${n}*${k} = ${n * k} (shape [${n}, ${k}]) but received ${describe(targets)}`);
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    if (t !== 0 && t !== 1 && t !== -1)
      throw rangeErrorMessage(`Expected ${name} to hold only 0, 1 or -1 (unknown) but element ${i} (row ${Math.floor(i / k)}, label ${i % k}) is ${t}`);
  }
  return targets;
}

export function checkScores(name: string, scores: unknown, n: number, k: number): ScoreArray {
  if (!(scores instanceof Float32Array || scores instanceof Float64Array))
    throw typeError(name, 'a Float32Array of scores (probabilities)', scores);
  if (scores.length !== n * k)
    throw rangeErrorMessage(`Expected ${name} of length N*K = ${n}*${k} = ${n * k} (shape [${n}, ${k}]) but received ${describe(scores)}`);
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

// ---- float32 keys and radix sort --------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * Maps a float32 score to a uint32 whose unsigned order equals the numeric order (+0 and -0 map
 * to the same key; ±Infinity sort at the ends). NaN must be rejected beforehand.
 */
export function floatKey(x: number): number {
  f32[0] = x + 0; // -0 -> +0
  const b = u32[0];
  return (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
}

/** Reusable work space for radixSortPairs. */
export class RadixScratch {
  keys: Uint32Array;
  vals: Uint8Array;
  readonly hist = new Uint32Array(3 * 2048);
  constructor(capacity = 0) {
    this.keys = new Uint32Array(capacity);
    this.vals = new Uint8Array(capacity);
  }
  ensure(n: number): void {
    if (this.keys.length < n) {
      this.keys = new Uint32Array(n);
      this.vals = new Uint8Array(n);
    }
  }
}

/**
 * Sorts keys[0..n) ascending (LSD radix, three 11-bit digits) carrying vals along. Passes where
 * every key shares the digit are skipped. The result may end up in the scratch buffers: the
 * returned pair says where.
 */
export function radixSortPairs(
  keys: Uint32Array,
  vals: Uint8Array,
  n: number,
  scratch: RadixScratch,
): { keys: Uint32Array; vals: Uint8Array } {
  scratch.ensure(n);
  const h = scratch.hist;
  h.fill(0);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    h[k & 2047]++;
    h[2048 + ((k >>> 11) & 2047)]++;
    h[4096 + (k >>> 22)]++;
  }
  let srcK = keys;
  let srcV = vals;
  let dstK = scratch.keys;
  let dstV = scratch.vals;
  for (let pass = 0; pass < 3; pass++) {
    const base = pass * 2048;
    const shift = pass * 11;
    // Skip a pass whose digit is the same for all keys.
    let skip = false;
    for (let d = 0; d < 2048; d++) {
      const c = h[base + d];
      if (c === n) {
        skip = true;
        break;
      }
      if (c !== 0) break;
    }
    if (skip || n <= 1) continue;
    let sum = 0;
    for (let d = 0; d < 2048; d++) {
      const c = h[base + d];
      h[base + d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = srcK[i];
      const d = base + ((k >>> shift) & 2047);
      const pos = h[d]++;
      dstK[pos] = k;
      dstV[pos] = srcV[i];
    }
    const tk = srcK;
    srcK = dstK;
    dstK = tk;
    const tv = srcV;
    srcV = dstV;
    dstV = tv;
  }
  return { keys: srcK, vals: srcV };
}

/**
 * ROC AUC of sorted (key, isPositive) pairs: Mann–Whitney with tied scores counted 1/2, which is
 * the trapezoidal area under the ROC curve that scikit-learn computes. NaN when one class is absent.
 */
export function aucOfSorted(keys: Uint32Array, vals: Uint8Array, n: number): number {
  let negBelow = 0;
  let num = 0;
  let pos = 0;
  let i = 0;
  while (i < n) {
    const k = keys[i];
    let p = 0;
    let q = 0;
    while (i < n && keys[i] === k) {
      if (vals[i]) p++;
      else q++;
      i++;
    }
    num += p * negBelow + 0.5 * p * q;
    negBelow += q;
    pos += p;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return num / pos / neg;
}
