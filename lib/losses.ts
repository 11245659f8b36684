/**
 * Fused BCE-with-logits family (BCE, focal, asymmetric, distribution-balanced) with masking, weights
 * and label smoothing: loss and gradient in one native pass (C++ CPU twin, CUDA twin for CUDA
 * tensors). The contract is shared/LOSS_SPEC.md. This file validates the options (with friendly errors)
 * and fills the complete struct of lib/loss_contract.ts (where every name and default is written) for the
 * addon, which checks types and lengths again.
 */
import { loadBinding, type NativeBinding, type NativeLossOutputs, type NativeLossResult, type NativeTensor } from './binding.js';
import { checkNumber, checkOptions, describe, rangeError, rangeErrorMessage, rejectShared, rejectUnknownKeys, typeError } from './errors.js';
import {
  ASYMMETRIC_KEYS,
  DISTRIBUTION_BALANCED_KEYS,
  FOCAL_KEYS,
  inertLossArgs,
  LOSS_DEFAULTS,
  LOSS_OPTION_KEYS,
  REBALANCE_KEYS,
  type LossReduction,
  type NativeLossArgs,
} from './loss_contract.js';
import { nativeTensor, Tensor } from './tensor.js';

export { LOSS_OPTION_KEYS, type LossReduction, type NativeLossArgs };
export type WeightArray = Float32Array | readonly number[];

export interface FocalOptions {
  /** Focusing parameter γ >= 0. */
  gamma: number;
  /** α in [0, 1]; absent: no α weighting (torchvision's alpha < 0). */
  alpha?: number;
}

export interface AsymmetricOptions {
  /** γ+ (default 0). */
  gammaPos?: number;
  /** γ- (default 4). */
  gammaNeg?: number;
  /** Probability margin m in [0, 1) (default 0.05). */
  clip?: number;
}

export interface DistributionBalancedOptions {
  /** Training positives per class (K). */
  classCounts: WeightArray;
  /** Training rows. */
  trainSize: number;
  /** λ > 0 (default 2; every default: LOSS_DEFAULTS in lib/loss_contract.ts). */
  negScale?: number;
  /** κ (default 0.05). */
  initBias?: number;
  /** Rebalancing r_nk (default { alpha: 0.1, beta: 10, mu: 0.405 }); false turns it off (r = 1). */
  rebalance?: { alpha?: number; beta?: number; mu?: number } | false;
  /** Focal part (default { gamma: 2, alpha: 0.5 }); false: plain (no focusing, no α). */
  focal?: { gamma?: number; alpha?: number } | false;
}

/** Loss options shared by bceWithLogits and the encoder's trainStep. */
export interface LossOptions {
  reduction?: LossReduction;
  /** p_k multiplies the positive term (K). */
  posWeight?: WeightArray;
  /** Per-row weight (N). */
  sampleWeight?: WeightArray;
  /** Per-label weight (K). */
  classWeight?: WeightArray;
  /** Per-element weight (N×K). */
  elementWeight?: WeightArray;
  /** Uint8Array (N×K): 1 = use, 0 = ignore. */
  mask?: Uint8Array;
  /** Targets equal to this are ignored; default -1 for Int8Array targets, none otherwise; null turns it off. */
  ignoreValue?: number | null;
  /** ε in [0, 1): y becomes y·(1-ε) + ε/2. */
  labelSmoothing?: number;
  focal?: FocalOptions;
  asymmetric?: AsymmetricOptions;
  distributionBalanced?: DistributionBalancedOptions;
}

export interface BceOptions extends LossOptions {
  /** [N, K]; required for typed-array logits, optional for a 2-D Tensor. */
  shape?: readonly [number, number] | readonly number[];
  /** Compute the gradient (default true). */
  grad?: boolean;
  /** Write the gradient here (Float32Array N×K, or a Tensor like the logits). */
  gradOut?: Float32Array | Tensor;
  /** Write the gradient into the logits buffer. */
  inPlace?: boolean;
}

