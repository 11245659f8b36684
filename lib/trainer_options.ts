/**
 * The Trainer's options: their types, the checks with friendly messages and the defaults, the loss
 * presets (the bceWithLogits options of 'bce' | 'focal' | 'db' | 'asl') and the result types of fit().
 */
import type { LossOptions } from './losses.js';
import { LOSS_PRESETS, presetLossOptions, type LossPreset } from './loss_contract.js';
import type { PreprocessOptions } from './preprocess.js';
import { checkBatching, type BatchingOptions } from './request_queue.js';
import type { DeviceOption } from './device.js';
import type { ThresholdsFile } from './model_dir.js';
import { checkInteger, checkNumber, checkOptions, rangeErrorMessage, rejectUnknownKeys, showValue, typeError } from './errors.js';
import { checkModelOption, isNgramOption, type ModelOption } from './text_model.js';
import { presetOf, type EncoderModelOption, type ModelPreset } from './encoder_model.js';
import { MANY_LABELS } from './ngram_model.js';

export type { ModelOption } from './text_model.js';
export type { ModelPreset } from './encoder_model.js';

export type { LossPreset } from './loss_contract.js';
export type PosWeightOption = 'none' | 'neg-pos' | 'sqrt-neg-pos' | Float32Array;
export type EarlyStoppingMetric = 'val-loss' | 'micro-f1' | 'macro-f1';

export interface ProgressEvent {
  /**
   * 'train' after every optimizer step; 'validate' once per epoch after validation; 'pretrain' after
   * every masked-LM step and 'pretrain-epoch' at the end of each pre-training epoch (pretrainEpochs;
   * then step, epoch and loss count the pre-training's own steps, epochs and masked-LM loss)
   */
  phase: 'train' | 'validate' | 'pretrain' | 'pretrain-epoch';
  /** the ensemble member being trained (model 'ensemble'; absent for a single model) */
  member?: string;
  /** optimizer steps done so far (all epochs) */
  step: number;
  totalSteps: number;
  /** 1-based */
  epoch: number;
  epochs: number;
  /** mean training loss of this epoch so far */
  loss: number;
  /** training examples per second over this epoch so far */
  examplesPerSec: number;
  /** estimated seconds left in training (validation excluded) */
  etaSec: number;
  lr: number;
  /** validation figures, on 'validate' */
  valLoss?: number;
  valMicroF1?: number;
  valMacroF1?: number;
}

/** `maxBatchSize`/`maxWaitMs`: how concurrent predict/scores calls of `trainer.classifier` merge (request_queue.ts). */
export interface TrainerOptions extends BatchingOptions {
  /**
   * default 'auto': the ensemble of the n-gram model and the tiny encoder for up to 100,000 training
   * rows, else the n-gram model (the measured winners on 2 CPU cores; bench/README.md)
   */
  model?: ModelOption | 'auto';
  loss?: LossPreset | LossOptions;
  posWeight?: PosWeightOption;
  posWeightClamp?: [number, number];
  /** default: the n-gram model 3, or 10 over 100 labels (set by fit() for the data: ngramEpochsFor); encoders 5 */
  epochs?: number;
  batchSize?: number;
  maxLength?: number;
  lr?: number;
  warmupRatio?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  earlyStopping?: { patience?: number; metric?: EarlyStoppingMetric } | false;
  thresholds?: { objective?: 'micro-f1' | 'macro-f1'; perClass?: boolean; minSupport?: number | 'auto'; bags?: number };
  preprocess?: PreprocessOptions;
  /**
   * Masked-LM pre-training epochs on the training texts before fine-tuning (encoder models only; default 0):
   * BERT's objective with the masked-LM head (lib/mlm.ts), batch size, maximum length and seed as for
   * training, its own learning rate (1e-3 tiny, 5e-4 small, 1e-4 base, 5e-5 pretrained)
   */
  pretrainEpochs?: number;
  vocabSize?: number;
  device?: DeviceOption;
  seed?: number;
  onProgress?: (p: ProgressEvent) => void;
}

export interface EpochRecord {
  /** the ensemble member this epoch trained (model 'ensemble') */
  member?: string;
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
  /** validation micro/macro F1 at threshold 0.5 */
  valMicroF1: number | null;
  valMacroF1: number | null;
  /**
   * what early stopping compared (higher is better): -val loss, the validation F1 with the thresholds the
   * epoch would get, or, for an ensemble's later member, the best validation micro-F1 + macro-F1 of its
   * combination with the members before it; null without validation or early stopping
   */
  valSelection: number | null;
  lr: number;
  seconds: number;
  examplesPerSec: number;
  gradNorm: number;
}

