/**
 * The model abstraction under Classifier and Trainer. A `TextModel` maps (preprocessed) texts to one
 * logit per label; a `TrainableTextModel` also takes optimizer steps on a batch of texts. The Classifier
 * owns everything around a model (preprocessing, batching and queueing, sigmoid, thresholds, metrics);
 * the training loop (training.ts) drives any trainable model. Today's implementation is the encoder with
 * its WordPiece tokenizer (encoder_model.ts); another architecture implements these two interfaces, gets a
 * `model_type` in config.json, and one case in `loadTextModel` and `buildTrainableModel`.
 */
import { join } from 'node:path';
import { EncoderTextModel, isEncoderModelOption, type EncoderModelOption } from './encoder_model.js';
import { invalidFileError, rangeErrorMessage, typeError } from './errors.js';
import { NGRAM_DEFAULTS, NGRAM_MODEL_TYPE, ngramDefaultsFor, NgramTextModel, checkNgramConfig } from './ngram_model.js';
import type { LossOptions } from './losses.js';
import type { OptimizerOptions } from './optimizer.js';
import type { DeviceOption } from './device.js';
import type { ModelDirContents } from './model_dir.js';
import type { OnnxExportInfo, OnnxExportSpec } from './onnx/export.js';
import { checkBatching, type BatchingOptions } from './request_queue.js';
import { ENSEMBLE_MODEL_TYPE, loadEnsemble } from './ensemble_model.js';

/**
 * The inputs of an exported graph (onnx/model.onnx) for a batch of texts, int64 batchSize × length,
 * row-major: `inputIds` and `attentionMask` (1 for a token or feature, 0 for padding), and for BERT
 * `tokenTypeIds`. An encoder's ids are WordPiece tokens ([CLS] … [SEP]); an n-gram model's are hashed
 * feature ids (a row's features, then padding with id 0; `length` is at least 1).
 */
export interface ModelInputs {
  batchSize: number;
  length: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds?: BigInt64Array;
}

export interface TextModel {
  /** the architecture as config.json's `model_type` names it ('bert', 'distilbert', ...) */
  readonly modelType: string;
  /** outputs per text (the label count) */
  readonly numLabels: number;
  /** tokens per text the model reads (the longer part of a text is cut) */
  readonly maxLength: number;
  /**
   * N×numLabels logits (row-major, input order) for preprocessed texts, at most `batchSize` texts per
   * model call. A row's logits do not depend on the other texts of the call. Concurrent calls are
   * allowed (the model queues and batches them; each gets exactly its rows).
   */
  logits(texts: readonly string[], options?: { batchSize?: number }): Promise<Float32Array>;
  /** Writes the model's files (config.json with the architecture, weights, tokenizer files) into `dir`. */
  save(dir: string, labels: readonly string[]): Promise<void>;
  /** Writes an ONNX export of the model into `dir` (lib/onnx/export.ts); absent when the model has none. */
  writeOnnx?(dir: string, spec: OnnxExportSpec): Promise<OnnxExportInfo>;
  /** The inputs the ONNX export's graph takes for preprocessed texts (absent with writeOnnx). */
  graphInputs?(texts: readonly string[]): ModelInputs;
  /** Frees the model's memory; later calls reject with ERR_DISPOSED. */
  dispose(): void;
  readonly disposed: boolean;
}

export interface TrainableTextModel extends TextModel {
  /** One optimizer step on a batch: `targets` is N×numLabels Int8 (-1 = unknown, masked out). */
  trainStep(texts: readonly string[], targets: Int8Array, loss: LossOptions, optimizer: OptimizerOptions): Promise<{ loss: number; gradNorm: number }>;
  /** A copy of the trained state (the best epoch is kept this way) and its restore. */
  snapshot(): unknown;
  restore(snapshot: unknown): void;
  /**
   * What each text costs in a batch that is padded to its longest text (the encoder: its token count,
   * special tokens included, cut at maxLength). When given, training batches texts of similar length
   * together (training.ts lengthBucketedOrder); a model whose steps cost the same whatever the lengths
   * leaves it out and gets plain shuffled batches.
   */
  batchLengths?(texts: readonly string[]): Uint16Array;
  /** Frees what only training needs (optimizer moments); a later trainStep starts the optimizer afresh. */
  endTraining?(): void;
  /** Vocabulary (or feature) count, for the training statistics. */
  readonly vocabSize: number;
}

