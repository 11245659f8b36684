/**
 * The n-gram model as a TextModel (fastText's architecture, multi-label): hashed word and character
 * n-grams (ngram_features.ts) → embedding bag (mean or √n pooling; native/ops/embedding_bag.h) →
 * optional ReLU hidden layer → K logits, trained with the package's fused loss (lib/losses.ts, every
 * variant and mask) and AdamW: lazy (sparse) AdamW on the embedding rows a batch used (the native
 * sparseAdamW kernel), the same kernel over every row for the small dense layers. Runs on the CPU.
 * Inference calls go through a request queue (request_queue.ts) as the encoder's do: concurrent calls
 * that wait together run as one forward (every row's logits depend on its text alone, bit for bit).
 *
 * Files: config.json (model_type 'fused-ngram' and an `ngram` block), model.safetensors (embedding.weight
 * (buckets, dim), [hidden.weight (H, dim), hidden.bias (H)], classifier.weight (K, in), classifier.bias (K),
 * [direct.weight (direct, K)]),
 * tokenizer_config.json (do_lower_case).
 */
import { join } from 'node:path';
import { loadBinding } from './binding.js';
import { disposedError, invalidFileError, showValue } from './errors.js';
import { bceWithLogits, type LossOptions } from './losses.js';
import { mulberry32 } from './random.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { readWeightsHeader, writeJsonAtomic, type ModelDirContents } from './model_dir.js';
import { featurizeBatch, groupByRow, paddedFeatures, type FeatureConfig } from './ngram_features.js';
import { adamWArgs, type OptimizerOptions } from './optimizer.js';
import type { ModelInputs, TrainableTextModel } from './text_model.js';
import { writeNgramExport, type OnnxExportInfo, type OnnxExportSpec } from './onnx/export.js';
import { checkBatching, RequestQueue, type BatchingOptions } from './request_queue.js';

export const NGRAM_MODEL_TYPE = 'fused-ngram';

export interface NgramConfig extends FeatureConfig {
  dim: number;
  hidden: number;
  pooling: 'mean' | 'sqrt-n';
  /**
   * Rows of the direct path (0: none): a second bag of the same features, row = feature id mod `direct`,
   * rows of K values, pooled like the first (same scale) and added to the logits: a hashed one-vs-rest
   * linear model trained jointly with the bag → classifier path (many labels need per-label weights).
   */
  direct: number;
  /**
   * The direct path's training: plain SGD on the loss summed over the batch's elements, step
   * directLr × the scheduled learning rate (Adam's per-step bound is too slow for rows seen a few times).
   * Default 100: with the 10 epochs the trainer gives over 100 labels, Debian's Debtags (598 labels, lr 3e-3;
   * test micro/macro-F1 of the n-gram model, seeds 42 and 7) 50 → 0.630/0.315, 100 → 0.634/0.332 and
   * 0.634/0.331, 200 → 0.634/0.325 and 0.633/0.322, 400 → 0.620/0.313 (at 3 epochs, on the GoEmotions-derived
   * 598-label set, 200 was best: 67 → 0.596/0.597, 120 → 0.605/0.608, 200 → 0.606/0.609).
   */
  directLr: number;
}

export const NGRAM_DEFAULTS: NgramConfig = {
  buckets: 1 << 18, dim: 64, hidden: 0, pooling: 'sqrt-n', wordNgrams: 2, charNgrams: [3, 5], maxTokens: 256, direct: 0, directLr: 100,
};

/** Over this many labels the n-gram model takes its many-label defaults (ngramDefaultsFor, trainer_options.ts's ngramEpochsFor). */
export const MANY_LABELS = 100;

/** Bytes of the direct path's table over 100 labels (the saved model stays under 100 MB with the 2^16 × 64 bag). */
const DIRECT_BYTES = 76e6;

