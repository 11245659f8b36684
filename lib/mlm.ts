/**
 * Task-adaptive masked-language-model pre-training of the encoder on a task's own texts (BERT's
 * objective): the masking of a batch, the pre-training loop, the masked-LM model directory
 * (BertForMaskedLM / DistilBertForMaskedLM with Hugging Face names, which `{ pretrained: DIR }` loads)
 * and the classification encoder that starts from a pre-trained one (`Trainer({ pretrainEpochs })`).
 */
import { join } from 'node:path';
import { Encoder, type Batch } from './encoder.js';
import type { EncoderConfig } from './encoder_config.js';
import { MODEL_PRESETS, EncoderTextModel, isEncoderModelOption, type EncoderModelOption, type ModelPreset } from './encoder_model.js';
import { checkInteger, checkNumber, checkOptions, rangeErrorMessage, rejectUnknownKeys, typeError } from './errors.js';
import { assertReplaceable, locateModelDir, readConfigJson, saveDirAtomic, writeJsonAtomic, OWNED_FILES, MODEL_FORMAT } from './model_dir.js';
import { mulberry32 } from './random.js';
import { version } from './device.js';
import type { DeviceOption } from './device.js';
import { Tokenizer, tokenCounts } from './tokenizer.js';
import { lengthBucketedOrder, scheduledLr, shuffledOrder } from './training.js';
import type { BatchingOptions } from './request_queue.js';
import type { BuildSpec } from './text_model.js';
import type { ProgressEvent, TrainerOptions } from './trainer_options.js';

/** Labels of the positions that are not predicted (PyTorch's ignore_index). */
export const IGNORE_INDEX = -100;

export interface MaskingSpec {
  vocabSize: number;
  maskId: number;
  /** ids never chosen ([CLS], [SEP], [PAD], [MASK]) */
  specialIds: readonly number[];
  /** share of the real, non-special tokens chosen (BERT: 0.15) */
  probability: number;
}

/**
 * BERT's masking of a padded batch, as transformers' DataCollatorForLanguageModeling: each real,
 * non-special token is chosen with `probability`; a chosen token's label is its id (others: -100) and
 * its input becomes [MASK] (80%), a token drawn uniformly from the vocabulary (10%) or stays (10%).
 * One difference: a batch where no token was chosen gets one (drawn uniformly), so no step is wasted.
 * Deterministic for a given `random`.
 */
export function maskBatch(inputIds: Int32Array, attentionMask: Uint8Array, spec: MaskingSpec, random: () => number): { inputIds: Int32Array; labels: Int32Array; count: number } {
  const ids = inputIds.slice();
  const labels = new Int32Array(ids.length).fill(IGNORE_INDEX);
  const special = new Set(spec.specialIds);
  const candidates: number[] = [];
  for (let i = 0; i < ids.length; i++) if (attentionMask[i] === 1 && !special.has(ids[i])) candidates.push(i);
  let chosen = candidates.filter(() => random() < spec.probability);
  if (chosen.length === 0 && candidates.length > 0) chosen = [candidates[Math.floor(random() * candidates.length)]];
  for (const i of chosen) {
    labels[i] = ids[i];
    const r = random();
    if (r < 0.8) ids[i] = spec.maskId;
    else if (r < 0.9) ids[i] = Math.floor(random() * spec.vocabSize);
  }
  return { inputIds: ids, labels, count: chosen.length };
}

/**
 * Pre-training progress, with ProgressEvent's fields (loss: the epoch's mean masked-LM loss so far):
 * phase 'step' after every optimizer step, 'epoch' at the end of each epoch.
 */
export type PretrainProgress = Omit<ProgressEvent, 'phase' | 'valLoss' | 'valMicroF1' | 'valMacroF1'> & { phase: 'step' | 'epoch' };

/**
 * What `pretrain` takes. The options shared with TrainerOptions mean the same, with pre-training's
 * defaults: epochs 3, batchSize 32, maxLength 128, lr 1e-3 tiny / 5e-4 small / 1e-4 base / 5e-5
 * pretrained (linear warm-up over warmupRatio 0.1, then linear decay), weightDecay 0.01, maxGradNorm 1,
 * vocabSize 8000 (when a tokenizer is trained), seed 42 (initialisation, shuffling, masking, dropout).
 */
