/**
 * The training loop, generic over a TrainableTextModel: the per-epoch shuffle, the learning-rate
 * schedule (linear warm-up, linear decay), one model step per batch, validation after every epoch, the
 * choice of the epoch to keep (early stopping) and the thresholds tuned on validation at the end.
 */
import { bceWithLogits, type LossOptions } from './losses.js';
import { evaluate as evaluateMetrics } from './metrics.js';
import { tuneThresholds } from './thresholds.js';
import { rangeErrorMessage } from './errors.js';
import { mulberry32 } from './random.js';
import { sigmoidOf, type TrainableTextModel } from './text_model.js';
import type { ThresholdsFile } from './model_dir.js';
import type { EpochRecord, ProgressEvent, ResolvedTrainerOptions } from './trainer_options.js';

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

/**
 * The epoch's order with texts of similar length batched together (for a model whose step costs its
 * batch's longest text, the encoder): the shuffled order cut into pools of POOL_BATCHES batches, each pool
 * sorted by length (ties keep the shuffled order) and cut into batches, the full batches shuffled across
 * the epoch and a partial one kept last. On GoEmotions (random batches of 32 padded to their longest text
 * hold 1.94 tokens per real one) pools of 16 batches leave 1.08.
 */
export const POOL_BATCHES = 16;
export function lengthBucketedOrder(shuffled: Uint32Array, lengths: ArrayLike<number>, batchSize: number, seed: number, epoch: number): Uint32Array {
  const n = shuffled.length;
  const pool = batchSize * POOL_BATCHES;
  const sorted = Uint32Array.from(shuffled);
  for (let p = 0; p < n; p += pool) {
    const part = Array.from(sorted.subarray(p, Math.min(n, p + pool)));
    sorted.set(part.sort((a, b) => lengths[a] - lengths[b]), p); // a stable sort: ties keep the shuffled order
  }
  const full = Math.floor(n / batchSize);
  const batches = shuffledOrder(full, seed ^ 0x5bd1e995, epoch);
  const out = new Uint32Array(n);
  for (let b = 0; b < full; b++) out.set(sorted.subarray(batches[b] * batchSize, (batches[b] + 1) * batchSize), b * batchSize);
  out.set(sorted.subarray(full * batchSize), full * batchSize);
  return out;
}

/** Linear warm-up to `lr` over `warmup` steps, then linear decay to 0 at `total` (step is 0-based). */
export function scheduledLr(lr: number, step: number, warmup: number, total: number): number {
  if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
  const rest = Math.max(1, total - warmup);
  return lr * Math.max(0, (total - step) / rest);
}

function gatherRows(targets: Int8Array, k: number, idx: ArrayLike<number>, from: number, to: number): Int8Array {
  const out = new Int8Array((to - from) * k);
  for (let i = from; i < to; i++) out.set(targets.subarray(idx[i] * k, idx[i] * k + k), (i - from) * k);
  return out;
}

/** Texts with their N×K targets (preprocessed texts; targets -1 = unknown). */
export interface LabelledTexts {
  texts: readonly string[];
  targets: Int8Array;
}

export interface LoopSpec {
  model: TrainableTextModel;
  train: LabelledTexts;
  /** null or empty: no validation (the last epoch is kept, thresholds stay at 0.5) */
  val: LabelledTexts | null;
  numLabels: number;
  loss: LossOptions;
  options: ResolvedTrainerOptions;
  /**
   * With early stopping on an F1 metric: scores an epoch (higher is better) from its validation logits in
   * place of that metric (an ensemble's later member: how well it combines with the members before it).
   */
  selectBy?: (valLogits: Float32Array) => number;
}

export interface LoopResult {
  epochs: EpochRecord[];
  bestEpoch: number;
  stoppedEarly: boolean;
  /** validation probabilities of the kept epoch (null without validation) */
  bestValProbs: Float32Array | null;
  /** and their logits (an ensemble combines its members' logits) */
  bestValLogits: Float32Array | null;
}

/** Validation loss (the training loss function), probabilities and F1 at 0.5. */
async function validate(spec: LoopSpec, val: LabelledTexts) {
  const K = spec.numLabels;
  const n = val.texts.length;
  const logits = await spec.model.logits(val.texts, { batchSize: Math.max(spec.options.batchSize, 64) });
  const probs = sigmoidOf(logits);
  const l = bceWithLogits(logits, val.targets, { ...(spec.loss as Record<string, unknown>), shape: [n, K], grad: false } as LossOptions);
  const m = evaluateMetrics(val.targets, probs, { shape: [n, K], threshold: 0.5 });
  return { valLoss: typeof l.loss === 'number' ? l.loss : NaN, logits, probs, microF1: m.micro.f1, macroF1: m.macro.f1 };
}

/** How good an epoch is for early stopping (higher is better): -val loss, or the F1 with the thresholds that epoch would get. */
function selectionScore(spec: LoopSpec, val: LabelledTexts, valLoss: number, probs: Float32Array, epoch: number): number {
  const o = spec.options;
  const es = o.earlyStopping;
  if (!es) return epoch; // no early stopping: the last epoch is the one kept
  if (es.metric === 'val-loss') return -valLoss;
  const t = tuneThresholds(val.targets, probs, { shape: [val.texts.length, spec.numLabels], objective: es.metric, perClass: o.thresholds.perClass, minSupport: o.thresholds.minSupport });
  return o.thresholds.perClass && t.perClassValue !== undefined ? t.perClassValue : t.value;
}

