/**
 * Trainer and Classifier: the end-to-end path from labelled rows to a saved, tuned multi-label classifier.
 *
 * Thin on purpose: the heavy work (forward, fused loss, backward, clipping, AdamW) is one native
 * `encoder.trainStep` per batch, which runs off the event loop. This file holds the choices around it:
 * model presets, the tokenizer (trained on the training texts, or a pretrained vocab.txt), the loss and
 * its class statistics, the learning-rate schedule (linear warm-up, linear decay), the per-epoch shuffle,
 * validation, early stopping with the best checkpoint kept, threshold tuning and the model directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encoder, type EncoderConfig } from './encoder.js';
import { Tokenizer } from './tokenizer.js';
import { encodeTargets, labelCounts, preprocess as preprocessText, type PreprocessOptions } from './data.js';
import { bceWithLogits, posWeightFromCounts, type LossOptions } from './losses.js';
import { evaluate as evaluateMetrics, type EvaluateResult } from './metrics.js';
import { tuneThresholds } from './thresholds.js';
import { checkInteger, checkNumber, checkOptions, codedError, rangeErrorMessage, rejectUnknownKeys, typeError } from './errors.js';
import { labelConfig, readModelDir, saveDirAtomic, writeJsonDurable, type ThresholdsFile } from './model_dir.js';
import { version } from './device.js';
import type { DeviceOption } from './device.js';
import { mulberry32 } from './random.js';

/** One example: its text, its positive labels and (partially annotated rows) the labels known to be absent. */
export interface TrainRow {
  text: string;
  labels: string[];
  negatives?: string[];
}

/** Rows, or a dataset as readDataset returns it (its labelSet fixes the label order). */
export type TrainData = readonly TrainRow[] | { rows: readonly TrainRow[]; labelSet?: readonly string[] };

export type ModelPreset = 'tiny' | 'small' | 'base';
export type ModelOption = ModelPreset | Partial<EncoderConfig> | { pretrained: string };
export type LossPreset = 'bce' | 'focal' | 'db' | 'asl';
export type PosWeightOption = 'none' | 'neg-pos' | 'sqrt-neg-pos' | Float32Array;
export type EarlyStoppingMetric = 'val-loss' | 'micro-f1' | 'macro-f1';