export interface PretrainOptions
  extends Pick<TrainerOptions, 'epochs' | 'batchSize' | 'maxLength' | 'lr' | 'warmupRatio' | 'weightDecay' | 'maxGradNorm' | 'vocabSize' | 'device' | 'seed' | 'maxBatchSize' | 'maxWaitMs'> {
  /** the texts to pre-train on (the task's own, labelled or not) */
  texts: readonly string[];
  /** 'tiny' (default) | 'small' | 'base' | an EncoderConfig (a tokenizer is trained on the texts) | { pretrained: dir or 'hf:ORG/NAME' } (more pre-training of that model, with its tokenizer) */
  model?: EncoderModelOption;
  /** share of the real, non-special tokens chosen per batch (default 0.15) */
  maskProbability?: number;
  onProgress?: (p: PretrainProgress) => void;
}

export const PRETRAIN_LR: Record<ModelPreset | 'pretrained', number> = { tiny: 1e-3, small: 5e-4, base: 1e-4, pretrained: 5e-5 };

const KEYS = [
  'texts', 'model', 'epochs', 'batchSize', 'maxLength', 'lr', 'warmupRatio', 'weightDecay', 'maxGradNorm', 'maskProbability', 'vocabSize',
  'device', 'seed', 'onProgress', 'maxBatchSize', 'maxWaitMs',
] as const;

type Resolved = Required<Omit<PretrainOptions, 'onProgress' | 'maxBatchSize' | 'maxWaitMs'>> & Pick<PretrainOptions, 'onProgress' | 'maxBatchSize' | 'maxWaitMs'>;

/** Checks pretrain options (ERR_INVALID_ARG naming options.x) and fills in the defaults. */
export function resolvePretrainOptions(options: unknown): Resolved {
  const o = checkOptions('options', options) as unknown as PretrainOptions;
  rejectUnknownKeys('pretrain options', o, KEYS);
  if (!Array.isArray(o.texts) || !o.texts.every((t) => typeof t === 'string')) throw typeError('options.texts', 'an array of strings', o.texts);
  if (o.texts.length === 0) throw rangeErrorMessage('Expected at least one text in options.texts but received none');
  const model = o.model ?? 'tiny';
  if (!isEncoderModelOption(model)) throw typeError('options.model', "'tiny' | 'small' | 'base' | an EncoderConfig | { pretrained: dir or 'hf:ORG/NAME' }", model);
  const preset = typeof model === 'string' ? model : 'pretrained' in model ? 'pretrained' : (model.hiddenSize ?? 0) >= 512 ? 'base' : 'tiny';
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw typeError('options.onProgress', 'a function', o.onProgress);
  return {
    texts: o.texts,
    model,
    epochs: o.epochs === undefined ? 3 : checkInteger('options.epochs', o.epochs, 1, 100000),
    batchSize: o.batchSize === undefined ? 32 : checkInteger('options.batchSize', o.batchSize, 1, 65536),
    maxLength: o.maxLength === undefined ? 128 : checkInteger('options.maxLength', o.maxLength, 3, 8192),
    lr: o.lr === undefined ? PRETRAIN_LR[preset] : checkNumber('options.lr', o.lr, 0, 10),
    warmupRatio: o.warmupRatio === undefined ? 0.1 : checkNumber('options.warmupRatio', o.warmupRatio, 0, 1),
    weightDecay: o.weightDecay === undefined ? 0.01 : checkNumber('options.weightDecay', o.weightDecay, 0, 10),
    maxGradNorm: o.maxGradNorm === undefined ? 1 : checkNumber('options.maxGradNorm', o.maxGradNorm, 0),
    maskProbability: o.maskProbability === undefined ? 0.15 : checkNumber('options.maskProbability', o.maskProbability, 1e-6, 1),
    vocabSize: o.vocabSize === undefined ? 8000 : checkInteger('options.vocabSize', o.vocabSize, 16, 1_000_000),
    device: o.device ?? 'auto',
    seed: o.seed === undefined ? 42 : checkInteger('options.seed', o.seed, 0, 2 ** 32 - 1),
    onProgress: o.onProgress,
    maxBatchSize: o.maxBatchSize,
    maxWaitMs: o.maxWaitMs,
  };
}