/** The n-gram model (ngram_model.ts), with its defaults or some settings changed. */
export type NgramModelOption = 'ngram' | { ngram: Partial<import('./ngram_model.js').NgramConfig> };

/**
 * What a Trainer's `model` option may be ('auto' is resolved by trainer_options.ts). 'ensemble': the
 * n-gram model and the tiny encoder, trained one after the other, their logits averaged (ensemble_model.ts).
 */
export type ModelOption = EncoderModelOption | NgramModelOption | 'ensemble';

export function isNgramOption(model: unknown): model is NgramModelOption {
  return model === 'ngram' || (!!model && typeof model === 'object' && 'ngram' in model);
}

/** Checks a `model` option (throws ERR_INVALID_ARG naming options.model). */
export function checkModelOption(model: unknown): ModelOption {
  const expected = "'auto' | 'ngram' | 'tiny' | 'small' | 'base' | 'ensemble' | { ngram: NgramConfig } | an EncoderConfig | { pretrained: dir or 'hf:ORG/NAME' }";
  if (model === 'ensemble') return model;
  if (isNgramOption(model)) {
    if (typeof model === 'object') {
      const block = model.ngram;
      if (!block || typeof block !== 'object' || Array.isArray(block)) throw typeError('options.model.ngram', 'an object of n-gram settings', block);
      checkNgramConfig({ ...NGRAM_DEFAULTS, ...block }, 'options.model.ngram', (f, exp) =>
        typeError(f, exp, f.split('.').slice(3).reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], block)));
    }
    return model;
  }
  if (typeof model === 'string' && !isEncoderModelOption(model)) throw rangeErrorMessage(`Expected ${expected} for options.model but received "${model}"`);
  if (model && typeof model === 'object' && 'pretrained' in model && typeof model.pretrained !== 'string')
    throw typeError('options.model.pretrained', "a directory path or a Hub id 'hf:ORG/NAME'", model.pretrained);
  if (!isEncoderModelOption(model)) throw typeError('options.model', expected, model);
  return model;
}

export interface BuildSpec {
  model: ModelOption;
  labels: readonly string[];
  /** preprocessed training texts (a tokenizer learns its vocabulary from them) */
  trainTexts: readonly string[];
  vocabSize: number;
  maxLength: number;
  device: DeviceOption;
  seed: number;
  /** how the model's queue merges concurrent inference calls */
  batching: Required<BatchingOptions>;
}

/** A fresh (or pretrained) trainable model for the `model` option. */
export async function buildTrainableModel(spec: BuildSpec): Promise<TrainableTextModel> {
  if (isNgramOption(spec.model)) {
    // many labels get a direct path (measured: 598 labels, bench/README.md)
    const config = { ...ngramDefaultsFor(spec.labels.length), ...(typeof spec.model === 'object' ? spec.model.ngram : {}) };
    // rows past the bag's bucket count would never be used (ids mod direct = ids)
    config.direct = Math.min(config.direct, config.buckets);
    return NgramTextModel.create(config, spec.labels.length, spec.seed, spec.batching);
  }
  return EncoderTextModel.build(spec as BuildSpec & { model: EncoderModelOption });
}

/** How to load a model: the device, and how concurrent inference calls are batched (request_queue.ts). */
export interface LoadOptions extends BatchingOptions {
  device: DeviceOption;
}

/**
 * Loads the model of a checked model directory, dispatching on config.json's `model_type`. A type this
 * version cannot read is ERR_INVALID_FILE naming the field.
 */
export async function loadTextModel(contents: ModelDirContents, options: LoadOptions): Promise<TextModel> {
  switch (contents.modelType) {
    case 'bert':
    case 'distilbert':
      return EncoderTextModel.load(contents, options);
    case NGRAM_MODEL_TYPE:
      return NgramTextModel.load(contents, checkBatching(options));
    case ENSEMBLE_MODEL_TYPE:
      return loadEnsemble(contents, (member) => loadTextModel(member, options));
    default:
      throw invalidFileError(
        join(contents.dir, 'config.json'),
        `model_type ${JSON.stringify(contents.modelType)} is not a model this version of fused-multilabel reads (bert, distilbert, ${NGRAM_MODEL_TYPE}, ${ENSEMBLE_MODEL_TYPE})`,
      );
  }
}

/** Sigmoid probabilities of logits (the numerically safe form for either sign). */
export function sigmoidOf(logits: Float32Array): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    out[i] = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }
  return out;
}