/** One ensemble member's training (FitResult.members). */
export interface MemberFit {
  name: string;
  /** the member's model option and the training options it ran with */
  model: unknown;
  /** its weight in the ensemble, chosen on validation (0: left out, it did not help) */
  weight: number;
  /** each first-member weight tried and the validation micro/macro-F1 of the combination, thresholds tuned */
  weightSearch?: { weight: number; microF1: number; macroF1: number }[];
  epochs: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
  seconds: number;
  /** the member alone on validation, with thresholds tuned for it */
  validation: { microF1: number; macroF1: number } | null;
  options: Record<string, unknown>;
}

export interface FitResult {
  /** every epoch trained (an ensemble's: each member's in turn, `member` naming it) */
  epochs: EpochRecord[];
  /** the epoch whose parameters the trainer keeps (1-based; an ensemble: its last member's) */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** model 'ensemble': each member's training */
  members?: MemberFit[];
  /** the tuned thresholds (0.5 everywhere without validation data) */
  thresholds: ThresholdsFile;
  labels: string[];
  data: DataStats;
  seconds: number;
}

export interface DataStats {
  trainRows: number;
  valRows: number;
  labels: number;
  /** positives per label in the training rows */
  trainCounts: Record<string, number>;
  /** labels no training row has (from the validation rows or fit's `labels`): count 0, out of threshold tuning */
  zeroLabels: string[];
  /** target elements marked unknown (-1) by partial annotation */
  unknownTargets: { train: number; val: number };
  partialRows: { train: number; val: number };
  vocabSize: number;
}

const DEFAULT_LR: Record<ModelPreset | 'pretrained', number> = { tiny: 2e-3, small: 5e-4, base: 1e-4, pretrained: 5e-5 };
const NGRAM_LOSS: LossPreset = 'asl';
const ENCODER_TRAINING = { epochs: 5, batchSize: 16, metric: 'val-loss' as EarlyStoppingMetric };
const NGRAM_TRAINING = { epochs: 3, batchSize: 32, metric: 'macro-f1' as EarlyStoppingMetric, lr: 3e-3 };

/**
 * The n-gram model's epochs when the caller names none: 3, or 10 over MANY_LABELS labels, where each rare
 * label's own weights (the direct path) see its few positives once an epoch. Measured on Debian's Debtags
 * (`node bench/debtags.mjs`, 598 labels; bench/README.md), test macro-F1 of the n-gram model alone:
 * 3 epochs 0.266, 6 epochs 0.322, 10 epochs 0.325, 15 epochs 0.327 (GoEmotions' 28 labels: 3 is best).
 */
export function ngramEpochsFor(numLabels: number): number {
  return numLabels > MANY_LABELS ? 10 : NGRAM_TRAINING.epochs;
}

const OPTION_KEYS = [
  'model', 'loss', 'posWeight', 'posWeightClamp', 'epochs', 'batchSize', 'maxLength', 'lr', 'warmupRatio', 'weightDecay',
  'maxGradNorm', 'earlyStopping', 'thresholds', 'preprocess', 'pretrainEpochs', 'vocabSize', 'device', 'seed', 'onProgress', 'maxBatchSize', 'maxWaitMs',
] as const;

export interface ResolvedTrainerOptions {
  model: ModelOption;
  /** what `model: 'auto'` picked and why (absent when a model was named) */
  modelAuto?: { picked: string; reason: string };
  loss: LossPreset | LossOptions;
  posWeight: PosWeightOption;
  posWeightClamp: [number, number];
  epochs: number;
  batchSize: number;
  maxLength: number;
  lr: number;
  warmupRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  earlyStopping: { patience: number; metric: EarlyStoppingMetric } | false;
  thresholds: { objective: 'micro-f1' | 'macro-f1'; perClass: boolean; minSupport: number | 'auto'; bags: number };
  preprocess?: PreprocessOptions;
  pretrainEpochs: number;
  vocabSize: number;
  device: DeviceOption;
  seed: number;
  onProgress?: (p: ProgressEvent) => void;
  /** how the trained classifier merges concurrent inference calls (not saved: Classifier.load takes its own) */
  batching: Required<BatchingOptions>;
}