/** Runs the epochs; the model ends with the kept epoch's parameters. */
export async function runEpochs(spec: LoopSpec): Promise<LoopResult> {
  const o = spec.options;
  const N = spec.train.texts.length;
  const B = o.batchSize;
  const K = spec.numLabels;
  const stepsPerEpoch = Math.ceil(N / B);
  const totalSteps = stepsPerEpoch * o.epochs;
  const warmup = Math.floor(o.warmupRatio * totalSteps);
  const val = spec.val && spec.val.texts.length > 0 ? spec.val : null;
  const es = val ? o.earlyStopping : false;
  const records: EpochRecord[] = [];
  let best = { score: -Infinity, epoch: 0 };
  let sinceBest = 0;
  let stoppedEarly = false;
  let bestState: unknown = null;
  let bestValProbs: Float32Array | null = null;
  let bestValLogits: Float32Array | null = null;
  let step = 0;
  const trainStart = Date.now();
  const progress = (p: Omit<ProgressEvent, 'totalSteps' | 'epochs'>) => o.onProgress?.({ ...p, totalSteps, epochs: o.epochs });
  const lengths = spec.model.batchLengths?.(spec.train.texts) ?? null;

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const epochStart = Date.now();
    const shuffled = shuffledOrder(N, o.seed, epoch);
    const order = lengths ? lengthBucketedOrder(shuffled, lengths, B, o.seed, epoch) : shuffled;
    let lossSum = 0;
    let gradNorm = 0;
    let lr = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const from = s * B;
      const to = Math.min(N, from + B);
      const texts: string[] = [];
      for (let i = from; i < to; i++) texts.push(spec.train.texts[order[i]]);
      lr = scheduledLr(o.lr, step, warmup, totalSteps);
      const r = await spec.model.trainStep(texts, gatherRows(spec.train.targets, K, order, from, to), spec.loss, {
        lr, weightDecay: o.weightDecay, decayBiasAndNorm: false, maxGradNorm: o.maxGradNorm,
      });
      if (!Number.isFinite(r.loss)) throw rangeErrorMessage(`training diverged: the loss is ${r.loss} at epoch ${epoch}, step ${s + 1}; lower options.lr (now ${o.lr})`);
      lossSum += r.loss * (to - from);
      gradNorm = r.gradNorm;
      step++;
      if (o.onProgress) {
        const elapsed = (Date.now() - trainStart) / 1000;
        const eps = elapsed > 0 ? ((epoch - 1) * N + to) / elapsed : 0;
        progress({ phase: 'train', step, epoch, loss: lossSum / to, examplesPerSec: eps, etaSec: eps > 0 ? ((totalSteps - step) * B) / eps : 0, lr });
      }
    }
    const seconds = (Date.now() - epochStart) / 1000;
    const rec: EpochRecord = {
      epoch, trainLoss: lossSum / N, valLoss: null, valMicroF1: null, valMacroF1: null, valSelection: null, lr, seconds, examplesPerSec: N / Math.max(seconds, 1e-9), gradNorm,
    };
    if (val) {
      const v = await validate(spec, val);
      rec.valLoss = v.valLoss;
      rec.valMicroF1 = v.microF1;
      rec.valMacroF1 = v.macroF1;
      const score = spec.selectBy && es && es.metric !== 'val-loss' ? spec.selectBy(v.logits) : selectionScore(spec, val, v.valLoss, v.probs, epoch);
      if (es) rec.valSelection = score;
      if (score > best.score) {
        best = { score, epoch };
        sinceBest = 0;
        bestValProbs = v.probs;
        bestValLogits = v.logits;
        // keep this epoch's parameters (a copy in memory; the optimizer state is not needed afterwards)
        if (es && epoch < o.epochs) bestState = spec.model.snapshot();
      } else sinceBest++;
      progress({
        phase: 'validate', step, epoch, loss: rec.trainLoss, examplesPerSec: rec.examplesPerSec, etaSec: 0, lr,
        valLoss: v.valLoss, valMicroF1: v.microF1, valMacroF1: v.macroF1,
      });
    } else best = { score: 0, epoch };
    records.push(rec);
    if (es && sinceBest >= es.patience && epoch < o.epochs) {
      stoppedEarly = true;
      break;
    }
  }
  // restore the best epoch when a later one was worse
  if (best.epoch !== records[records.length - 1].epoch && bestState) spec.model.restore(bestState);
  spec.model.endTraining?.();
  return { epochs: records, bestEpoch: best.epoch, stoppedEarly, bestValProbs, bestValLogits };
}

/** Thresholds tuned on the kept epoch's validation probabilities (0.5 everywhere without validation). */
export function tunedThresholds(val: LabelledTexts | null, probs: Float32Array | null, labels: readonly string[], o: ResolvedTrainerOptions['thresholds']): ThresholdsFile {
  if (!val || !probs) return { global: 0.5, tuned: false };
  const t = tuneThresholds(val.targets, probs, { shape: [val.texts.length, labels.length], objective: o.objective, perClass: o.perClass, minSupport: o.minSupport, bags: o.bags });
  const perClass = t.perClass ? Object.fromEntries(labels.map((l, j) => [l, t.perClass![j]])) : undefined;
  return { global: t.global, perClass, objective: o.objective, ...(perClass ? { minSupport: t.minSupport, bags: t.bags ?? 0, baggedLabels: t.baggedLabels ?? 0 } : {}), tuned: true };
}