/**
 * The defaults for a label count. Up to 100 labels: NGRAM_DEFAULTS (GoEmotions: the direct path did not
 * help there). Over 100: a 2^16 × 64 bag plus a direct path of ⌊76 MB / 4K⌋ rows (at most 2^16), measured
 * on the 598-label set (bench/README.md): per-label weights are what many rare labels need.
 */
export function ngramDefaultsFor(numLabels: number): NgramConfig {
  if (numLabels <= MANY_LABELS) return NGRAM_DEFAULTS;
  return { ...NGRAM_DEFAULTS, buckets: 1 << 16, dim: 64, direct: Math.max(1, Math.min(1 << 16, Math.floor(DIRECT_BYTES / (4 * numLabels)))) };
}

type Params = Map<string, Float32Array>;

/** Linear layer y (B,O) = x (B,I) · Wᵀ + b: native/ops/ngram_head.h (each sum in double, in order). */
function linear(x: Float32Array, W: Float32Array, b: Float32Array, B: number, I: number, O: number): Float32Array {
  const y = new Float32Array(B * O);
  loadBinding().denseForward(y, x, W, b, B, I, O);
  return y;
}

/** Backward of `linear`: dW, db (=) and dx (=, when wanted). */
function linearBackward(dy: Float32Array, x: Float32Array, W: Float32Array, B: number, I: number, O: number, wantDx: boolean) {
  const dW = new Float32Array(O * I);
  const db = new Float32Array(O);
  const dx = wantDx ? new Float32Array(B * I) : null;
  loadBinding().denseBackward(dW, db, dx, dy, x, W, B, I, O);
  return { dW, db, dx };
}

export function checkNgramConfig(c: Record<string, unknown>, where: string, fail: (field: string, msg: string) => Error): NgramConfig {
  const int = (k: string, lo: number, hi: number) => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw fail(`${where}.${k}`, `an integer in [${lo}, ${hi}]`);
    return v;
  };
  const cn = c.charNgrams;
  if (!Array.isArray(cn) || cn.length !== 2 || !cn.every((x) => Number.isInteger(x)) || !((cn[0] === 0 && cn[1] === 0) || (cn[0] >= 1 && cn[1] >= cn[0] && cn[1] <= 16)))
    throw fail(`${where}.charNgrams`, '[min, max] with 1 <= min <= max <= 16, or [0, 0]');
  const num = (k: string) => {
    const v = c[k];
    if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) throw fail(`${where}.${k}`, 'a finite number >= 0');
    return v;
  };
  if (c.pooling !== 'mean' && c.pooling !== 'sqrt-n') throw fail(`${where}.pooling`, "'mean' | 'sqrt-n'");
  return {
    buckets: int('buckets', 1, 1 << 26), dim: int('dim', 1, 4096), hidden: int('hidden', 0, 4096), pooling: c.pooling,
    wordNgrams: int('wordNgrams', 1, 5), charNgrams: [cn[0], cn[1]], maxTokens: int('maxTokens', 1, 1 << 20),
    // absent from directories written before the direct path existed: none
    direct: c.direct === undefined ? 0 : int('direct', 0, 1 << 24),
    directLr: c.directLr === undefined ? NGRAM_DEFAULTS.directLr : num('directLr'),
  };
}

export class NgramTextModel implements TrainableTextModel {
  readonly modelType = NGRAM_MODEL_TYPE;
  readonly config: NgramConfig;
  readonly numLabels: number;
  #p: Params;
  #m: Params | null = null;
  #v: Params | null = null;
  #t = 0;
  #slot: Int32Array | null = null;
  #disposed = false;
  /** inference calls, in arrival order; those waiting together run as one forward */
  #queue: RequestQueue<readonly string[], Float32Array>;

  constructor(config: NgramConfig, numLabels: number, params: Params, batching: Required<BatchingOptions> = checkBatching({})) {
    this.config = config;
    this.numLabels = numLabels;
    this.#p = params;
    this.#queue = new RequestQueue((payloads) => this.#merged(payloads), batching);
  }