export function resolveOptions(options: unknown): ResolvedTrainerOptions {
  const o = checkOptions('options', options) as TrainerOptions;
  rejectUnknownKeys('Trainer options', o, OPTION_KEYS);
  const auto = o.model === undefined || o.model === 'auto';
  const model = auto ? 'ngram' : checkModelOption(o.model);
  // Per-model defaults: the n-gram model's were chosen on GoEmotions (bench/README.md, the recipe table)
  // the ensemble's own options are the n-gram model's (its members resolve theirs: ensembleMembers)
  const ngram = isNgramOption(model) || model === 'ensemble';
  const d = ngram ? NGRAM_TRAINING : ENCODER_TRAINING;
  const loss = o.loss ?? (ngram ? NGRAM_LOSS : 'bce');
  const presets = LOSS_PRESETS.map((p) => `'${p}'`).join(' | ');
  if (typeof loss === 'string' && !(LOSS_PRESETS as readonly string[]).includes(loss))
    throw rangeErrorMessage(`Expected ${presets} | a LossOptions object for options.loss but received "${loss}"`);
  if (typeof loss !== 'string' && (loss === null || typeof loss !== 'object')) throw typeError('options.loss', `${presets} | LossOptions`, loss);
  const posWeight = o.posWeight ?? (ngram ? 'sqrt-neg-pos' : 'none');
  if (!(posWeight instanceof Float32Array) && !['none', 'neg-pos', 'sqrt-neg-pos'].includes(posWeight as string))
    throw rangeErrorMessage(`Expected 'none' | 'neg-pos' | 'sqrt-neg-pos' | a Float32Array for options.posWeight but received ${showValue(posWeight)}`);
  const clamp = o.posWeightClamp ?? [0.5, 50];
  if (!Array.isArray(clamp) || clamp.length !== 2 || !(clamp[0] > 0) || !(clamp[1] >= clamp[0]))
    throw typeError('options.posWeightClamp', '[min, max] with 0 < min <= max', clamp);
  let earlyStopping: ResolvedTrainerOptions['earlyStopping'] = { patience: 3, metric: d.metric };
  if (o.earlyStopping === false) earlyStopping = false;
  else if (o.earlyStopping !== undefined) {
    const es = checkOptions('options.earlyStopping', o.earlyStopping);
    rejectUnknownKeys('options.earlyStopping', es, ['patience', 'metric']);
    const metric = (es.metric ?? d.metric) as EarlyStoppingMetric;
    if (!['val-loss', 'micro-f1', 'macro-f1'].includes(metric))
      throw rangeErrorMessage(`Expected 'val-loss' | 'micro-f1' | 'macro-f1' for options.earlyStopping.metric but received ${showValue(es.metric)}`);
    earlyStopping = { patience: es.patience === undefined ? 3 : checkInteger('options.earlyStopping.patience', es.patience, 1, 1e6), metric };
  }
  const th = checkOptions('options.thresholds', o.thresholds);
  rejectUnknownKeys('options.thresholds', th, ['objective', 'perClass', 'minSupport', 'bags']);
  const objective = (th.objective ?? 'micro-f1') as 'micro-f1' | 'macro-f1';
  if (objective !== 'micro-f1' && objective !== 'macro-f1')
    throw rangeErrorMessage(`Expected 'micro-f1' | 'macro-f1' for options.thresholds.objective but received ${showValue(th.objective)}`);
  if (th.perClass !== undefined && typeof th.perClass !== 'boolean') throw typeError('options.thresholds.perClass', 'a boolean', th.perClass);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw typeError('options.onProgress', 'a function', o.onProgress);
  const pretrainEpochs = o.pretrainEpochs === undefined ? 0 : checkInteger('options.pretrainEpochs', o.pretrainEpochs, 0, 100000);
  if (pretrainEpochs > 0 && ngram)
    throw rangeErrorMessage(
      `options.pretrainEpochs (${pretrainEpochs}) needs an encoder model ('tiny' | 'small' | 'base' | an EncoderConfig | { pretrained }); ${auto ? "model 'auto' picks the ensemble or the n-gram model, neither of which has" : model === 'ensemble' ? 'the ensemble has no' : 'the n-gram model has no'} masked-LM pre-training`,
    );
  return {
    model,
    ...(auto ? { modelAuto: { picked: 'ngram', reason: AUTO_NGRAM_REASON } } : {}),
    loss,
    posWeight: posWeight as PosWeightOption,
    posWeightClamp: [clamp[0], clamp[1]],
    epochs: o.epochs === undefined ? d.epochs : checkInteger('options.epochs', o.epochs, 1, 100000),
    batchSize: o.batchSize === undefined ? d.batchSize : checkInteger('options.batchSize', o.batchSize, 1, 65536),
    maxLength: o.maxLength === undefined ? 128 : checkInteger('options.maxLength', o.maxLength, 3, 8192),
    lr: o.lr === undefined ? (ngram ? NGRAM_TRAINING.lr : DEFAULT_LR[presetOf(model as EncoderModelOption)]) : checkNumber('options.lr', o.lr, 0, 10),
    warmupRatio: o.warmupRatio === undefined ? 0.1 : checkNumber('options.warmupRatio', o.warmupRatio, 0, 1),
    weightDecay: o.weightDecay === undefined ? 0.01 : checkNumber('options.weightDecay', o.weightDecay, 0, 10),
    maxGradNorm: o.maxGradNorm === undefined ? 1.0 : checkNumber('options.maxGradNorm', o.maxGradNorm, 0),
    earlyStopping,
    thresholds: {
      objective,
      perClass: th.perClass === undefined ? true : (th.perClass as boolean),
      minSupport: th.minSupport === undefined || th.minSupport === 'auto' ? 'auto' : checkMinSupport(th.minSupport),
      bags: th.bags === undefined ? 20 : checkInteger('options.thresholds.bags', th.bags, 0, 1000),
    },
    preprocess: o.preprocess,
    pretrainEpochs,
    vocabSize: o.vocabSize === undefined ? 8000 : checkInteger('options.vocabSize', o.vocabSize, 16, 1_000_000),
    device: o.device ?? 'auto',
    seed: o.seed === undefined ? 42 : checkInteger('options.seed', o.seed, 0, 2 ** 32 - 1),
    onProgress: o.onProgress,
    batching: checkBatching(o),
  };
}