export interface ProgressEvent {
  /** 'train' after every optimizer step; 'validate' once per epoch after validation */
  phase: 'train' | 'validate';
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

export interface TrainerOptions {
  model?: ModelOption;
  loss?: LossPreset | LossOptions;
  posWeight?: PosWeightOption;
  posWeightClamp?: [number, number];
  epochs?: number;
  batchSize?: number;
  maxLength?: number;
  lr?: number;
  warmupRatio?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  earlyStopping?: { patience?: number; metric?: EarlyStoppingMetric } | false;
  thresholds?: { objective?: 'micro-f1' | 'macro-f1'; perClass?: boolean; minSupport?: number };
  preprocess?: PreprocessOptions;
  vocabSize?: number;
  device?: DeviceOption;
  seed?: number;
  onProgress?: (p: ProgressEvent) => void;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
  /** validation micro/macro F1 at threshold 0.5 */
  valMicroF1: number | null;
  valMacroF1: number | null;
  lr: number;
  seconds: number;
  examplesPerSec: number;
  gradNorm: number;
}

export interface FitResult {
  epochs: EpochRecord[];
  /** the epoch whose parameters the trainer keeps (1-based) */
  bestEpoch: number;
  stoppedEarly: boolean;
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
  /** target elements marked unknown (-1) by partial annotation */
  unknownTargets: { train: number; val: number };
  partialRows: { train: number; val: number };
  vocabSize: number;
}

export interface EvaluationReport {
  split: string;
  rows: number;
  /** metrics with the tuned thresholds */
  metrics: EvaluateResult;
  /** micro and macro F1 at threshold 0.5, for comparison */
  at05: { micro: EvaluateResult['micro']; macro: EvaluateResult['macro']; labelsWithPositiveF1: number };
  unknownTargets: number;
  thresholds: ThresholdsFile;
}

export interface PredictOptions {
  /** 'tuned' (default): the thresholds tuned on validation; a number: one threshold for every label */
  threshold?: 'tuned' | number;
  /** keep only the K highest-scoring labels (in `labels`, and in `scores`) */
  topK?: number;
  batchSize?: number;
}

export interface Prediction {
  /** labels at or above their threshold, highest score first */
  labels: string[];
  /** sigmoid probability per label */
  scores: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------------

/**
 * Architecture presets. 'base' has BERT-base's dimensions (trained from scratch unless pretrained).
 * 'tiny' and 'small' pool by the mean over tokens: trained from scratch on a few thousand rows, a
 * first-token (pooler) head sits at the label-prior plateau for many epochs before attention learns to
 * route anything to it, while mean pooling learns from the first epoch (measured with the PyTorch twin
 * in bench/torch_train.py). 'base' keeps BERT's pooler so its checkpoints mean the same in transformers.
 */
export const MODEL_PRESETS: Record<ModelPreset, Omit<EncoderConfig, 'vocabSize' | 'numLabels'>> = {
  tiny: { architecture: 'bert', hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 256, maxPositions: 512, typeVocabSize: 2, pooling: 'mean' },
  small: { architecture: 'bert', hiddenSize: 256, numLayers: 4, numHeads: 4, intermediateSize: 1024, maxPositions: 512, typeVocabSize: 2, pooling: 'mean' },
  base: { architecture: 'bert', hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, maxPositions: 512, typeVocabSize: 2 },
} as Record<ModelPreset, Omit<EncoderConfig, 'vocabSize' | 'numLabels'>>;

const DEFAULT_LR: Record<ModelPreset | 'pretrained', number> = { tiny: 2e-3, small: 5e-4, base: 1e-4, pretrained: 5e-5 };

const OPTION_KEYS = [
  'model', 'loss', 'posWeight', 'posWeightClamp', 'epochs', 'batchSize', 'maxLength', 'lr', 'warmupRatio', 'weightDecay',
  'maxGradNorm', 'earlyStopping', 'thresholds', 'preprocess', 'vocabSize', 'device', 'seed', 'onProgress',
] as const;

export function shuffledOrder(n: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const r = mulberry32((seed * 0x9e3779b1 + epoch * 0x85ebca6b) >>> 0);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Linear warm-up to `lr` over `warmup` steps, then linear decay to 0 at `total` (step is 0-based). */
export function scheduledLr(lr: number, step: number, warmup: number, total: number): number {
  if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
  const rest = Math.max(1, total - warmup);
  return lr * Math.max(0, (total - step) / rest);
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function rowsOf(data: TrainData, name: string): { rows: readonly TrainRow[]; labelSet?: readonly string[] } {
  if (Array.isArray(data)) return { rows: data as readonly TrainRow[] };
  if (data && typeof data === 'object' && Array.isArray((data as { rows?: unknown }).rows))
    return data as { rows: readonly TrainRow[]; labelSet?: readonly string[] };
  throw typeError(name, 'an array of { text, labels } rows or a dataset { rows, labelSet }', data);
}

function checkRows(rows: readonly TrainRow[], name: string): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!r || typeof r.text !== 'string' || !Array.isArray(r.labels))
      throw typeError(`${name}[${i}]`, 'a row { text: string, labels: string[] }', r);
  }
}

function isPartial(rows: readonly TrainRow[]): boolean {
  return rows.some((r) => Array.isArray(r.negatives));
}

/** The targets of `rows` as an Int8Array (N×K, -1 = unknown) with the unknown count. */
function targetsOf(rows: readonly TrainRow[], labels: readonly string[]): { targets: Int8Array; unknown: number; partialRows: number } {
  const t = encodeTargets(rows as TrainRow[], labels as string[]) as unknown as ArrayLike<number>;
  const targets = t instanceof Int8Array ? t : Int8Array.from(t as ArrayLike<number>);
  let unknown = 0;
  for (let i = 0; i < targets.length; i++) if (targets[i] < 0) unknown++;
  const partialRows = rows.filter((r) => Array.isArray(r.negatives)).length;
  return { targets, unknown, partialRows };
}

function gatherRows(targets: Int8Array, k: number, idx: ArrayLike<number>, from: number, to: number): Int8Array {
  const out = new Int8Array((to - from) * k);
  for (let i = from; i < to; i++) out.set(targets.subarray(idx[i] * k, idx[i] * k + k), (i - from) * k);
  return out;
}

function thresholdArray(thr: ThresholdsFile, labels: readonly string[], override?: number): Float32Array {
  const out = new Float32Array(labels.length);
  for (let j = 0; j < labels.length; j++) out[j] = override ?? thr.perClass?.[labels[j]] ?? thr.global;
  return out;
}

/** Scores (sigmoid probabilities, N×K) for `texts`, batch by batch, awaiting the encoder each time. */
async function scoreTexts(
  encoder: Encoder,
  tokenizer: Tokenizer,
  texts: readonly string[],
  opts: { maxLength: number; batchSize: number; preprocess?: PreprocessOptions; numLabels: number },
  collectLogits?: Float32Array,
): Promise<Float32Array> {
  const k = opts.numLabels;
  const probs = new Float32Array(texts.length * k);
  for (let b = 0; b < texts.length; b += opts.batchSize) {
    const chunk = texts.slice(b, b + opts.batchSize).map((t) => (opts.preprocess ? preprocessText(t, opts.preprocess) : t));
    const batch = tokenizer.encodeBatch(chunk, { maxLength: opts.maxLength, padding: 'longest', truncation: true });
    const logits = await encoder.forward(batch, { train: false });
    collectLogits?.set(logits, b * k);
    for (let i = 0; i < logits.length; i++) probs[b * k + i] = sigmoid(logits[i]);
  }
  return probs;
}

function predictionsFrom(probs: Float32Array, labels: readonly string[], thresholds: Float32Array, topK?: number): Prediction[] {
  const k = labels.length;
  const n = probs.length / k;
  const out: Prediction[] = [];
  for (let i = 0; i < n; i++) {
    const row = probs.subarray(i * k, i * k + k);
    let order = Array.from({ length: k }, (_, j) => j).sort((a, b) => row[b] - row[a] || a - b);
    if (topK !== undefined) order = order.slice(0, topK);
    const scores: Record<string, number> = {};
    const picked: string[] = [];
    for (const j of order) {
      scores[labels[j]] = row[j];
      if (row[j] >= thresholds[j]) picked.push(labels[j]);
    }
    out.push({ labels: picked, scores });
  }
  return out;
}

function checkPredictOptions(options: unknown, k: number): { threshold: 'tuned' | number; topK?: number; batchSize: number } {
  const o = checkOptions('options', options);
  rejectUnknownKeys('predict options', o, ['threshold', 'topK', 'batchSize']);
  const threshold = o.threshold ?? 'tuned';
  if (threshold !== 'tuned') checkNumber('options.threshold', threshold, 0, 1);
  const topK = o.topK === undefined ? undefined : checkInteger('options.topK', o.topK, 1, Math.max(1, k));
  const batchSize = o.batchSize === undefined ? 64 : checkInteger('options.batchSize', o.batchSize, 1, 65536);
  return { threshold: threshold as 'tuned' | number, topK, batchSize };
}

function checkTexts(texts: unknown): string[] {
  if (!Array.isArray(texts)) throw typeError('texts', 'an array of strings', texts);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw typeError(`texts[${i}]`, 'a string', t);
  });
  return texts as string[];
}

