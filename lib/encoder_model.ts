/**
 * The encoder as a TextModel: a BERT/DistilBERT Encoder with its WordPiece Tokenizer. It owns the
 * architecture presets, building a model for training (a tokenizer learned from the training texts, or a
 * pretrained directory) and loading one from a model directory; `maxLength` is min(requested,
 * maxPositions) here and nowhere else.
 */
import { join } from 'node:path';
import { Encoder } from './encoder.js';
import type { OptimizerOptions } from './optimizer.js';
import type { EncoderConfig } from './encoder_config.js';
import { Tokenizer, tokenCounts } from './tokenizer.js';
import { codedError, invalidFileError } from './errors.js';
import type { LossOptions } from './losses.js';
import { checkEncoderDir, configFromHuggingFace, locateModelDir, readConfigJson, type ModelDirContents } from './model_dir.js';
import type { BuildSpec, LoadOptions, ModelInputs, TrainableTextModel } from './text_model.js';
import { writeEncoderExport, type OnnxExportInfo, type OnnxExportSpec } from './onnx/export.js';
import { callCostTokens, forwardBucketed } from './encoder_batching.js';

export type ModelPreset = 'tiny' | 'small' | 'base';
export type EncoderModelOption = ModelPreset | Partial<EncoderConfig> | { pretrained: string };

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
};

export function isEncoderModelOption(model: unknown): model is EncoderModelOption {
  if (typeof model === 'string') return model in MODEL_PRESETS;
  if (!model || typeof model !== 'object' || Array.isArray(model)) return false;
  if ('pretrained' in model) return typeof (model as { pretrained: unknown }).pretrained === 'string';
  return true;
}

/** The preset whose default learning rate a model option gets. */
export function presetOf(model: EncoderModelOption): ModelPreset | 'pretrained' {
  if (typeof model === 'string') return model;
  if ('pretrained' in model) return 'pretrained';
  return (model.hiddenSize ?? 0) >= 512 ? 'base' : 'tiny';
}

export class EncoderTextModel implements TrainableTextModel {
  readonly encoder: Encoder;
  readonly tokenizer: Tokenizer;
  readonly maxLength: number;

  constructor(encoder: Encoder, tokenizer: Tokenizer, maxLength: number) {
    this.encoder = encoder;
    this.tokenizer = tokenizer;
    this.maxLength = Math.min(maxLength, encoder.config.maxPositions);
  }

  get modelType(): string {
    return this.encoder.config.architecture;
  }
  get numLabels(): number {
    return this.encoder.config.numLabels;
  }
  get vocabSize(): number {
    return this.tokenizer.vocabSize;
  }
  get disposed(): boolean {
    return this.encoder.disposed;
  }

  /** A model to train: a preset or EncoderConfig with a tokenizer learned from the texts, or a pretrained directory. */
  static async build(spec: BuildSpec): Promise<EncoderTextModel> {
    const K = spec.labels.length;
    const model = spec.model as EncoderModelOption;
    if (typeof model === 'object' && 'pretrained' in model) {
      const dir = await locateModelDir(model.pretrained, 'options.model.pretrained');
      const tokenizer = await Tokenizer.fromPretrained(dir);
      // A head trained for other labels (same count, other names, e.g. LABEL_0..) is not reused: it
      // starts from the encoder's own initialisation unless the checkpoint's labels are ours.
      const ckpt = configFromHuggingFace(readConfigJson(dir), K, join(dir, 'config.json')).labels;
      const sameLabels = ckpt !== undefined && ckpt.length === K && ckpt.every((l, j) => l === spec.labels[j]);
      const encoder = await Encoder.fromPretrained(dir, { numLabels: K, device: spec.device, seed: spec.seed, freshHead: !sameLabels, ...spec.batching });
      if (encoder.config.vocabSize < tokenizer.vocabSize) {
        encoder.dispose();
        throw invalidFileError(dir, `the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${encoder.config.vocabSize}`);
      }
      return new EncoderTextModel(encoder, tokenizer, spec.maxLength);
    }
    const tokenizer = Tokenizer.train(spec.trainTexts as string[], { vocabSize: spec.vocabSize });
    const base = typeof model === 'string' ? MODEL_PRESETS[model] : model;
    const config = { ...MODEL_PRESETS.tiny, ...base, vocabSize: tokenizer.vocabSize, numLabels: K } as EncoderConfig;
    return new EncoderTextModel(await Encoder.create(config, { device: spec.device, seed: spec.seed, ...spec.batching }), tokenizer, spec.maxLength);
  }

