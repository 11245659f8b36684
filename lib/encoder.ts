/**
 * Encoder: a BERT / DistilBERT sequence classifier for multi-label training, running on the native
 * CPU or CUDA twins. Parameters use the Hugging Face names of BertForSequenceClassification and
 * DistilBertForSequenceClassification, so checkpoints load from and save to `transformers` directories
 * (config.json + model.safetensors).
 *
 * Every call checks its arguments here first (friendly messages) and again in C++. Heavy calls return
 * Promises and go through one request queue in arrival order (request_queue.ts; concurrent inference
 * forwards merge); synchronous calls while the queue is busy are ERR_BUSY; after dispose() every call is
 * ERR_DISPOSED.
 * Input typed arrays must not be transferred or detached while a call that uses them is pending.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadBinding, type NativeEncoder, type NativeParamRow } from './binding.js';
import { resolveDevice, type DeviceName, type DeviceOption } from './device.js';
import { checkInteger, checkOptions, busyError, disposedError, invalidFileError, rangeError, rangeErrorMessage, rejectUnknownKeys, typeError } from './errors.js';
import { normalizeLossOptions, type LossOptions } from './losses.js';
import { adamWArgs, type OptimizerOptions } from './optimizer.js';
import { readModelWeights, writeSafetensors, type LazyTensor } from './safetensors.js';
import { configFromHuggingFace, configToHuggingFace, locateModelDir, readConfigJson, writeJsonAtomic } from './model_dir.js';
import { normalizeConfig, type EncoderConfig, type EncoderHead } from './encoder_config.js';
import { checkBatching, RequestQueue, type BatchingOptions } from './request_queue.js';
import { callCostTokens, forwardBucketed } from './encoder_batching.js';

export interface Batch {
  /** B×T token ids in [0, vocabSize) */
  inputIds: Int32Array;
  /** B×T, 1 = real token, 0 = padding */
  attentionMask: Uint8Array;
  /** B×T token types (BERT), default all 0 */
  tokenTypeIds?: Int32Array;
  batchSize: number;
  seqLen: number;
}

export interface EncoderOptions extends BatchingOptions {
  device?: DeviceOption;
  /** parameter initialisation and dropout masks (Philox); default 0 */
  seed?: number;
}

/** Bytes of native memory per arena. */
export interface MemoryUsage {
  parameters: number;
  /** 0 until the first backward or training step allocates the gradients (inference never does) */
  gradients: number;
  optimizer: number;
  activations: number;
}


function checkEncoderOptions(options: unknown, extra: readonly string[] = []): { device: DeviceName; seed: number; batching: Required<BatchingOptions> } & Record<string, unknown> {
  const o = checkOptions('options', options);
  rejectUnknownKeys('encoder options', o, ['device', 'seed', 'maxBatchSize', 'maxWaitMs', ...extra]);
  const device = resolveDevice((o.device ?? 'auto') as DeviceOption, 'options.device');
  const seed = o.seed === undefined ? 0 : checkInteger('options.seed', o.seed, 0);
  return { ...o, device, seed, batching: checkBatching(o) };
}

// Tensors a base checkpoint may lack (classification and masked-LM heads): they start from the BERT initialisation instead.
function isHeadTensor(name: string): boolean {
  return /^(classifier\.|pre_classifier\.|bert\.pooler\.|cls\.predictions\.|vocab_)/.test(name);
}

export class Encoder {
  #native: NativeEncoder | null;
  #table: NativeParamRow[];
  /** every asynchronous native call, in arrival order; inference forwards merge (encoder_batching.ts) */
  #queue: RequestQueue<Batch, Float32Array>;
  readonly config: Readonly<Required<EncoderConfig>>;
  readonly device: DeviceName;
  /**
   * Whether an inference forward skips padded tokens: on the CPU where attention has its AVX-512 or AVX2+FMA
   * kernel (head size 16, 32 or 64), a right-padded batch runs on its real tokens only, so concurrent calls
   * merge into batches by count alone (padding costs nothing); elsewhere they are also cut by length.
   */
  readonly skipsPadding: boolean;
  /** Label names from the checkpoint's id2label (or set by the caller), when known. */
  labels: string[] | undefined;