function summary(m: EvaluateResult) {
  return { micro: m.micro, macro: m.macro, labelsWithPositiveF1: m.labelsWithPositiveF1 };
}

// ---------------------------------------------------------------------------------------------------

interface Resolved {
  model: ModelOption;
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
  thresholds: { objective: 'micro-f1' | 'macro-f1'; perClass: boolean; minSupport?: number };
  preprocess?: PreprocessOptions;
  vocabSize: number;
  device: DeviceOption;
  seed: number;
  onProgress?: (p: ProgressEvent) => void;
}

function resolveOptions(options: unknown): Resolved {
  const o = checkOptions('options', options) as TrainerOptions;
  rejectUnknownKeys('Trainer options', o, OPTION_KEYS);
  const model = o.model ?? 'tiny';
  if (typeof model === 'string') {
    if (!(model in MODEL_PRESETS)) throw rangeErrorMessage(`Expected 'tiny' | 'small' | 'base' | an EncoderConfig | { pretrained: dir } for options.model but received "${model}"`);
  } else if (!model || typeof model !== 'object') throw typeError('options.model', "'tiny' | 'small' | 'base' | an EncoderConfig | { pretrained: dir }", model);
  else if ('pretrained' in model && typeof (model as { pretrained: unknown }).pretrained !== 'string')
    throw typeError('options.model.pretrained', 'a directory path', (model as { pretrained: unknown }).pretrained);
  const loss = o.loss ?? 'bce';
  if (typeof loss === 'string' && !['bce', 'focal', 'db', 'asl'].includes(loss))
    throw rangeErrorMessage(`Expected 'bce' | 'focal' | 'db' | 'asl' | a LossOptions object for options.loss but received "${loss}"`);
  if (typeof loss !== 'string' && (loss === null || typeof loss !== 'object')) throw typeError('options.loss', "'bce' | 'focal' | 'db' | 'asl' | LossOptions", loss);
  const posWeight = o.posWeight ?? 'none';
  if (!(posWeight instanceof Float32Array) && !['none', 'neg-pos', 'sqrt-neg-pos'].includes(posWeight as string))
    throw rangeErrorMessage(`Expected 'none' | 'neg-pos' | 'sqrt-neg-pos' | a Float32Array for options.posWeight but received ${JSON.stringify(posWeight)}`);
  const clamp = o.posWeightClamp ?? [0.5, 50];
  if (!Array.isArray(clamp) || clamp.length !== 2 || !(clamp[0] > 0) || !(clamp[1] >= clamp[0]))
    throw typeError('options.posWeightClamp', '[min, max] with 0 < min <= max', clamp);
  const preset: ModelPreset | 'pretrained' =
    typeof model === 'string' ? (model as ModelPreset) : 'pretrained' in model ? 'pretrained' : (model as Partial<EncoderConfig>).hiddenSize && (model as Partial<EncoderConfig>).hiddenSize! >= 512 ? 'base' : 'tiny';
  let earlyStopping: Resolved['earlyStopping'] = { patience: 3, metric: 'val-loss' };
  if (o.earlyStopping === false) earlyStopping = false;
  else if (o.earlyStopping !== undefined) {
    const es = checkOptions('options.earlyStopping', o.earlyStopping);
    rejectUnknownKeys('options.earlyStopping', es, ['patience', 'metric']);
    const metric = (es.metric ?? 'val-loss') as EarlyStoppingMetric;
    if (!['val-loss', 'micro-f1', 'macro-f1'].includes(metric))
      throw rangeErrorMessage(`Expected 'val-loss' | 'micro-f1' | 'macro-f1' for options.earlyStopping.metric but received ${JSON.stringify(es.metric)}`);
    earlyStopping = { patience: es.patience === undefined ? 3 : checkInteger('options.earlyStopping.patience', es.patience, 1, 1e6), metric };
  }
  const th = checkOptions('options.thresholds', o.thresholds);
  rejectUnknownKeys('options.thresholds', th, ['objective', 'perClass', 'minSupport']);
  const objective = (th.objective ?? 'micro-f1') as 'micro-f1' | 'macro-f1';
  if (objective !== 'micro-f1' && objective !== 'macro-f1')
    throw rangeErrorMessage(`Expected 'micro-f1' | 'macro-f1' for options.thresholds.objective but received ${JSON.stringify(th.objective)}`);
  if (th.perClass !== undefined && typeof th.perClass !== 'boolean') throw typeError('options.thresholds.perClass', 'a boolean', th.perClass);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw typeError('options.onProgress', 'a function', o.onProgress);
  return {
    model,
    loss,
    posWeight: posWeight as PosWeightOption,
    posWeightClamp: [clamp[0], clamp[1]],
    epochs: o.epochs === undefined ? 5 : checkInteger('options.epochs', o.epochs, 1, 100000),
    batchSize: o.batchSize === undefined ? 16 : checkInteger('options.batchSize', o.batchSize, 1, 65536),
    maxLength: o.maxLength === undefined ? 128 : checkInteger('options.maxLength', o.maxLength, 3, 8192),
    lr: o.lr === undefined ? DEFAULT_LR[preset] : checkNumber('options.lr', o.lr, 0, 10),
    warmupRatio: o.warmupRatio === undefined ? 0.1 : checkNumber('options.warmupRatio', o.warmupRatio, 0, 1),
    weightDecay: o.weightDecay === undefined ? 0.01 : checkNumber('options.weightDecay', o.weightDecay, 0, 10),
    maxGradNorm: o.maxGradNorm === undefined ? 1.0 : checkNumber('options.maxGradNorm', o.maxGradNorm, 0),
    earlyStopping,
    thresholds: {
      objective,
      perClass: th.perClass === undefined ? true : (th.perClass as boolean),
      minSupport: th.minSupport === undefined ? undefined : checkInteger('options.thresholds.minSupport', th.minSupport, 0),
    },
    preprocess: o.preprocess,
    vocabSize: o.vocabSize === undefined ? 8000 : checkInteger('options.vocabSize', o.vocabSize, 16, 1_000_000),
    device: o.device ?? 'auto',
    seed: o.seed === undefined ? 42 : checkInteger('options.seed', o.seed, 0, 2 ** 32 - 1),
    onProgress: o.onProgress,
  };
}