  get maxLength(): number {
    return this.config.maxTokens;
  }
  get vocabSize(): number {
    return this.config.buckets;
  }
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Parameter names and shapes of a config: the one table behind init, save and load. */
  static shapes(c: NgramConfig, K: number): [string, number[]][] {
    const into = c.hidden > 0 ? c.hidden : c.dim;
    const out: [string, number[]][] = [['embedding.weight', [c.buckets, c.dim]]];
    if (c.hidden > 0) out.push(['hidden.weight', [c.hidden, c.dim]], ['hidden.bias', [c.hidden]]);
    out.push(['classifier.weight', [K, into]], ['classifier.bias', [K]]);
    if (c.direct > 0) out.push(['direct.weight', [c.direct, K]]);
    return out;
  }

  /** A fresh model: embeddings U(-1/dim, 1/dim) (fastText's), dense weights U(-1/√in, 1/√in), biases 0. */
  static create(config: NgramConfig, numLabels: number, seed: number, batching?: Required<BatchingOptions>): NgramTextModel {
    const r = mulberry32(seed);
    const params: Params = new Map();
    for (const [name, shape] of NgramTextModel.shapes(config, numLabels)) {
      const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
      const bound = name === 'embedding.weight' ? 1 / config.dim : name === 'direct.weight' ? 0 : shape.length === 2 ? 1 / Math.sqrt(shape[1]) : 0;
      if (bound > 0) for (let i = 0; i < a.length; i++) a[i] = (2 * r() - 1) * bound;
      params.set(name, a);
    }
    return new NgramTextModel(config, numLabels, params, batching);
  }

  /** The model of a checked model directory whose config.json says model_type 'fused-ngram'. */
  static load(c: ModelDirContents, batching?: Required<BatchingOptions>): NgramTextModel {
    const cfgPath = join(c.dir, 'config.json');
    const block = c.config.ngram;
    if (!block || typeof block !== 'object' || Array.isArray(block)) throw invalidFileError(cfgPath, 'field "ngram" must be an object (the n-gram model\'s settings)');
    const config = checkNgramConfig(block as Record<string, unknown>, 'ngram', (f, exp) =>
      invalidFileError(cfgPath, `field "${f}" must be ${exp}, got ${showValue(f.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], c.config))}`));
    const K = c.labels.length;
    const stPath = join(c.dir, 'model.safetensors');
    const header = readWeightsHeader(c.dir);
    const shapes = NgramTextModel.shapes(config, K);
    for (const [name, shape] of shapes) {
      const got = header.get(name)?.shape;
      if (!got) throw invalidFileError(stPath, `has no ${name} tensor (config.json's ngram block needs it)`);
      if (got.join() !== shape.join()) throw invalidFileError(stPath, `${name} has shape [${got}] but config.json's ngram block and ${K} labels need [${shape}]`);
    }
    const { tensors } = readSafetensors(stPath, (n) => shapes.some(([s]) => s === n));
    return new NgramTextModel(config, K, new Map(shapes.map(([name]) => [name, tensors.get(name)!.data])), batching);
  }

  #alive(): void {
    if (this.#disposed) throw disposedError('the model');
  }