  private constructor(native: NativeEncoder, config: Required<EncoderConfig>, device: DeviceName, batching: Required<BatchingOptions>, labels?: string[]) {
    this.#native = native;
    this.#table = native.paramTable();
    this.skipsPadding = native.skipsPadding;
    const shape = { numLabels: config.numLabels, maxRows: batching.maxBatchSize, callCost: callCostTokens(config), padCost: this.skipsPadding ? 0 : 1 };
    this.#queue = new RequestQueue(
      // a lone request runs as given (backward() may follow it); merged ones in length buckets
      (batches) => {
        const forward = (b: Batch) => native.forward(b.inputIds, b.attentionMask, b.tokenTypeIds ?? null, b.batchSize, b.seqLen, false);
        return batches.length === 1 ? forward(batches[0]).then((z) => [z]) : forwardBucketed(batches, shape, forward);
      },
      batching,
    );
    this.config = Object.freeze({ ...config });
    this.device = device;
    this.labels = labels;
  }

  /** A freshly initialised encoder: weights N(0, 0.02) (Philox, from `seed`), biases 0, LayerNorm 1/0. */
  static async create(config: EncoderConfig, options?: EncoderOptions): Promise<Encoder> {
    const c = normalizeConfig(config);
    const o = checkEncoderOptions(options);
    const Native = loadBinding().NativeEncoder;
    return new Encoder(new Native(c, o.device, o.seed), c, o.device, o.batching);
  }

  /**
   * Loads a Hugging Face directory: config.json + model.safetensors (F32, F16 or BF16). Names with or
   * without the `bert.` / `distilbert.` prefix load (base models saved by BertModel lack it); a
   * checkpoint without a classification head (or with `numLabels` different from it) gets a fresh head;
   * `freshHead: true` ignores the checkpoint's head (`classifier.*`) even when its shape fits. A fresh head
   * has the initialisation of `create` (Philox N(0, 0.02) from `seed`, bias 0). `head: 'masked-lm'` loads
   * the encoder with BertForMaskedLM's head (fresh when the checkpoint has none) for more pre-training;
   * by default a masked-LM checkpoint loads as a classifier (its MLM head is skipped).
   */
  static async fromPretrained(source: string, options?: EncoderOptions & { numLabels?: number; freshHead?: boolean; head?: EncoderHead }): Promise<Encoder> {
    if (typeof source !== 'string' || source === '') throw typeError('dir', "a directory path string or a Hub id 'hf:ORG/NAME'", source);
    const o = checkEncoderOptions(options, ['numLabels', 'freshHead', 'head']);
    if (o.freshHead !== undefined && typeof o.freshHead !== 'boolean') throw typeError('options.freshHead', 'a boolean', o.freshHead);
    const numLabels = o.numLabels === undefined ? undefined : checkInteger('options.numLabels', o.numLabels, 1, 1 << 20);
    const dir = await locateModelDir(source);
    const cfgPath = join(dir, 'config.json');
    const hf = readConfigJson(dir);
    if (o.head !== undefined && o.head !== 'classification' && o.head !== 'masked-lm') throw typeError('options.head', "'classification' | 'masked-lm'", o.head);
    const parsed = configFromHuggingFace(hf, numLabels ?? (o.head === 'masked-lm' ? 1 : undefined), cfgPath);
    const config = o.head === undefined ? parsed.config : normalizeConfig({ ...parsed.config, head: o.head });
    const labels = config.head === 'masked-lm' ? undefined : parsed.labels;
    const stPath = join(dir, 'model.safetensors');
    if (!existsSync(stPath) && !existsSync(join(dir, 'model.safetensors.index.json')))
      throw invalidFileError(stPath, 'not found (only safetensors checkpoints load, one file or sharded; convert pytorch_model.bin with save_pretrained(dir, safe_serialization=True))');
    const Native = loadBinding().NativeEncoder;
    const native = new Native(config, o.device, o.seed);
    const enc = new Encoder(native, config, o.device, o.batching, labels);
    try {
      const prefix = config.architecture === 'bert' ? 'bert.' : 'distilbert.';
      // Names each parameter may have in a checkpoint: its own, without the model prefix (BertModel /
      // DistilBertModel base checkpoints), and old LayerNorm gamma/beta spellings.
      const candidatesOf = (name: string): string[] => {
        const c = [name];
        if (name.startsWith(prefix)) c.push(name.slice(prefix.length));
        for (const n of [...c]) if (n.includes('LayerNorm.')) c.push(n.replace(/\.weight$/, '.gamma').replace(/\.bias$/, '.beta'));
        return c;
      };
      const wanted = new Set(enc.#table.flatMap((r) => candidatesOf(r.name)));
      // Only the tensors used are converted: others (position_ids buffers in I64, pre-training heads) are
      // validated with the header and skipped.
      const { tensors, path: weightsPath } = readModelWeights(dir, (n) => wanted.has(n));
      // Checked first (names and shapes, from the headers), then read and copied tensor by tensor into the
      // native arena: loading holds the arena and one tensor, not a copy of the checkpoint beside it.
      const writes: [number, LazyTensor][] = [];
      const missing: string[] = [];
      for (const row of enc.#table) {
        if (o.freshHead === true && row.name.startsWith('classifier.')) continue;
        const found = candidatesOf(row.name).map((n) => tensors.get(n)).find((t) => t !== undefined);
        if (!found) {
          if (isHeadTensor(row.name) || (!row.trainable && config.sinusoidalPositions)) continue;
          missing.push(row.name);
          continue;
        }
        const same = found.shape.length === row.shape.length && found.shape.every((d, i) => d === row.shape[i]);
        if (!same) {
          if (row.name.startsWith('classifier.') && numLabels !== undefined) continue;  // new label set: fresh head
          throw invalidFileError(weightsPath, `tensor "${row.name}" has shape ${JSON.stringify(found.shape)} but the config needs ${JSON.stringify(row.shape)}`);
        }
        writes.push([row.offset, found]);
      }
      if (missing.length)
        throw invalidFileError(weightsPath, `missing ${missing.length} tensor(s): ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
      for (const [offset, t] of writes) native.setParameterRange(offset, t.load());
    } catch (err) {
      native.dispose();
      throw err;
    }
    return enc;
  }

  #handle(): NativeEncoder {
    if (!this.#native) throw disposedError('Encoder');
    return this.#native;
  }

  /** The native object for a synchronous call: ERR_BUSY while asynchronous calls are queued or running (they come first). */
  #idleHandle(): NativeEncoder {
    const h = this.#handle();
    if (this.#queue.pending) throw busyError('Encoder', 'asynchronous calls are queued or running; await them first');
    return h;
  }

  #checkBatch(batch: unknown): Batch {
    if (batch === null || typeof batch !== 'object') throw typeError('batch', 'a batch object { inputIds, attentionMask, batchSize, seqLen }', batch);
    const b = batch as Record<string, unknown>;
    rejectUnknownKeys('batch', b, ['inputIds', 'attentionMask', 'tokenTypeIds', 'batchSize', 'seqLen']);
    const B = checkInteger('batch.batchSize', b.batchSize, 1, 1 << 24);
    const T = checkInteger('batch.seqLen', b.seqLen, 1, 1 << 24);
    const c = this.config;
    if (T > c.maxPositions) throw rangeError('batch.seqLen', `an integer <= maxPositions (${c.maxPositions})`, T);
    const n = B * T;
    const ids = b.inputIds;
    if (!(ids instanceof Int32Array)) throw typeError('batch.inputIds', `Int32Array of length ${n} (batchSize=${B} × seqLen=${T})`, ids);
    if (ids.length !== n) throw rangeError('batch.inputIds', `Int32Array of length ${n} (batchSize=${B} × seqLen=${T})`, ids);
    for (let i = 0; i < n; i++)
      if (ids[i] < 0 || ids[i] >= c.vocabSize)
        throw rangeErrorMessage(`Expected token ids in [0, ${c.vocabSize}) for batch.inputIds but inputIds[${i}] is ${ids[i]}`);
    const mask = b.attentionMask;
    if (!(mask instanceof Uint8Array)) throw typeError('batch.attentionMask', `Uint8Array of length ${n}`, mask);
    if (mask.length !== n) throw rangeError('batch.attentionMask', `Uint8Array of length ${n} (batchSize=${B} × seqLen=${T})`, mask);
    const tt = b.tokenTypeIds;
    if (tt !== undefined) {
      if (!(tt instanceof Int32Array)) throw typeError('batch.tokenTypeIds', `Int32Array of length ${n}`, tt);
      if (tt.length !== n) throw rangeError('batch.tokenTypeIds', `Int32Array of length ${n} (batchSize=${B} × seqLen=${T})`, tt);
      const TV = Math.max(c.typeVocabSize, 1);
      for (let i = 0; i < n; i++)
        if (tt[i] < 0 || tt[i] >= TV) throw rangeErrorMessage(`Expected token type ids in [0, ${TV}) for batch.tokenTypeIds but tokenTypeIds[${i}] is ${tt[i]}`);
    }
    return { inputIds: ids, attentionMask: mask, tokenTypeIds: tt as Int32Array | undefined, batchSize: B, seqLen: T };
  }

  /**
   * B×numLabels logits. `train: true` applies dropout (a new Philox stream per training forward).
   * Concurrent calls queue (no ERR_BUSY). A forward that runs alone runs the batch as given; inference
   * forwards waiting together run as one set of length-bucketed native forwards, each caller getting
   * exactly its rows, bit for bit a lone call's on the CPU (backward() then refers to the last bucket).
   */
  async forward(batch: Batch, options?: { train?: boolean }): Promise<Float32Array> {
    const h = this.#handle();
    const b = this.#checkBatch(batch);
    const o = checkOptions('forward options', options);
    rejectUnknownKeys('forward options', o, ['train']);
    if (o.train !== undefined && typeof o.train !== 'boolean') throw typeError('options.train', 'a boolean', o.train);
    if (o.train === true) return this.#queue.exclusive(() => h.forward(b.inputIds, b.attentionMask, b.tokenTypeIds ?? null, b.batchSize, b.seqLen, true));
    return this.#queue.submit(b, b.batchSize);
  }

  /** Back-propagates dlogits (B×numLabels, for the last forward) and adds (+=) into the gradients. */
  async backward(dlogits: Float32Array): Promise<void> {
    const h = this.#handle();
    if (!(dlogits instanceof Float32Array)) throw typeError('dlogits', 'a Float32Array (batchSize × numLabels)', dlogits);
    await this.#queue.exclusive(() => h.backward(dlogits));
  }

  /**
   * One training step, all native: zero the gradients, forward with dropout, the fused BCE loss,
   * backward, global-norm clipping (maxGradNorm), AdamW. `targets` and `lossOptions` are those of
   * bceWithLogits (N = batchSize, K = numLabels; reduction 'mean' or 'sum'). Returns the loss and the
   * gradient norm before clipping.
   */
  async trainStep(batch: Batch, targets: Float32Array | Uint8Array | Int8Array, lossOptions: LossOptions | undefined, optimizer: OptimizerOptions): Promise<{ loss: number; gradNorm: number }> {
    const h = this.#handle();
    const b = this.#checkBatch(batch);
    const NK = b.batchSize * this.config.numLabels;
    if (!(targets instanceof Float32Array || targets instanceof Uint8Array || targets instanceof Int8Array))
      throw typeError('targets', `Float32Array | Uint8Array | Int8Array of length ${NK} (batchSize × numLabels)`, targets);
    if (targets.length !== NK) throw rangeError('targets', `length ${NK} (batchSize=${b.batchSize} × numLabels=${this.config.numLabels})`, targets);
    const kind = targets instanceof Float32Array ? 'float32' : targets instanceof Int8Array ? 'int8' : 'uint8';
    const native = normalizeLossOptions(lossOptions, b.batchSize, this.config.numLabels, kind, 'lossOptions');
    if (native.reduction === 'none') throw typeError('lossOptions.reduction', "'mean' | 'sum' (trainStep needs a scalar loss)", 'none');
    // Targets are checked here so that a bad one is reported before any kernel runs.
    const ignore = native.ignoreValue;
    for (let i = 0; i < NK; i++) {
      const y = targets[i];
      if (!(y >= 0 && y <= 1) && y !== ignore)
        throw rangeErrorMessage(`Expected targets in [0, 1]${ignore !== null ? ` or ${ignore} (ignored)` : ''} but targets[${i}] is ${y}`);
    }
    const opt = adamWArgs(optimizer);
    return this.#queue.exclusive(() => h.trainStep(b.inputIds, b.attentionMask, b.tokenTypeIds ?? null, b.batchSize, b.seqLen, targets, native, opt));
  }

  /**
   * One masked-LM step (an encoder with head 'masked-lm'): `labels` (batchSize × seqLen) holds the
   * original token id where a token is to be predicted and -100 elsewhere (lib/mlm.ts masks a batch).
   * With an optimizer: dropout, the loss (mean softmax cross-entropy over the labelled positions), backward,
   * clipping, AdamW. Without: no dropout and no update (the gradients stay readable). `count` is the number
   * of labelled positions (none: loss 0, nothing updated).
   */
  async mlmStep(batch: Batch, labels: Int32Array, optimizer?: OptimizerOptions): Promise<{ loss: number; count: number; gradNorm: number }> {
    const h = this.#handle();
    if (this.config.head !== 'masked-lm') throw rangeErrorMessage("mlmStep needs an encoder with config.head 'masked-lm'");
    const b = this.#checkBatch(batch);
    const n = b.batchSize * b.seqLen;
    if (!(labels instanceof Int32Array) || labels.length !== n) throw typeError('labels', `an Int32Array of length ${n} (batchSize × seqLen)`, labels);
    const opt = optimizer === undefined ? null : adamWArgs(optimizer);
    return this.#queue.exclusive(() => h.mlmStep(b.inputIds, b.attentionMask, b.tokenTypeIds ?? null, b.batchSize, b.seqLen, labels, opt));
  }

  /** Sets every gradient to 0. */
  zeroGrad(): void {
    this.#idleHandle().zeroGrad();
  }

  /** Clips (maxGradNorm) and applies one AdamW step with the current gradients. */
  async step(optimizer: OptimizerOptions): Promise<{ gradNorm: number }> {
    const h = this.#handle();
    const opt = adamWArgs(optimizer);
    return this.#queue.exclusive(() => h.step(opt));
  }

  #split(arena: Float32Array): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const row of this.#table) out.set(row.name, arena.slice(row.offset, row.offset + row.size));
    return out;
  }

  /** Copies of every parameter, by Hugging Face name. */
  parameters(): Map<string, Float32Array> {
    return this.#split(this.#idleHandle().parameters());
  }

  /** Copies of every gradient, by Hugging Face name. */
  gradients(): Map<string, Float32Array> {
    return this.#split(this.#idleHandle().gradients());
  }

  /** Shapes of every parameter, by Hugging Face name. */
  parameterShapes(): Map<string, number[]> {
    this.#handle();
    return new Map(this.#table.map((r) => [r.name, [...r.shape]]));
  }

  /** Overwrites parameters by name (each must have the parameter's size); others are unchanged. */
  setParameters(values: Map<string, Float32Array>): void {
    const h = this.#idleHandle();
    if (!(values instanceof Map)) throw typeError('values', 'a Map<string, Float32Array>', values);
    const arena = h.parameters();
    const rows = new Map(this.#table.map((r) => [r.name, r]));
    for (const [name, v] of values) {
      const row = rows.get(name);
      if (!row) throw rangeErrorMessage(`Unknown parameter "${name}"`);
      if (!(v instanceof Float32Array) || v.length !== row.size) throw typeError(`values.get("${name}")`, `Float32Array of length ${row.size}`, v);
      arena.set(v, row.offset);
    }
    h.setParameters(arena);
  }

  /** Bytes held by each arena. */
  memory(): MemoryUsage {
    return this.#idleHandle().memory();
  }

  /**
   * Writes config.json (Hugging Face names, problem_type multi_label_classification, id2label/label2id)
   * and model.safetensors (F32) into `dir`, each atomically. `BertForSequenceClassification.from_pretrained(dir)`
   * (or the DistilBERT class) loads it.
   */
  async save(dir: string, options?: { labels?: string[] }): Promise<void> {
    const h = this.#idleHandle();
    if (typeof dir !== 'string' || dir === '') throw typeError('dir', 'a directory path string', dir);
    const o = checkOptions('save options', options);
    rejectUnknownKeys('save options', o, ['labels']);
    let labels = this.labels;
    if (o.labels !== undefined) {
      if (!Array.isArray(o.labels) || o.labels.length !== this.config.numLabels || !o.labels.every((s) => typeof s === 'string'))
        throw typeError('options.labels', `an array of ${this.config.numLabels} strings`, o.labels);
      if (new Set(o.labels).size !== o.labels.length) throw rangeErrorMessage('options.labels must be distinct');
      labels = o.labels as string[];
    }
    const arena = h.parameters();
    mkdirSync(dir, { recursive: true });
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const row of this.#table) tensors.set(row.name, { shape: row.shape, data: arena.subarray(row.offset, row.offset + row.size) });
    writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    writeJsonAtomic(join(dir, 'config.json'), configToHuggingFace(this.config, labels));
  }

  get disposed(): boolean {
    return this.#native === null;
  }

  /**
   * Frees the native memory. Calls still waiting in the queue reject with ERR_DISPOSED; a call already
   * running finishes (its callers get their results) and the memory is freed when it ends. Every later
   * call gives ERR_DISPOSED. Idempotent.
   */
  dispose(): void {
    const native = this.#native;
    if (!native) return;
    this.#native = null;
    this.#queue.close(disposedError('Encoder'));
    this.#queue.whenIdle(() => native.dispose());
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