/** The bceWithLogits options of a loss preset, with class statistics of the training rows. */
export function lossOptionsFor(
  loss: LossPreset | LossOptions,
  counts: Float64Array | Float32Array | number[],
  trainSize: number,
  posWeight?: Float32Array,
): LossOptions {
  let opts: Record<string, unknown> = {};
  if (typeof loss === 'string') {
    switch (loss) {
      case 'bce':
        opts = {};
        break;
      case 'focal':
        opts = { focal: { gamma: 2 } };
        break;
      case 'asl':
        opts = { asymmetric: { gammaPos: 0, gammaNeg: 4, clip: 0.05 } };
        break;
      case 'db': {
        // seed article 002's settings: rebalance map (alpha 0.1, beta 10, mu 0.405), focal (gamma 2,
        // alpha 0.5), logit regularisation (init bias 0.05, negative scale 2). A label with no training
        // positive gets a count of 1 so its weights stay finite.
        const classCounts = Float32Array.from(counts as ArrayLike<number>, (c) => Math.max(1, c));
        opts = {
          distributionBalanced: {
            classCounts,
            trainSize,
            negScale: 2,
            initBias: 0.05,
            rebalance: { alpha: 0.1, beta: 10, mu: 0.405 },
            focal: { gamma: 2, alpha: 0.5 },
          },
        };
        break;
      }
    }
  } else opts = { ...(loss as Record<string, unknown>) };
  if (posWeight) opts.posWeight = posWeight;
  return opts as LossOptions;
}

/** Re-initialises the classification head as BERT does: weights N(0, 0.02) (seeded), bias 0. */
function freshHead(encoder: Encoder, seed: number): void {
  const params = encoder.parameters();
  const w = params.get('classifier.weight');
  const b = params.get('classifier.bias');
  if (!w || !b) return;
  const r = mulberry32((seed ^ 0x5bd1e995) >>> 0);
  for (let i = 0; i < w.length; i += 2) {
    // Box-Muller: two normals per pair of uniforms
    const u1 = Math.max(r(), 1e-12);
    const u2 = r();
    const m = 0.02 * Math.sqrt(-2 * Math.log(u1));
    w[i] = m * Math.cos(2 * Math.PI * u2);
    if (i + 1 < w.length) w[i + 1] = m * Math.sin(2 * Math.PI * u2);
  }
  b.fill(0);
  encoder.setParameters(new Map([['classifier.weight', w], ['classifier.bias', b]]));
}

function encoderConfigFor(model: ModelOption, vocabSize: number, numLabels: number): EncoderConfig {
  const base = typeof model === 'string' ? MODEL_PRESETS[model as ModelPreset] : (model as Partial<EncoderConfig>);
  const cfg = { ...MODEL_PRESETS.tiny, ...base, vocabSize, numLabels } as EncoderConfig;
  return cfg;
}

export class Trainer {
  readonly options: Readonly<Resolved>;
  #encoder: Encoder | null = null;
  #tokenizer: Tokenizer | null = null;
  #labels: string[] = [];
  #thresholds: ThresholdsFile = { global: 0.5, tuned: false };
  #history: FitResult | null = null;
  #trainCounts: Float64Array | null = null;
  #report: EvaluationReport | null = null;
  #valReport: EvaluationReport | null = null;
  #coverage: unknown = null;
  #busy = false;
  #lossOpts: LossOptions | null = null;

  constructor(options: TrainerOptions = {}) {
    this.options = resolveOptions(options);
  }

  get labels(): readonly string[] {
    return this.#labels;
  }
  get encoder(): Encoder | null {
    return this.#encoder;
  }
  get tokenizer(): Tokenizer | null {
    return this.#tokenizer;
  }
  get thresholds(): ThresholdsFile {
    return this.#thresholds;
  }
  get history(): FitResult | null {
    return this.#history;
  }

  /** Split coverage (from iterativeStratifiedSplit) to record in training.json. */
  setSplitCoverage(coverage: unknown): void {
    this.#coverage = coverage;
  }

