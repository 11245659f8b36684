/**
 * The loss contract between lib/ and native/, written once: the option names, the defaults of every
 * preset and optional parameter, and the complete struct the addon reads. native/addon/loss_args.cpp
 * requires every field of {@link NativeLossArgs} (and no other), validates it, and keeps no defaults of
 * its own; the variant and reduction names map to the C++ enums `LossVariant` and `Reduction` (bce.h).
 */
import type { LossOptions } from './losses.js';

/** Loss variants, in the order of C++ `enum class LossVariant` (native/ops/bce.h). */
export const LOSS_VARIANTS = ['bce', 'focal', 'asymmetric', 'distributionBalanced'] as const;
export type LossVariantName = (typeof LOSS_VARIANTS)[number];
/** Reductions, in the order of C++ `enum class Reduction`. */
export const LOSS_REDUCTIONS = ['mean', 'sum', 'none'] as const;
export type LossReduction = (typeof LOSS_REDUCTIONS)[number];

/** The keys of a LossOptions object and of its variant sub-objects. */
export const LOSS_OPTION_KEYS = [
  'reduction',
  'posWeight',
  'sampleWeight',
  'classWeight',
  'elementWeight',
  'mask',
  'ignoreValue',
  'labelSmoothing',
  'focal',
  'asymmetric',
  'distributionBalanced',
] as const;
export const FOCAL_KEYS = ['gamma', 'alpha'] as const;
export const ASYMMETRIC_KEYS = ['gammaPos', 'gammaNeg', 'clip'] as const;
export const DISTRIBUTION_BALANCED_KEYS = ['classCounts', 'trainSize', 'negScale', 'initBias', 'rebalance', 'focal'] as const;
export const REBALANCE_KEYS = ['alpha', 'beta', 'mu'] as const;

/**
 * Every default of the loss family. Distribution-balanced: seed article 002's settings (rebalance map
 * alpha 0.1, beta 10, mu 0.405; focal gamma 2, alpha 0.5; logit regularisation init bias 0.05, negative
 * scale 2). ASL: Ridnik et al.'s (gamma+ 0, gamma- 4, clip 0.05). Focal: gamma 2 for the 'focal' preset
 * (the option itself requires gamma); no alpha weighting unless given.
 */
export const LOSS_DEFAULTS = {
  reduction: 'mean',
  labelSmoothing: 0,
  /** targets equal to this are ignored when the targets are an Int8Array and ignoreValue is not given */
  int8IgnoreValue: -1,
  focal: { gamma: 2 },
  asymmetric: { gammaPos: 0, gammaNeg: 4, clip: 0.05 },
  distributionBalanced: {
    negScale: 2,
    initBias: 0.05,
    rebalance: { alpha: 0.1, beta: 10, mu: 0.405 },
    focal: { gamma: 2, alpha: 0.5 },
  },
} as const;

/** The Trainer's loss presets. */
export const LOSS_PRESETS = ['bce', 'focal', 'db', 'asl'] as const;
export type LossPreset = (typeof LOSS_PRESETS)[number];

/**
 * The bceWithLogits options of a preset, from the training rows' positives per label and row count.
 * A label with no training positive gets a count of 1 under 'db' so its weights stay finite.
 */
export function presetLossOptions(preset: LossPreset, positives: ArrayLike<number>, trainSize: number): LossOptions {
  const d = LOSS_DEFAULTS;
  switch (preset) {
    case 'bce':
      return {};
    case 'focal':
      return { focal: { ...d.focal } };
    case 'asl':
      return { asymmetric: { ...d.asymmetric } };
    case 'db': {
      const db = d.distributionBalanced;
      const classCounts = Float32Array.from(positives, (c) => Math.max(1, c));
      return { distributionBalanced: { classCounts, trainSize, negScale: db.negScale, initBias: db.initBias, rebalance: { ...db.rebalance }, focal: { ...db.focal } } };
    }
  }
}

/**
 * The complete struct the addon reads (bceWithLogits, bceWithLogitsAsync, NativeEncoder.trainStep):
 * every field present; null where an input is absent. Fields a variant does not use hold the inert values
 * of {@link inertLossArgs}.
 */
export interface NativeLossArgs {
  reduction: LossReduction;
  variant: LossVariantName;
  posWeight: Float32Array | null;
  sampleWeight: Float32Array | null;
  classWeight: Float32Array | null;
  elementWeight: Float32Array | null;
  mask: Uint8Array | null;
  /** targets equal to this are ignored; null: none */
  ignoreValue: number | null;
  labelSmoothing: number;
  /** focal γ (also distribution-balanced's focal part) */
  gamma: number;
  /** focal α; null: no α weighting (always a number for distribution-balanced with focal) */
  alpha: number | null;
  gammaPos: number;
  gammaNeg: number;
  clip: number;
  classCounts: Float32Array | null;
  trainSize: number;
  negScale: number;
  initBias: number;
  rebalance: boolean;
  rbAlpha: number;
  rbBeta: number;
  rbMu: number;
  dbFocal: boolean;
}

/** Plain BCE with every other parameter inert (γ 0, no α, no rebalancing): the base the options fill in. */
export function inertLossArgs(): NativeLossArgs {
  return {
    reduction: LOSS_DEFAULTS.reduction,
    variant: 'bce',
    posWeight: null,
    sampleWeight: null,
    classWeight: null,
    elementWeight: null,
    mask: null,
    ignoreValue: null,
    labelSmoothing: LOSS_DEFAULTS.labelSmoothing,
    gamma: 0,
    alpha: null,
    gammaPos: 0,
    gammaNeg: 0,
    clip: 0,
    classCounts: null,
    trainSize: 0,
    negScale: 1,
    initBias: 0,
    rebalance: false,
    rbAlpha: 0,
    rbBeta: 0,
    rbMu: 0,
    dbFocal: false,
  };
}