export interface BceResult {
  /** The reduced loss, or a Float32Array of per-element losses for reduction 'none'. */
  loss: number | Float32Array;
  /** d loss / d logits (already divided by count for 'mean'); a Tensor when the logits are a Tensor. */
  grad?: Float32Array | Tensor;
  /** Unmasked elements (the mean's denominator). */
  count: number;
}

export type TargetsKind = 'float32' | 'int8' | 'uint8';

const BCE_OPTION_KEYS = [...LOSS_OPTION_KEYS, 'shape', 'grad', 'gradOut', 'inPlace'] as const;

function weightArray(name: string, value: unknown, length: number, what: string): Float32Array {
  rejectShared(name, value);
  let arr: Float32Array;
  if (value instanceof Float32Array) arr = value;
  else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      if (typeof v !== 'number') throw typeError(`${name}[${i}]`, 'a number', v);
    });
    arr = new Float32Array(value as number[]);
  } else throw typeError(name, `a Float32Array or number[] of length ${length} (${what})`, value);
  if (arr.length !== length)
    throw rangeErrorMessage(`Expected ${name} of length ${length} (${what}) but received ${describe(value)}`);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (!Number.isFinite(v) || v < 0)
      throw rangeErrorMessage(`Expected finite non-negative numbers in ${name} but received ${v} at index ${i}`);
  }
  return arr;
}

function optNumber(name: string, value: unknown, def: number, min = -Infinity, max = Infinity): number {
  if (value === undefined) return def;
  return checkNumber(name, value, min, max);
}

function subOptions(name: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value))
    throw typeError(name, 'an options object', value);
  rejectUnknownKeys(name, value, keys);
  return value as Record<string, unknown>;
}

/**
 * Validates loss options for an N×K problem with targets of `targetsKind` and fills the complete native
 * struct (every field; defaults from LOSS_DEFAULTS). Reused by the encoder's trainStep. Throws
 * TypeError/RangeError with code ERR_INVALID_ARG.
 * @internal
 */