/** A masked-LM encoder with its tokenizer, and the per-epoch mean losses of its pre-training. */
export interface MaskedLm {
  encoder: Encoder;
  tokenizer: Tokenizer;
  history: { epoch: number; loss: number; maskedTokens: number; seconds: number }[];
  seconds: number;
}

async function buildMaskedLm(o: Resolved): Promise<{ encoder: Encoder; tokenizer: Tokenizer }> {
  const enc = { device: o.device, seed: o.seed };
  if (typeof o.model === 'object' && 'pretrained' in o.model) {
    const dir = await locateModelDir(o.model.pretrained, 'options.model.pretrained');
    const tokenizer = await Tokenizer.fromPretrained(dir);
    return { tokenizer, encoder: await Encoder.fromPretrained(dir, { ...enc, head: 'masked-lm' }) };
  }
  const tokenizer = Tokenizer.train(o.texts, { vocabSize: o.vocabSize });
  const base = typeof o.model === 'string' ? MODEL_PRESETS[o.model] : o.model;
  const config = { ...MODEL_PRESETS.tiny, ...base, vocabSize: tokenizer.vocabSize, numLabels: 1, head: 'masked-lm' } as EncoderConfig;
  return { tokenizer, encoder: await Encoder.create(config, enc) };
}

/** Pre-trains (options checked first; see PretrainOptions) and returns the masked-LM encoder in memory. */
export async function pretrainMaskedLm(options: PretrainOptions): Promise<MaskedLm> {
  const o = resolvePretrainOptions(options);
  const started = Date.now();
  const { encoder, tokenizer } = await buildMaskedLm(o);
  try {
    if (tokenizer.maskId < 0) throw rangeErrorMessage('The tokenizer has no [MASK] token: masked-LM pre-training needs one');
    const spec: MaskingSpec = {
      vocabSize: encoder.config.vocabSize,
      maskId: tokenizer.maskId,
      specialIds: [tokenizer.clsId, tokenizer.sepId, tokenizer.padId, tokenizer.maskId].filter((x) => x >= 0),
      probability: o.maskProbability,
    };
    const N = o.texts.length;
    const perEpoch = Math.ceil(N / o.batchSize);
    const total = perEpoch * o.epochs;
    const warmup = Math.floor(o.warmupRatio * total);
    const random = mulberry32((o.seed ^ 0x5bd1e995) >>> 0);
    const history: MaskedLm['history'] = [];
    let step = 0;
    // texts of similar length batched together, as the trainer does (training.ts lengthBucketedOrder)
    const maxLength = Math.min(o.maxLength, encoder.config.maxPositions);
    const lengths = tokenCounts(tokenizer, o.texts, maxLength);
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const t0 = Date.now();
      const order = lengthBucketedOrder(shuffledOrder(N, o.seed, epoch), lengths, o.batchSize, o.seed, epoch);
      let sum = 0, tokens = 0, seen = 0;
      for (let s = 0; s < N; s += o.batchSize) {
        const texts = Array.from(order.subarray(s, Math.min(N, s + o.batchSize)), (i) => o.texts[i]);
        const enc = tokenizer.encodeBatch(texts, { maxLength, padding: 'longest', truncation: true });
        const m = maskBatch(enc.inputIds, enc.attentionMask, spec, random);
        const batch: Batch = { inputIds: m.inputIds, attentionMask: enc.attentionMask, tokenTypeIds: enc.tokenTypeIds, batchSize: enc.batchSize, seqLen: enc.seqLen };
        const lr = scheduledLr(o.lr, step, warmup, total);
        const r = await encoder.mlmStep(batch, m.labels, { lr, weightDecay: o.weightDecay, maxGradNorm: o.maxGradNorm });
        step++;
        sum += r.loss * r.count;
        tokens += r.count;
        seen += texts.length;
        const elapsed = (Date.now() - t0) / 1000;
        const rate = seen / Math.max(elapsed, 1e-3);
        o.onProgress?.({ phase: 'step', step, totalSteps: total, epoch, epochs: o.epochs, loss: sum / Math.max(tokens, 1), examplesPerSec: rate, etaSec: ((total - step) * o.batchSize) / rate, lr });
      }
      history.push({ epoch, loss: sum / Math.max(tokens, 1), maskedTokens: tokens, seconds: (Date.now() - t0) / 1000 });
      o.onProgress?.({ phase: 'epoch', step, totalSteps: total, epoch, epochs: o.epochs, loss: sum / Math.max(tokens, 1), examplesPerSec: seen / Math.max((Date.now() - t0) / 1000, 1e-3), etaSec: 0, lr: 0 });
    }
    return { encoder, tokenizer, history, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    encoder.dispose();
    throw err;
  }
}