const AUTO_NGRAM_REASON = 'auto: the hashed n-gram model (over 100,000 training rows the ensemble\'s encoder member would take more than a few minutes on CPU; bench/README.md)';

/** The training rows up to which 'auto' picks the ensemble (measured on GoEmotions, its 598-label variant and the bundled tickets; bench/README.md). */
export const AUTO_ENSEMBLE = { maxRows: 100_000 };

/** What 'auto' picks for a training set: the ensemble up to AUTO_ENSEMBLE.maxRows training rows, else the n-gram model. */
export function autoModelFor(trainRows: number, numLabels: number): { picked: 'ngram' | 'ensemble'; reason: string } {
  if (trainRows <= AUTO_ENSEMBLE.maxRows)
    return {
      picked: 'ensemble',
      reason:
        `auto: the ensemble of the n-gram model and the tiny encoder (${trainRows} training rows, ${numLabels} labels: up to ${AUTO_ENSEMBLE.maxRows} rows ` +
        'the pair measurably beats either alone, in minutes on 2 CPU cores; bench/README.md)',
    };
  return { picked: 'ngram', reason: AUTO_NGRAM_REASON };
}

/**
 * The tiny encoder's defaults as an ensemble member (measured on GoEmotions, bench/README.md): the
 * n-gram model's loss and positive weights, 5 epochs of 32 rows at most 64 tokens, the epoch kept by
 * validation macro-F1. Options the caller gave apply to every member instead.
 */
const ENSEMBLE_TINY: TrainerOptions = { loss: 'asl', posWeight: 'sqrt-neg-pos', epochs: 5, batchSize: 32, maxLength: 64, earlyStopping: { metric: 'macro-f1' } };

function checkMinSupport(v: unknown): number {
  if (typeof v !== 'number') throw typeError('options.thresholds.minSupport', "an integer >= 0 or 'auto'", v);
  return checkInteger('options.thresholds.minSupport', v, 0);
}

/** The member's early-stopping options with the caller's fields over them, not replacing them (a caller's `{ patience }` keeps the member's metric). */
function mergedObjects(member: TrainerOptions, user: TrainerOptions): TrainerOptions {
  const out: TrainerOptions = {};
  if (member.earlyStopping && user.earlyStopping) out.earlyStopping = { ...member.earlyStopping, ...user.earlyStopping };
  return out;
}

/** The members of model 'ensemble' for a label count and the options each trains with (the caller's options over each member's defaults). */
export function ensembleMembers(user: TrainerOptions, numLabels: number): { name: string; weight: number; options: ResolvedTrainerOptions }[] {
  // undefined options are unset, not a reason to drop a member's default
  const rest = Object.fromEntries(Object.entries(user).filter(([k, v]) => v !== undefined && k !== 'onProgress' && k !== 'model')) as TrainerOptions;
  return [
    { name: 'ngram', weight: 0.5, options: resolveOptions({ epochs: ngramEpochsFor(numLabels), ...rest, model: 'ngram' }) },
    { name: 'tiny', weight: 0.5, options: resolveOptions({ ...ENSEMBLE_TINY, ...rest, ...mergedObjects(ENSEMBLE_TINY, rest), model: 'tiny' }) },
  ];
}

/** The bceWithLogits options of a loss preset (lib/loss_contract.ts) or of the caller's options, with posWeight. */
export function lossOptionsFor(
  loss: LossPreset | LossOptions,
  counts: Float64Array | Float32Array | number[],
  trainSize: number,
  posWeight?: Float32Array,
): LossOptions {
  const opts = typeof loss === 'string' ? presetLossOptions(loss, counts, trainSize) : { ...loss };
  if (posWeight) opts.posWeight = posWeight;
  return opts;
}