export function normalizeLossOptions(
  options: LossOptions | undefined,
  N: number,
  K: number,
  targetsKind: TargetsKind,
  name = 'options',
  extraKeys: readonly string[] = [],
): NativeLossArgs {
  const o = checkOptions(name, options);
  rejectUnknownKeys(name, o, [...LOSS_OPTION_KEYS, ...extraKeys]);
  const out = inertLossArgs();
  if (o.reduction !== undefined) {
    if (o.reduction !== 'mean' && o.reduction !== 'sum' && o.reduction !== 'none')
      throw typeError(`${name}.reduction`, "'mean' | 'sum' | 'none'", o.reduction);
    out.reduction = o.reduction;
  }
  if (o.posWeight !== undefined) out.posWeight = weightArray(`${name}.posWeight`, o.posWeight, K, 'one per label');
  if (o.classWeight !== undefined) out.classWeight = weightArray(`${name}.classWeight`, o.classWeight, K, 'one per label');
  if (o.sampleWeight !== undefined) out.sampleWeight = weightArray(`${name}.sampleWeight`, o.sampleWeight, N, 'one per row');
  if (o.elementWeight !== undefined) out.elementWeight = weightArray(`${name}.elementWeight`, o.elementWeight, N * K, 'N×K');
  if (o.mask !== undefined) {
    if (!(o.mask instanceof Uint8Array)) throw typeError(`${name}.mask`, `a Uint8Array of length ${N * K} (N×K, 1 = use)`, o.mask);
    if (o.mask.length !== N * K) throw rangeErrorMessage(`Expected ${name}.mask of length ${N * K} (N×K) but received ${describe(o.mask)}`);
    out.mask = o.mask;
  }
  if (o.ignoreValue === undefined) {
    if (targetsKind === 'int8') out.ignoreValue = LOSS_DEFAULTS.int8IgnoreValue;
  } else if (o.ignoreValue !== null) {
    out.ignoreValue = checkNumber(`${name}.ignoreValue`, o.ignoreValue);
  }
  out.labelSmoothing = optNumber(`${name}.labelSmoothing`, o.labelSmoothing, LOSS_DEFAULTS.labelSmoothing, 0, 1);
  if (out.labelSmoothing === 1) throw rangeError(`${name}.labelSmoothing`, 'a finite number in [0, 1)', 1);

  const variants = (['focal', 'asymmetric', 'distributionBalanced'] as const).filter((k) => o[k] !== undefined);
  if (variants.length > 1)
    throw typeError(name, `at most one of focal, asymmetric, distributionBalanced`, `${variants.join(' and ')}` as unknown);
  if (o.focal !== undefined) {
    const f = subOptions(`${name}.focal`, o.focal, FOCAL_KEYS);
    if (f.gamma === undefined) throw typeError(`${name}.focal.gamma`, 'a finite number >= 0', undefined);
    out.variant = 'focal';
    out.gamma = checkNumber(`${name}.focal.gamma`, f.gamma, 0);
    if (f.alpha !== undefined) out.alpha = checkNumber(`${name}.focal.alpha`, f.alpha, 0, 1);
  } else if (o.asymmetric !== undefined) {
    const a = subOptions(`${name}.asymmetric`, o.asymmetric, ASYMMETRIC_KEYS);
    const def = LOSS_DEFAULTS.asymmetric;
    out.variant = 'asymmetric';
    out.gammaPos = optNumber(`${name}.asymmetric.gammaPos`, a.gammaPos, def.gammaPos, 0);
    out.gammaNeg = optNumber(`${name}.asymmetric.gammaNeg`, a.gammaNeg, def.gammaNeg, 0);
    out.clip = optNumber(`${name}.asymmetric.clip`, a.clip, def.clip, 0, 1);
    if (out.clip === 1) throw rangeError(`${name}.asymmetric.clip`, 'a finite number in [0, 1)', 1);
  } else if (o.distributionBalanced !== undefined) {
    const n = `${name}.distributionBalanced`;
    const d = subOptions(n, o.distributionBalanced, DISTRIBUTION_BALANCED_KEYS);
    const def = LOSS_DEFAULTS.distributionBalanced;
    out.variant = 'distributionBalanced';
    if (d.classCounts === undefined) throw typeError(`${n}.classCounts`, `training positives per label (K = ${K})`, undefined);
    out.classCounts = weightArray(`${n}.classCounts`, d.classCounts, K, 'training positives per label');
    if (d.trainSize === undefined) throw typeError(`${n}.trainSize`, 'the number of training rows', undefined);
    out.trainSize = checkNumber(`${n}.trainSize`, d.trainSize, 2);
    out.negScale = optNumber(`${n}.negScale`, d.negScale, def.negScale, 0);
    if (out.negScale === 0) throw rangeError(`${n}.negScale`, 'a finite number > 0', 0);
    out.initBias = optNumber(`${n}.initBias`, d.initBias, def.initBias);
    if (d.rebalance !== false) {
      const r = d.rebalance === undefined ? {} : subOptions(`${n}.rebalance`, d.rebalance, REBALANCE_KEYS);
      out.rebalance = true;
      out.rbAlpha = optNumber(`${n}.rebalance.alpha`, r.alpha, def.rebalance.alpha);
      out.rbBeta = optNumber(`${n}.rebalance.beta`, r.beta, def.rebalance.beta);
      out.rbMu = optNumber(`${n}.rebalance.mu`, r.mu, def.rebalance.mu);
    }
    if (d.focal !== false) {
      const f = d.focal === undefined ? {} : subOptions(`${n}.focal`, d.focal, FOCAL_KEYS);
      out.dbFocal = true;
      out.gamma = optNumber(`${n}.focal.gamma`, f.gamma, def.focal.gamma, 0);
      out.alpha = optNumber(`${n}.focal.alpha`, f.alpha, def.focal.alpha, 0, 1);
    }
  }
  return out;
}

interface Resolved {
  logits: unknown;
  targets: unknown;
  N: number;
  K: number;
  kind: TargetsKind;
  norm: NativeLossArgs;
  outputs: { grad: boolean; gradOut?: unknown; inPlace: boolean };
  logitsTensor: boolean;
}