/**
 * Writes a masked-LM model directory atomically: config.json (BertForMaskedLM / DistilBertForMaskedLM,
 * with the writer's marker), model.safetensors (Hugging Face names; the tied decoder is the word
 * embeddings, as transformers saves it), vocab.txt, tokenizer_config.json and pretraining.json.
 */
export async function saveMaskedLmDir(dir: string, m: MaskedLm, options: Record<string, unknown>): Promise<void> {
  await saveDirAtomic(
    dir,
    async (tmp) => {
      await m.encoder.save(tmp);
      m.tokenizer.save(tmp);
      writeJsonAtomic(join(tmp, 'config.json'), { ...readConfigJson(tmp), fused_multilabel: { version, format: MODEL_FORMAT, pretraining: 'masked-lm' } });
      writeJsonAtomic(join(tmp, 'pretraining.json'), { objective: 'masked-lm', options, history: m.history, seconds: m.seconds });
    },
    {},
    OWNED_FILES,
  );
}

/**
 * Pre-trains an encoder with BERT's masked-LM objective on `options.texts` and writes it to `dir` as a
 * Hugging Face masked-LM directory (`{ pretrained: dir }` fine-tunes from it). Every option is checked
 * before the work starts.
 */
export async function pretrain(dir: string, options: PretrainOptions): Promise<{ dir: string; history: MaskedLm['history']; seconds: number }> {
  if (typeof dir !== 'string' || dir === '') throw typeError('dir', 'a directory path string', dir);
  assertReplaceable(dir);
  const m = await pretrainMaskedLm(options);
  try {
    const o = resolvePretrainOptions(options);
    const { texts: _t, onProgress: _p, ...recorded } = o;
    await saveMaskedLmDir(dir, m, { ...recorded, texts: o.texts.length });
    return { dir, history: m.history, seconds: m.seconds };
  } finally {
    m.encoder.dispose();
  }
}

/** The classification encoder that starts from a pre-trained masked-LM one (same weights; a fresh pooler and classifier). */
async function classifierFromMaskedLm(m: MaskedLm, numLabels: number, maxLength: number, seed: number, batching: Required<BatchingOptions>): Promise<EncoderTextModel> {
  const { head: _h, ...config } = m.encoder.config;
  const enc = await Encoder.create({ ...config, numLabels }, { device: m.encoder.device, seed, ...batching });
  const shapes = enc.parameterShapes();
  enc.setParameters(new Map([...m.encoder.parameters()].filter(([name]) => shapes.has(name))));
  return new EncoderTextModel(enc, m.tokenizer, maxLength);
}

/**
 * The model `Trainer({ pretrainEpochs })` fine-tunes: the encoder of `spec.model`, pre-trained with the
 * masked-LM objective on the training texts for `epochs` epochs, with a fresh classification head.
 */
export async function pretrainedEncoderModel(spec: BuildSpec, epochs: number, batchSize: number, onProgress?: (p: ProgressEvent) => void): Promise<EncoderTextModel> {
  const m = await pretrainMaskedLm({
    texts: spec.trainTexts, model: spec.model as EncoderModelOption, epochs, batchSize, maxLength: spec.maxLength, vocabSize: spec.vocabSize,
    device: spec.device, seed: spec.seed,
    onProgress: onProgress && ((p) => onProgress({ ...p, phase: p.phase === 'step' ? 'pretrain' : 'pretrain-epoch' })),
  });
  try {
    return await classifierFromMaskedLm(m, spec.labels.length, spec.maxLength, spec.seed, spec.batching);
  } finally {
    m.encoder.dispose();
  }
}
