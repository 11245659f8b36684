/**
 * The AdamW contract between lib/ and native/, written once: the option names, their defaults and checks,
 * and the complete structs the addon reads. native/addon/adamw_args.h requires every field of
 * {@link NativeAdamWArgs} / {@link NativeSparseAdamWArgs} (and no other), validates them, and keeps no
 * defaults of its own (as lib/loss_contract.ts is for the losses).
 */
import { checkNumber, checkOptions, rejectUnknownKeys, typeError } from './errors.js';

export interface OptimizerOptions {
  lr: number;
  /** decoupled weight decay (PyTorch AdamW), default 0 */
  weightDecay?: number;
  /**
   * Whether biases and LayerNorm weights (the 1-D parameters) decay too: true (default) is
   * torch.optim.AdamW over all parameters; false exempts them, as Hugging Face's Trainer does.
   */
  decayBiasAndNorm?: boolean;
  /** default 0.9 */
  beta1?: number;
  /** default 0.999 */
  beta2?: number;
  /** default 1e-8 */
  eps?: number;
  /** clip the global gradient L2 norm to this (torch clip_grad_norm_); default 0: no clipping */
  maxGradNorm?: number;
}

/** The defaults of every optional field (PyTorch's AdamW; no clipping). */
export const ADAMW_DEFAULTS = { weightDecay: 0, decayBiasAndNorm: true, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 0 } as const;

/** The complete struct of the encoder's step / trainStep (every field filled). */
export type NativeAdamWArgs = Required<OptimizerOptions>;
/** The complete struct of the sparseAdamW kernel: one parameter's hyper-parameters and the step number. */
export interface NativeSparseAdamWArgs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  t: number;
}

const KEYS = ['lr', 'weightDecay', 'decayBiasAndNorm', 'beta1', 'beta2', 'eps', 'maxGradNorm'] as const;

/** Validates optimizer options (errors name `name`.field) and fills every field from ADAMW_DEFAULTS. */
export function adamWArgs(options: unknown, name = 'optimizer'): NativeAdamWArgs {
  const o = checkOptions(`${name} options`, options);
  rejectUnknownKeys(`${name} options`, o, KEYS);
  if (o.decayBiasAndNorm !== undefined && typeof o.decayBiasAndNorm !== 'boolean')
    throw typeError(`${name}.decayBiasAndNorm`, 'a boolean', o.decayBiasAndNorm);
  if (o.lr === undefined) throw typeError(`${name}.lr`, 'a learning rate >= 0', o.lr);
  const num = (key: 'weightDecay' | 'beta1' | 'beta2' | 'eps' | 'maxGradNorm', min: number, max?: number) =>
    o[key] === undefined ? ADAMW_DEFAULTS[key] : checkNumber(`${name}.${key}`, o[key], min, max);
  return {
    lr: checkNumber(`${name}.lr`, o.lr, 0),
    weightDecay: num('weightDecay', 0),
    decayBiasAndNorm: (o.decayBiasAndNorm as boolean | undefined) ?? ADAMW_DEFAULTS.decayBiasAndNorm,
    beta1: num('beta1', 0, 0.999999999),
    beta2: num('beta2', 0, 0.999999999),
    eps: num('eps', Number.MIN_VALUE),
    maxGradNorm: num('maxGradNorm', 0),
  };
}