  /** The model of a checked model directory (readModelDir). */
  static async load(c: ModelDirContents, options: LoadOptions): Promise<EncoderTextModel> {
    const config = checkEncoderDir(c);
    const tokenizer = Tokenizer.fromVocab(join(c.dir, 'vocab.txt'), { lowercase: c.lowercase });
    if (tokenizer.vocabSize !== config.vocabSize)
      throw invalidFileError(join(c.dir, 'vocab.txt'), `has ${tokenizer.vocabSize} tokens but config.json says vocab_size ${config.vocabSize}`);
    // no numLabels here: a head of another size must be an error, never a silently fresh head
    const encoder = await Encoder.fromPretrained(c.dir, options);
    if (encoder.config.numLabels !== c.labels.length) {
      encoder.dispose();
      throw invalidFileError(join(c.dir, 'model.safetensors'), `the encoder has ${encoder.config.numLabels} outputs but config.json lists ${c.labels.length} labels`);
    }
    return new EncoderTextModel(encoder, tokenizer, c.maxLength);
  }

  #batch(texts: readonly string[]) {
    return this.tokenizer.encodeBatch(texts, { maxLength: this.maxLength, padding: 'longest', truncation: true });
  }

  /**
   * Logits of the texts, run in length buckets of at most `batchSize` (each padded to its own longest
   * text). Texts are tokenized and bucketed a window of 16 batches at a time, so memory stays bounded.
   */
  async logits(texts: readonly string[], options: { batchSize?: number } = {}): Promise<Float32Array> {
    if (this.encoder.disposed) throw codedError('ERR_DISPOSED', 'the model is disposed');
    const K = this.numLabels;
    const shape = { numLabels: K, maxRows: options.batchSize ?? 64, callCost: callCostTokens(this.encoder.config), padCost: this.encoder.skipsPadding ? 0 : 1 };
    const window = 16 * shape.maxRows;
    const out = new Float32Array(texts.length * K);
    for (let w = 0; w < texts.length; w += window) {
      const [z] = await forwardBucketed([this.#batch(texts.slice(w, w + window))], shape, (b) => this.encoder.forward(b, { train: false }));
      out.set(z, w * K);
    }
    return out;
  }

  batchLengths(texts: readonly string[]): Uint16Array {
    return tokenCounts(this.tokenizer, texts, this.maxLength);
  }

  trainStep(texts: readonly string[], targets: Int8Array, loss: LossOptions, optimizer: OptimizerOptions): Promise<{ loss: number; gradNorm: number }> {
    return this.encoder.trainStep(this.#batch(texts), targets, loss, optimizer);
  }

  snapshot(): Map<string, Float32Array> {
    return this.encoder.parameters();
  }

  restore(snapshot: unknown): void {
    this.encoder.setParameters(snapshot as Map<string, Float32Array>);
  }

  async save(dir: string, labels: readonly string[]): Promise<void> {
    await this.encoder.save(dir, { labels: [...labels] });
    this.tokenizer.save(dir);
  }

  /** The graph inputs of preprocessed texts: the tokenizer's padded batch as int64 (token_type_ids for BERT). */
  graphInputs(texts: readonly string[]): ModelInputs {
    if (this.encoder.disposed) throw codedError('ERR_DISPOSED', 'the model is disposed');
    const b = this.#batch(texts);
    const big = (a: Int32Array | Uint8Array) => BigInt64Array.from(a, BigInt);
    const inputs: ModelInputs = { batchSize: b.batchSize, length: b.seqLen, inputIds: big(b.inputIds), attentionMask: big(b.attentionMask) };
    if (this.encoder.config.architecture === 'bert') inputs.tokenTypeIds = big(b.tokenTypeIds);
    return inputs;
  }

  async writeOnnx(dir: string, spec: OnnxExportSpec): Promise<OnnxExportInfo> {
    return writeEncoderExport(dir, { config: this.encoder.config, parameters: this.encoder.parameters() }, this.tokenizer, spec);
  }

  dispose(): void {
    this.encoder.dispose();
  }
}