function targetsKindOf(targets: unknown): TargetsKind {
  if (targets instanceof Float32Array) return 'float32';
  if (targets instanceof Int8Array) return 'int8';
  if (targets instanceof Uint8Array) return 'uint8';
  if (targets instanceof Tensor) {
    const dt = targets.dtype;
    if (dt === 'float32' || dt === 'int8' || dt === 'uint8') return dt;
    throw typeError('targets', "a Tensor of dtype 'float32', 'int8' or 'uint8'", `Tensor of dtype '${dt}'` as unknown);
  }
  throw typeError('targets', 'a Float32Array (soft labels), Int8Array or Uint8Array (hard labels) or a Tensor', targets);
}

function resolve(logits: unknown, targets: unknown, options: BceOptions | undefined): Resolved {
  const o = checkOptions('options', options);
  rejectUnknownKeys('options', o, BCE_OPTION_KEYS);
  const logitsTensor = logits instanceof Tensor;
  if (!logitsTensor && !(logits instanceof Float32Array))
    throw typeError('logits', 'a Float32Array (N×K, row-major) or a Tensor', logits);
  rejectShared('logits', logits);
  rejectShared('targets', targets);
  rejectShared('options.gradOut', o.gradOut);
  let N: number;
  let K: number;
  const numel = logitsTensor ? (logits as Tensor).size : (logits as Float32Array).length;
  if (o.shape !== undefined) {
    const s = o.shape;
    if (!Array.isArray(s) || s.length !== 2) throw typeError('options.shape', '[N, K]', s);
    N = s[0];
    K = s[1];
    if (typeof N !== 'number' || !Number.isInteger(N) || N < 0) throw rangeError('options.shape[0] (N)', 'an integer >= 0', N);
    if (typeof K !== 'number' || !Number.isInteger(K) || K < 1) throw rangeError('options.shape[1] (K)', 'an integer >= 1', K);
  } else if (logitsTensor) {
    const shape = (logits as Tensor).shape;
    if (shape.length !== 2) throw typeError('logits', 'a 2-D Tensor [N, K] (or give options.shape)', `Tensor of shape [${shape.join(', ')}]` as unknown);
    [N, K] = shape;
    if (K < 1) throw rangeError('logits shape[1] (K)', 'an integer >= 1', K);
  } else {
    throw typeError('options.shape', '[N, K] (required for typed-array logits)', undefined);
  }
  if (numel !== N * K)
    throw rangeErrorMessage(`Expected logits with N×K = ${N}×${K} = ${N * K} elements but received ${describe(logits)}${logitsTensor ? ` with ${numel} elements` : ''}`);
  const kind = targetsKindOf(targets);
  const tnumel = targets instanceof Tensor ? targets.size : (targets as Float32Array).length;
  if (tnumel !== N * K)
    throw rangeErrorMessage(`Expected targets with N×K = ${N}×${K} = ${N * K} elements (the same shape as the logits) but received ${describe(targets)}${targets instanceof Tensor ? ` with ${tnumel} elements` : ''}`);
  if (targets instanceof Tensor && logitsTensor && targets.device !== (logits as Tensor).device)
    throw typeError('targets', `a Tensor on ${(logits as Tensor).device} (where the logits are)`, `Tensor on ${targets.device}` as unknown);
  if (targets instanceof Tensor && !logitsTensor && targets.device !== 'cpu')
    throw typeError('targets', 'a typed array or a CPU Tensor (the logits are a Float32Array)', `Tensor on ${targets.device}` as unknown);
  if (logitsTensor) {
    const dt = (logits as Tensor).dtype;
    const dev = (logits as Tensor).device;
    if (!(dt === 'float32' || (dev === 'cuda' && (dt === 'float16' || dt === 'bfloat16'))))
      throw typeError('logits', "a float32 Tensor (float16/bfloat16 on CUDA)", `Tensor of dtype '${dt}' on ${dev}` as unknown);
  }
  const norm = normalizeLossOptions(options, N, K, kind, 'options', ['shape', 'grad', 'gradOut', 'inPlace']);
  if (o.grad !== undefined && typeof o.grad !== 'boolean') throw typeError('options.grad', 'a boolean', o.grad);
  if (o.inPlace !== undefined && typeof o.inPlace !== 'boolean') throw typeError('options.inPlace', 'a boolean', o.inPlace);
  const grad = o.grad !== false;
  const inPlace = o.inPlace === true;
  if (!grad && (inPlace || o.gradOut !== undefined))
    throw typeError('options', 'no gradOut/inPlace together with grad: false', 'both' as unknown);
  if (inPlace && o.gradOut !== undefined) throw typeError('options', 'either gradOut or inPlace, not both', 'both' as unknown);
  if (o.gradOut !== undefined) {
    const g = o.gradOut;
    if (logitsTensor) {
      const lt = logits as Tensor;
      if (!(g instanceof Tensor) || g.dtype !== lt.dtype || g.device !== lt.device || g.size !== N * K)
        throw typeError('options.gradOut', `a ${lt.dtype} Tensor of ${N * K} elements on ${lt.device} (like the logits)`, g instanceof Tensor ? (`Tensor ${g.dtype} of ${g.size} elements on ${g.device}` as unknown) : g);
    } else {
      if (!(g instanceof Float32Array)) throw typeError('options.gradOut', `a Float32Array of length ${N * K}`, g);
      if (g.length !== N * K) throw rangeErrorMessage(`Expected options.gradOut of length ${N * K} (N×K) but received ${describe(g)}`);
    }
  }
  return { logits, targets, N, K, kind, norm, outputs: { grad, gradOut: o.gradOut, inPlace }, logitsTensor };
}

