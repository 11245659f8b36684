/**
 * Per-label loss weights from training counts: posWeight (negatives / positives and its variants) and
 * class-balanced weights (Cui et al., CVPR 2019), for the options of the fused losses (losses.ts).
 */
import { checkNumber, checkOptions, rangeError, rangeErrorMessage, rejectUnknownKeys, typeError } from './errors.js';

function countsArray(name: string, value: unknown): Float64Array {
  let arr: ArrayLike<number>;
  if (Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array || value instanceof Uint32Array)
    arr = value as ArrayLike<number>;
  else throw typeError(name, 'an array of counts (number[], Float32Array, Float64Array, Int32Array or Uint32Array)', value);
  const out = new Float64Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v !== 'number') throw typeError(`${name}[${i}]`, 'a number', v);
    if (!Number.isFinite(v) || v < 0) throw rangeErrorMessage(`Expected finite counts >= 0 in ${name} but received ${v} at index ${i}`);
    out[i] = v;
  }
  return out;
}

export type PosWeightMethod = 'neg-pos' | 'sqrt-neg-pos' | 'inverse' | 'sqrt-inverse';

export interface PosWeightOptions {
  /** 'neg-pos' (default): (total-pos)/pos; 'sqrt-neg-pos': its square root; 'inverse': total/pos; 'sqrt-inverse'. */
  method?: PosWeightMethod;
  /** Multiplies every weight (default 1). */
  scale?: number;
  /** [min, max]: weights are clamped into this range last (e.g. [0.5, 50] keeps weights above 0.5). */
  clamp?: readonly [number, number];
}

/**
 * posWeight per label from training counts. Counts are clamped into [1, total-1] first so a label
 * with no (or only) positives gets a finite weight.
 */
export function posWeightFromCounts(positives: ArrayLike<number>, total: number, options?: PosWeightOptions): Float32Array {
  const pos = countsArray('positives', positives);
  checkNumber('total', total, 2);
  const o = checkOptions('options', options);
  rejectUnknownKeys('posWeightFromCounts options', o, ['method', 'scale', 'clamp']);
  const method = (o.method ?? 'neg-pos') as PosWeightMethod;
  if (!['neg-pos', 'sqrt-neg-pos', 'inverse', 'sqrt-inverse'].includes(method))
    throw typeError('options.method', "'neg-pos' | 'sqrt-neg-pos' | 'inverse' | 'sqrt-inverse'", o.method);
  const scale = o.scale === undefined ? 1 : checkNumber('options.scale', o.scale, 0);
  let lo = 0;
  let hi = Infinity;
  if (o.clamp !== undefined) {
    if (!Array.isArray(o.clamp) || o.clamp.length !== 2) throw typeError('options.clamp', '[min, max]', o.clamp);
    lo = checkNumber('options.clamp[0]', o.clamp[0], 0);
    hi = checkNumber('options.clamp[1]', o.clamp[1], lo);
  }
  const out = new Float32Array(pos.length);
  for (let k = 0; k < pos.length; k++) {
    const p = Math.min(Math.max(pos[k], 1), total - 1);
    let w: number;
    switch (method) {
      case 'neg-pos': w = (total - p) / p; break;
      case 'sqrt-neg-pos': w = Math.sqrt((total - p) / p); break;
      case 'inverse': w = total / p; break;
      default: w = Math.sqrt(total / p); break;
    }
    out[k] = Math.min(Math.max(w * scale, lo), hi);
  }
  return out;
}

export interface ClassBalancedOptions {
  /** β in [0, 1) (Cui et al.: 0.9, 0.99, 0.999, 0.9999). */
  beta: number;
  /** Scale so the weights sum to K (default true). */
  normalize?: boolean;
}

/** Class-balanced weights (1-β)/(1-β^n_k) (Cui et al., CVPR 2019), for options.classWeight. Counts below 1 count as 1. */
export function classBalancedWeights(positives: ArrayLike<number>, options: ClassBalancedOptions): Float32Array {
  const pos = countsArray('positives', positives);
  const o = checkOptions('options', options);
  rejectUnknownKeys('classBalancedWeights options', o, ['beta', 'normalize']);
  if (o.beta === undefined) throw typeError('options.beta', 'a finite number in [0, 1)', undefined);
  const beta = checkNumber('options.beta', o.beta, 0, 1);
  if (beta === 1) throw rangeError('options.beta', 'a finite number in [0, 1)', 1);
  if (o.normalize !== undefined && typeof o.normalize !== 'boolean') throw typeError('options.normalize', 'a boolean', o.normalize);
  const w = new Float64Array(pos.length);
  let sum = 0;
  for (let k = 0; k < pos.length; k++) {
    const n = Math.max(pos[k], 1);
    // (1-β)/(1-β^n), with 1-β^n = -expm1(n·log β) so β close to 1 keeps its precision
    w[k] = beta === 0 ? 1 : (1 - beta) / -Math.expm1(n * Math.log(beta));
    sum += w[k];
  }
  const scale = o.normalize === false || sum === 0 ? 1 : pos.length / sum;
  return Float32Array.from(w, (v) => v * scale);
}