  /** Forward of a batch, keeping what backward needs. */
  #forward(texts: readonly string[]) {
    const c = this.config;
    const B = texts.length;
    const { ids, offsets } = featurizeBatch(texts, c);
    const pooled = new Float32Array(B * c.dim);
    const scale = new Float32Array(B);
    loadBinding().embeddingBagForward(pooled, scale, this.#p.get('embedding.weight')!, ids, offsets, c.pooling === 'mean' ? 0 : 1, B, c.dim);
    let act: Float32Array = pooled;
    if (c.hidden > 0) {
      act = linear(pooled, this.#p.get('hidden.weight')!, this.#p.get('hidden.bias')!, B, c.dim, c.hidden);
      for (let i = 0; i < act.length; i++) if (act[i] < 0) act[i] = 0;
    }
    const into = c.hidden > 0 ? c.hidden : c.dim;
    const logits = linear(act, this.#p.get('classifier.weight')!, this.#p.get('classifier.bias')!, B, into, this.numLabels);
    let direct: Int32Array | null = null;
    if (c.direct > 0) {
      const dids = ids.map((x) => x % c.direct);
      const dz = new Float32Array(B * this.numLabels);
      loadBinding().embeddingBagForward(dz, new Float32Array(B), this.#p.get('direct.weight')!, dids, offsets, c.pooling === 'mean' ? 0 : 1, B, this.numLabels);
      for (let i = 0; i < logits.length; i++) logits[i] += dz[i];
      direct = dids;
    }
    return { ids, offsets, pooled, scale, act, logits, direct };
  }

  /** One forward over the texts of every waiting call; each call gets its own rows. */
  #merged(payloads: (readonly string[])[]): Float32Array[] {
    if (payloads.length === 1) return [this.#forward(payloads[0]).logits];
    const K = this.numLabels;
    const z = this.#forward(payloads.flat()).logits;
    let at = 0;
    return payloads.map((p) => z.slice(at * K, (at += p.length) * K)); // copies: no caller sees another's rows
  }

  /** Logits, `batchSize` texts (default 256) per queued request; concurrent calls merge (request_queue.ts). */
  async logits(texts: readonly string[], options: { batchSize?: number } = {}): Promise<Float32Array> {
    this.#alive();
    const step = Math.max(1, options.batchSize ?? 256);
    if (texts.length <= step) return texts.length === 0 ? new Float32Array(0) : this.#queue.submit(texts, texts.length);
    const K = this.numLabels;
    const out = new Float32Array(texts.length * K);
    for (let i = 0; i < texts.length; i += step) {
      if (i > 0) await new Promise((r) => setImmediate(r)); // I/O and other callers between the pieces
      const chunk = texts.slice(i, i + step);
      out.set(await this.#queue.submit(chunk, chunk.length), i * K);
    }
    return out;
  }

  async trainStep(texts: readonly string[], targets: Int8Array, loss: LossOptions, optimizer: OptimizerOptions): Promise<{ loss: number; gradNorm: number }> {
    this.#alive();
    const opt = adamWArgs(optimizer);
    const c = this.config;
    const K = this.numLabels;
    const B = texts.length;
    const f = this.#forward(texts);
    const l = bceWithLogits(f.logits, targets, { ...(loss as Record<string, unknown>), shape: [B, K], grad: true } as LossOptions);
    const into = c.hidden > 0 ? c.hidden : c.dim;
    const grads: Params = new Map();
    const head = linearBackward(l.grad as Float32Array, f.act, this.#p.get('classifier.weight')!, B, into, K, true);
    grads.set('classifier.weight', head.dW).set('classifier.bias', head.db);
    let dpooled = head.dx!;
    if (c.hidden > 0) {
      for (let i = 0; i < dpooled.length; i++) if (f.act[i] <= 0) dpooled[i] = 0;
      const h = linearBackward(dpooled, f.pooled, this.#p.get('hidden.weight')!, B, c.dim, c.hidden, true);
      grads.set('hidden.weight', h.dW).set('hidden.bias', h.db);
      dpooled = h.dx!;
    }
    this.#slot ??= new Int32Array(Math.max(c.buckets, c.direct)).fill(-1);
    const native = loadBinding();
    /** The gradient of a bag's table: the distinct rows used and their gradient rows. */
    const bagGrad = (ids: Int32Array, offsets: Int32Array, scale: Float32Array, dout: Float32Array, C: number) => {
      const g = groupByRow(ids, offsets, this.#slot!);
      const drows = new Float32Array(g.rows.length * C);
      native.embeddingBagBackward(drows, dout, scale, g.occBag, g.rowPtr, g.rows.length, C);
      return { rows: g.rows, drows };
    };
    const emb = bagGrad(f.ids, f.offsets, f.scale, dpooled, c.dim);
    grads.set('embedding.weight', emb.drows);
    const direct = f.direct ? bagGrad(f.direct, f.offsets, f.scale, l.grad as Float32Array, K) : null;
    if (direct) grads.set('direct.weight', direct.drows);

    // global-norm clipping over every gradient (the embedding's rows not used have gradient 0)
    const norm = Math.sqrt(native.sumSquares([...grads.values()]));
    const maxNorm = opt.maxGradNorm;
    if (maxNorm > 0 && norm > maxNorm) {
      const s = maxNorm / (norm + 1e-6);
      for (const a of grads.values()) native.scaleRounded(a, s);
    }
    // AdamW moments for every parameter but the direct path's (SGD)
    const moments = () => new Map([...this.#p].filter(([k]) => k !== 'direct.weight').map(([k, v]) => [k, new Float32Array(v.length)]));
    this.#m ??= moments();
    this.#v ??= moments();
    this.#t++;
    for (const [name, grad] of grads) {
      const p = this.#p.get(name)!;
      if (name === 'direct.weight') {
        // SGD on the summed loss (the gradient is of the mean over B·K elements)
        const rows = direct!.rows;
        native.rowsSgd(p, grad, rows, rows.length, K, opt.lr * c.directLr * B * K);
        continue;
      }
      const bias = name.endsWith('.bias');
      const C = name === 'embedding.weight' ? c.dim : bias ? p.length : (p.length / (name === 'hidden.weight' ? c.hidden : K));
      const rows = name === 'embedding.weight' ? emb.rows : Int32Array.from({ length: p.length / C }, (_, i) => i);
      const wd = bias && !opt.decayBiasAndNorm ? 0 : opt.weightDecay;
      const args = { lr: opt.lr, beta1: opt.beta1, beta2: opt.beta2, eps: opt.eps, weightDecay: wd, t: this.#t };
      native.sparseAdamW(p, this.#m.get(name)!, this.#v.get(name)!, grad, rows, args, rows.length, C);
    }
    return { loss: l.loss as number, gradNorm: norm };
  }

  /** Drops the AdamW moments (twice the parameters: 128 MB with the default 2^18 × 64 table) and the row map. */
  endTraining(): void {
    this.#m = this.#v = null;
    this.#slot = null;
    this.#t = 0;
  }

  snapshot(): Params {
    return new Map([...this.#p].map(([k, v]) => [k, v.slice()]));
  }

  restore(snapshot: unknown): void {
    for (const [k, v] of snapshot as Params) this.#p.get(k)!.set(v);
  }

  async save(dir: string, labels: readonly string[]): Promise<void> {
    this.#alive();
    const shapes = NgramTextModel.shapes(this.config, labels.length);
    writeSafetensors(join(dir, 'model.safetensors'), new Map(shapes.map(([name, shape]) => [name, { shape, data: this.#p.get(name)! }])));
    writeJsonAtomic(join(dir, 'config.json'), this.#configJson());
    writeJsonAtomic(join(dir, 'tokenizer_config.json'), { do_lower_case: true });
  }

  #configJson(): Record<string, unknown> {
    return { model_type: NGRAM_MODEL_TYPE, architectures: ['FusedNgramForMultiLabel'], ngram: { ...this.config } };
  }

  /** The graph inputs of preprocessed texts: padded hashed feature ids and mask (ngram_features.ts). */
  graphInputs(texts: readonly string[]): ModelInputs {
    this.#alive();
    return paddedFeatures(texts, this.config);
  }

  async writeOnnx(dir: string, spec: OnnxExportSpec): Promise<OnnxExportInfo> {
    this.#alive();
    return writeNgramExport(dir, { config: this.config, parameters: this.#p, configJson: this.#configJson() }, spec);
  }

  /** Calls still queued reject with ERR_DISPOSED (a forward never runs concurrently with this: it is synchronous). */
  dispose(): void {
    this.#queue.close(disposedError('the model'));
    this.#disposed = true;
    this.#p = new Map();
    this.#m = this.#v = null;
    this.#slot = null;
  }
}