type NativeCall = Parameters<NativeBinding['bceWithLogits']>;

function nativeArgs(r: Resolved): NativeCall {
  const lg = r.logitsTensor ? nativeTensor(r.logits as Tensor) : (r.logits as Float32Array);
  const tg = r.targets instanceof Tensor ? nativeTensor(r.targets) : (r.targets as Float32Array | Int8Array | Uint8Array);
  const outputs: NativeLossOutputs = { grad: r.outputs.grad, inPlace: r.outputs.inPlace };
  const g = r.outputs.gradOut;
  if (g !== undefined) outputs.gradOut = g instanceof Tensor ? nativeTensor(g) : (g as Float32Array);
  return [lg, tg, r.N, r.K, r.norm, outputs];
}

function wrapResult(r: Resolved, raw: NativeLossResult): BceResult {
  const out: BceResult = { loss: raw.loss, count: raw.count };
  if (raw.grad !== undefined) {
    if (r.logitsTensor) {
      if (r.outputs.inPlace) out.grad = r.logits as Tensor;
      else if (r.outputs.gradOut instanceof Tensor) out.grad = r.outputs.gradOut;
      else out.grad = Tensor.fromNative(raw.grad as NativeTensor);
    } else {
      out.grad = raw.grad as Float32Array;
    }
  }
  return out;
}

/**
 * Binary cross-entropy with logits and its family, loss and gradient in one pass.
 * @param logits Float32Array (N×K row-major, give options.shape) or a Tensor
 * @param targets Float32Array (soft labels in [0, 1]), Int8Array (-1 = not annotated), Uint8Array, or a Tensor
 */
export function bceWithLogits(logits: Float32Array | Tensor, targets: Float32Array | Int8Array | Uint8Array | Tensor, options?: BceOptions): BceResult {
  const r = resolve(logits, targets, options);
  return wrapResult(r, loadBinding().bceWithLogits(...nativeArgs(r)));
}

/** Like bceWithLogits, on a worker thread of the addon. Do not modify the arrays until it settles. */
export async function bceWithLogitsAsync(
  logits: Float32Array | Tensor,
  targets: Float32Array | Int8Array | Uint8Array | Tensor,
  options?: BceOptions,
): Promise<BceResult> {
  const r = resolve(logits, targets, options);
  return wrapResult(r, await loadBinding().bceWithLogitsAsync(...nativeArgs(r)));
}