  /**
   * Trains on `train`, validating on `val` after every epoch. Keeps the best epoch's parameters
   * (early-stopping metric), then tunes the thresholds on validation. Resolves to the history.
   */
  async fit(train: TrainData, val?: TrainData): Promise<FitResult> {
    if (this.#busy) throw codedError('ERR_BUSY', 'Trainer is busy: fit() or evaluate() is already running');
    this.#busy = true;
    try {
      return await this.#fit(train, val);
    } finally {
      this.#busy = false;
    }
  }

  async #fit(trainData: TrainData, valData?: TrainData): Promise<FitResult> {
    const o = this.options;
    const started = Date.now();
    const tr = rowsOf(trainData, 'train');
    checkRows(tr.rows, 'train');
    if (tr.rows.length === 0) throw rangeErrorMessage('Expected at least one training row for train but received 0 rows');
    const va = valData === undefined ? null : rowsOf(valData, 'val');
    if (va) checkRows(va.rows, 'val');

    // label order: the dataset's labelSet when given, else sorted labels of the training rows
    let labels: string[];
    if (tr.labelSet) labels = [...tr.labelSet];
    else {
      const s = new Set<string>();
      for (const r of tr.rows) for (const l of r.labels) s.add(l);
      labels = [...s].sort();
    }
    if (labels.length === 0) throw rangeErrorMessage('Expected at least one label in train but the rows have none');
    if (va) {
      const known = new Set(labels);
      const unseen = new Set<string>();
      for (const r of va.rows) for (const l of r.labels) if (!known.has(l)) unseen.add(l);
      if (unseen.size > 0)
        throw rangeErrorMessage(`val has labels unseen in train: ${[...unseen].slice(0, 10).join(', ')}${unseen.size > 10 ? ', …' : ''}`);
    }
    const K = labels.length;
    this.#labels = labels;

    const prep = (t: string) => (o.preprocess ? preprocessText(t, o.preprocess) : t);
    const trainTexts = tr.rows.map((r) => prep(r.text));
    const valTexts = va ? va.rows.map((r) => prep(r.text)) : [];

    // tokenizer and encoder
    this.#encoder?.dispose();
    this.#encoder = null;
    const model = o.model;
    if (typeof model === 'object' && 'pretrained' in model) {
      const dir = (model as { pretrained: string }).pretrained;
      const vocab = join(dir, 'vocab.txt');
      const tokJson = join(dir, 'tokenizer.json');
      if (existsSync(vocab)) {
        let lowercase = true;
        try {
          const tc = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as { do_lower_case?: boolean };
          if (tc.do_lower_case === false) lowercase = false;
        } catch {
          /* no tokenizer_config.json: BERT uncased default */
        }
        this.#tokenizer = Tokenizer.fromVocab(vocab, { lowercase });
      } else if (existsSync(tokJson)) this.#tokenizer = Tokenizer.fromTokenizerJson(tokJson);
      else throw codedError('ERR_INVALID_FILE', `${dir}: a pretrained model directory needs vocab.txt (or tokenizer.json)`);
      const enc = await Encoder.fromPretrained(dir, { numLabels: K, device: o.device, seed: o.seed });
      this.#encoder = enc;
      if (enc.config.vocabSize < this.#tokenizer.vocabSize)
        throw codedError('ERR_INVALID_FILE', `${dir}: the tokenizer has ${this.#tokenizer.vocabSize} tokens but the model's vocab_size is ${enc.config.vocabSize}`);
      // A head trained for other labels (same count, other names, e.g. LABEL_0..) must not be reused:
      // the encoder keeps a head whose shape fits, so start it afresh here unless the labels are ours.
      const ckptLabels = enc.labels;
      const sameLabels = ckptLabels !== undefined && ckptLabels.length === K && ckptLabels.every((l, j) => l === labels[j]);
      if (!sameLabels) freshHead(enc, o.seed);
    } else {
      this.#tokenizer = Tokenizer.train(trainTexts, { vocabSize: o.vocabSize });
      const cfg = encoderConfigFor(model, this.#tokenizer.vocabSize, K);
      this.#encoder = await Encoder.create(cfg, { device: o.device, seed: o.seed });
    }
    const encoder = this.#encoder;
    const tokenizer = this.#tokenizer;
    const maxLength = Math.min(o.maxLength, encoder.config.maxPositions);

    // targets and class statistics
    const trT = targetsOf(tr.rows, labels);
    const vaT = va ? targetsOf(va.rows, labels) : null;
    const counts = Float64Array.from(labelCounts(tr.rows as TrainRow[], labels) as ArrayLike<number>);
    this.#trainCounts = counts;
    let posWeight: Float32Array | undefined;
    if (o.posWeight instanceof Float32Array) {
      if (o.posWeight.length !== K) throw rangeErrorMessage(`Expected a Float32Array of length ${K} (one per label) for options.posWeight but received length ${o.posWeight.length}`);
      posWeight = o.posWeight;
    } else if (o.posWeight !== 'none') {
      posWeight = posWeightFromCounts(Float32Array.from(counts, (c) => Math.max(1, c)), tr.rows.length, { method: o.posWeight, clamp: o.posWeightClamp });
    }
    const lossOpts = lossOptionsFor(o.loss, counts, tr.rows.length, posWeight);
    this.#lossOpts = lossOpts;

    const N = tr.rows.length;
    const B = o.batchSize;
    const stepsPerEpoch = Math.ceil(N / B);
    const totalSteps = stepsPerEpoch * o.epochs;
    const warmup = Math.floor(o.warmupRatio * totalSteps);
    const records: EpochRecord[] = [];
    const es = va && va.rows.length > 0 ? o.earlyStopping : false;
    let best = { score: -Infinity, epoch: 0 };
    let sinceBest = 0;
    let stoppedEarly = false;
    let bestParams: Map<string, Float32Array> | null = null;
    let bestValProbs: Float32Array | null = null;
    let step = 0;
    const trainStart = Date.now();
    let examplesDone = 0;

    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const epochStart = Date.now();
      const order = shuffledOrder(N, o.seed, epoch);
      let lossSum = 0;
      let lossCount = 0;
      let gradNorm = 0;
      let lr = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const from = s * B;
        const to = Math.min(N, from + B);
        const texts: string[] = [];
        for (let i = from; i < to; i++) texts.push(trainTexts[order[i]]);
        const batch = tokenizer.encodeBatch(texts, { maxLength, padding: 'longest', truncation: true });
        const targets = gatherRows(trT.targets, K, order, from, to);
        lr = scheduledLr(o.lr, step, warmup, totalSteps);
        const r = await encoder.trainStep(batch, targets, lossOpts, { lr, weightDecay: o.weightDecay, decayBiasAndNorm: false, maxGradNorm: o.maxGradNorm });
        if (!Number.isFinite(r.loss))
          throw rangeErrorMessage(`training diverged: the loss is ${r.loss} at epoch ${epoch}, step ${s + 1}; lower options.lr (now ${o.lr})`);
        lossSum += r.loss * (to - from);
        lossCount += to - from;
        gradNorm = r.gradNorm;
        step++;
        examplesDone += to - from;
        if (o.onProgress) {
          const elapsed = (Date.now() - trainStart) / 1000;
          const eps = elapsed > 0 ? examplesDone / elapsed : 0;
          const left = (totalSteps - step) * B;
          o.onProgress({
            phase: 'train', step, totalSteps, epoch, epochs: o.epochs, loss: lossSum / lossCount,
            examplesPerSec: eps, etaSec: eps > 0 ? left / eps : 0, lr,
          });
        }
      }
      const seconds = (Date.now() - epochStart) / 1000;
      const rec: EpochRecord = {
        epoch, trainLoss: lossSum / lossCount, valLoss: null, valMicroF1: null, valMacroF1: null, lr, seconds,
        examplesPerSec: N / Math.max(seconds, 1e-9), gradNorm,
      };
      if (va && vaT && va.rows.length > 0) {
        const logits = new Float32Array(va.rows.length * K);
        const probs = await scoreTexts(encoder, tokenizer, valTexts, { maxLength, batchSize: Math.max(B, 64), numLabels: K }, logits);
        const l = bceWithLogits(logits, vaT.targets, { ...(lossOpts as Record<string, unknown>), shape: [va.rows.length, K], grad: false } as LossOptions);
        rec.valLoss = typeof l.loss === 'number' ? l.loss : NaN;
        const m = evaluateMetrics(vaT.targets, probs, { shape: [va.rows.length, K], threshold: 0.5 });
        rec.valMicroF1 = m.micro.f1;
        rec.valMacroF1 = m.macro.f1;
        let score: number;
        if (!es) score = epoch; // no early stopping: the last epoch is the one kept
        else if (es.metric === 'val-loss') score = -(rec.valLoss as number);
        else {
          // F1 metrics with the thresholds this epoch would get: early stopping should judge what will be used
          const t = tuneThresholds(vaT.targets, probs, { shape: [va.rows.length, K], objective: es.metric, perClass: o.thresholds.perClass, minSupport: o.thresholds.minSupport });
          score = o.thresholds.perClass && t.perClassValue !== undefined ? t.perClassValue : t.value;
        }
        if (score > best.score) {
          best = { score, epoch };
          sinceBest = 0;
          bestValProbs = probs;
          // keep this epoch's parameters (copies in memory; the optimizer state is not needed afterwards)
          if (es && epoch < o.epochs) bestParams = encoder.parameters();
        } else sinceBest++;
        o.onProgress?.({
          phase: 'validate', step, totalSteps, epoch, epochs: o.epochs, loss: rec.trainLoss,
          examplesPerSec: rec.examplesPerSec, etaSec: 0, lr, valLoss: rec.valLoss ?? undefined, valMicroF1: rec.valMicroF1 ?? undefined, valMacroF1: rec.valMacroF1 ?? undefined,
        });
      } else best = { score: 0, epoch };
      records.push(rec);
      if (es && sinceBest >= es.patience && epoch < o.epochs) {
        stoppedEarly = true;
        break;
      }
    }
    // restore the best epoch when a later one was worse
    const last = records[records.length - 1].epoch;
    if (best.epoch !== last && bestParams) encoder.setParameters(bestParams);
    bestParams = null;

    // thresholds tuned on validation
    if (va && vaT && bestValProbs) {
      const t = tuneThresholds(vaT.targets, bestValProbs, {
        shape: [va.rows.length, K], objective: o.thresholds.objective, perClass: o.thresholds.perClass, minSupport: o.thresholds.minSupport,
      });
      const perClass: Record<string, number> | undefined = t.perClass ? Object.fromEntries(labels.map((l, j) => [l, t.perClass![j]])) : undefined;
      this.#thresholds = { global: t.global, perClass, objective: o.thresholds.objective, tuned: true };
      this.#valReport = this.#report = this.#reportFrom('validation', vaT.targets, bestValProbs, va.rows.length, vaT.unknown);
    } else this.#thresholds = { global: 0.5, tuned: false };

    const trainCounts: Record<string, number> = {};
    labels.forEach((l, j) => (trainCounts[l] = counts[j]));
    this.#history = {
      epochs: records,
      bestEpoch: best.epoch,
      stoppedEarly,
      thresholds: this.#thresholds,
      labels,
      data: {
        trainRows: tr.rows.length,
        valRows: va?.rows.length ?? 0,
        labels: K,
        trainCounts,
        unknownTargets: { train: trT.unknown, val: vaT?.unknown ?? 0 },
        partialRows: { train: trT.partialRows, val: vaT?.partialRows ?? 0 },
        vocabSize: tokenizer.vocabSize,
      },
      seconds: (Date.now() - started) / 1000,
    };
    return this.#history;
  }

  #reportFrom(split: string, targets: Int8Array, probs: Float32Array, n: number, unknown: number): EvaluationReport {
    const K = this.#labels.length;
    const thr = thresholdArray(this.#thresholds, this.#labels);
    const metrics = evaluateMetrics(targets, probs, { shape: [n, K], threshold: thr, labelSet: this.#labels, trainCounts: this.#trainCounts ?? undefined });
    const half = evaluateMetrics(targets, probs, { shape: [n, K], threshold: 0.5 });
    return { split, rows: n, metrics, at05: summary(half), unknownTargets: unknown, thresholds: this.#thresholds };
  }

  #ready(): { encoder: Encoder; tokenizer: Tokenizer } {
    if (!this.#encoder || !this.#tokenizer) throw codedError('ERR_INVALID_ARG', 'Trainer has no model yet: call fit() first');
    return { encoder: this.#encoder, tokenizer: this.#tokenizer };
  }

  /** Metrics on `test` with the tuned thresholds (and, for comparison, micro/macro F1 at 0.5). */
  async evaluate(test: TrainData, split = 'test'): Promise<EvaluationReport> {
    const { encoder, tokenizer } = this.#ready();
    const te = rowsOf(test, 'test');
    checkRows(te.rows, 'test');
    const known = new Set(this.#labels);
    const unseen = new Set<string>();
    for (const r of te.rows) for (const l of r.labels) if (!known.has(l)) unseen.add(l);
    if (unseen.size > 0) throw rangeErrorMessage(`${split} has labels unseen at training time: ${[...unseen].slice(0, 10).join(', ')}`);
    const K = this.#labels.length;
    const t = targetsOf(te.rows, this.#labels);
    const probs = await scoreTexts(encoder, tokenizer, te.rows.map((r) => r.text), {
      maxLength: Math.min(this.options.maxLength, encoder.config.maxPositions), batchSize: 64, numLabels: K, preprocess: this.options.preprocess,
    });
    this.#report = this.#reportFrom(split, t.targets, probs, te.rows.length, t.unknown);
    return this.#report;
  }

  /** Predictions of the trained model (the same code path as Classifier.predict). */
  async predict(texts: string[], options?: PredictOptions): Promise<Prediction[]> {
    const { encoder, tokenizer } = this.#ready();
    const list = checkTexts(texts);
    const p = checkPredictOptions(options, this.#labels.length);
    const probs = await scoreTexts(encoder, tokenizer, list, {
      maxLength: Math.min(this.options.maxLength, encoder.config.maxPositions), batchSize: p.batchSize, numLabels: this.#labels.length, preprocess: this.options.preprocess,
    });
    const thr = thresholdArray(this.#thresholds, this.#labels, p.threshold === 'tuned' ? undefined : p.threshold);
    return predictionsFrom(probs, this.#labels, thr, p.topK);
  }

  /** Writes the model directory atomically (see model_dir.ts). */
  async save(dir: string, hooks?: Parameters<typeof saveDirAtomic>[2]): Promise<void> {
    const { encoder, tokenizer } = this.#ready();
    if (typeof dir !== 'string' || dir.length === 0) throw typeError('dir', 'a directory path', dir);
    const o = this.options;
    const maxLength = Math.min(o.maxLength, encoder.config.maxPositions);
    await saveDirAtomic(
      dir,
      async (tmp) => {
        await encoder.save(tmp, { labels: this.#labels });
        const cfg = JSON.parse(readFileSync(join(tmp, 'config.json'), 'utf8')) as Record<string, unknown>;
        writeJsonDurable(join(tmp, 'config.json'), labelConfig(cfg, this.#labels));
        tokenizer.save(tmp);
        // model_max_length and the preprocessing travel with the tokenizer
        const tcPath = join(tmp, 'tokenizer_config.json');
        let tc: Record<string, unknown> = {};
        try {
          tc = JSON.parse(readFileSync(tcPath, 'utf8')) as Record<string, unknown>;
        } catch {
          tc = { tokenizer_class: 'BertTokenizer', do_lower_case: true };
        }
        tc.model_max_length = maxLength;
        if (o.preprocess) tc.fused_multilabel_preprocess = o.preprocess;
        writeJsonDurable(tcPath, tc);
        writeJsonDurable(join(tmp, 'thresholds.json'), this.#thresholds);
        const { onProgress: _p, posWeight, ...opts } = o;
        writeJsonDurable(join(tmp, 'training.json'), {
          fused_multilabel: version,
          options: { ...opts, posWeight: posWeight instanceof Float32Array ? Array.from(posWeight) : posWeight, model: typeof o.model === 'string' ? o.model : o.model },
          encoderConfig: encoder.config,
          history: this.#history,
          splitCoverage: this.#coverage,
        });
        writeJsonDurable(join(tmp, 'report.json'), this.#report ?? {});
      },
      hooks,
    );
  }

  /** Frees the encoder's memory. */
  dispose(): void {
    this.#encoder?.dispose();
    this.#encoder = null;
  }
}

// ---------------------------------------------------------------------------------------------------

/** A trained classifier loaded from a model directory. */
export class Classifier {
  readonly labels: readonly string[];
  readonly dir: string;
  readonly thresholds: ThresholdsFile;
  readonly maxLength: number;
  readonly training: Record<string, unknown> | null;
  readonly report: Record<string, unknown> | null;
  #encoder: Encoder | null;
  #tokenizer: Tokenizer;
  #preprocess?: PreprocessOptions;
  #trainCounts?: Float64Array;

  private constructor(c: ReturnType<typeof readModelDir>, encoder: Encoder, tokenizer: Tokenizer, preprocess?: PreprocessOptions) {
    this.labels = c.labels;
    this.dir = c.dir;
    this.thresholds = c.thresholds;
    this.maxLength = c.maxLength;
    this.training = c.training;
    this.report = c.report;
    this.#encoder = encoder;
    this.#tokenizer = tokenizer;
    this.#preprocess = preprocess;
    const counts = (c.training?.history as FitResult | undefined)?.data?.trainCounts;
    if (counts) this.#trainCounts = Float64Array.from(c.labels, (l) => counts[l] ?? 0);
  }

  /** Loads and cross-checks a model directory written by Trainer.save. */
  static async load(dir: string, options: { device?: DeviceOption } = {}): Promise<Classifier> {
    if (typeof dir !== 'string' || dir.length === 0) throw typeError('dir', 'a model directory path', dir);
    const o = checkOptions('options', options);
    rejectUnknownKeys('Classifier.load options', o, ['device']);
    const c = readModelDir(dir);
    const tokenizer = Tokenizer.fromVocab(join(c.dir, 'vocab.txt'), { lowercase: c.lowercase });
    if (tokenizer.vocabSize !== c.vocabSize)
      throw codedError('ERR_INVALID_FILE', `${join(c.dir, 'vocab.txt')}: tokenizer has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${c.vocabSize}`);
    let preprocess: PreprocessOptions | undefined;
    try {
      const tc = JSON.parse(readFileSync(join(c.dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
      preprocess = tc.fused_multilabel_preprocess as PreprocessOptions | undefined;
    } catch {
      /* checked by readModelDir */
    }
    // no numLabels here: a head of another size must be an error, never a silently fresh head
    const encoder = await Encoder.fromPretrained(c.dir, { device: (o.device as DeviceOption) ?? 'auto' });
    if (encoder.config.numLabels !== c.labels.length) {
      encoder.dispose();
      throw codedError('ERR_INVALID_FILE', `${join(c.dir, 'model.safetensors')}: the encoder has ${encoder.config.numLabels} outputs but config.json lists ${c.labels.length} labels`);
    }
    return new Classifier(c, encoder, tokenizer, preprocess);
  }

  #ready(): Encoder {
    if (!this.#encoder) throw codedError('ERR_DISPOSED', 'Classifier is disposed');
    return this.#encoder;
  }

  /** Probabilities (N×K, row-major, label order of `labels`). */
  async scores(texts: string[], batchSize = 64): Promise<Float32Array> {
    const encoder = this.#ready();
    return scoreTexts(encoder, this.#tokenizer, checkTexts(texts), { maxLength: this.maxLength, batchSize, numLabels: this.labels.length, preprocess: this.#preprocess });
  }

  async predict(texts: string[], options?: PredictOptions): Promise<Prediction[]> {
    const list = checkTexts(texts);
    const p = checkPredictOptions(options, this.labels.length);
    const probs = await this.scores(list, p.batchSize);
    const thr = thresholdArray(this.thresholds, this.labels, p.threshold === 'tuned' ? undefined : p.threshold);
    return predictionsFrom(probs, this.labels, thr, p.topK);
  }

  /** Metrics on labelled rows with the tuned thresholds; labels unknown to the model are an error. */
  async evaluate(data: TrainData, split = 'test'): Promise<EvaluationReport> {
    const te = rowsOf(data, 'data');
    checkRows(te.rows, 'data');
    const known = new Set(this.labels);
    const unseen = new Set<string>();
    for (const r of te.rows) for (const l of [...r.labels, ...(r.negatives ?? [])]) if (!known.has(l)) unseen.add(l);
    if (unseen.size > 0) throw rangeErrorMessage(`labels unseen at training time: ${[...unseen].slice(0, 10).join(', ')}${unseen.size > 10 ? ', …' : ''}`);
    const K = this.labels.length;
    const t = targetsOf(te.rows, this.labels);
    const probs = await this.scores(te.rows.map((r) => r.text));
    const thr = thresholdArray(this.thresholds, this.labels);
    const metrics = evaluateMetrics(t.targets, probs, { shape: [te.rows.length, K], threshold: thr, labelSet: this.labels, trainCounts: this.#trainCounts });
    const half = evaluateMetrics(t.targets, probs, { shape: [te.rows.length, K], threshold: 0.5 });
    return { split, rows: te.rows.length, metrics, at05: summary(half), unknownTargets: t.unknown, thresholds: this.thresholds };
  }

  dispose(): void {
    this.#encoder?.dispose();
    this.#encoder = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
