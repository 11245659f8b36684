/**
 * Classifier: the one owner of inference. It wraps a TextModel (encoder_model.ts today) with the label
 * names, the tuned thresholds and the training preprocessing, and owns everything a prediction goes
 * through: preprocessing, batching, the sigmoid, thresholds and top-K, and evaluation against labelled
 * rows (partially annotated rows' unknown targets left out). `Classifier.load(dir)` reads a model
 * directory; `trainer.classifier` is the one a Trainer just trained.
 */
import { preprocess as preprocessText, type PreprocessOptions } from './preprocess.js';
import { evaluate as evaluateMetrics, type EvaluateResult } from './metrics.js';
import { checkInteger, checkNumber, checkOptions, disposedError, rangeErrorMessage, rejectUnknownKeys, typeError } from './errors.js';
import { assertExportTarget, locateModelDir, readModelDir, saveDirAtomic, writeFileAtomic, writeJsonAtomic, type ThresholdsFile } from './model_dir.js';
import { checkOpset } from './onnx/graph.js';
import { join } from 'node:path';
import { reportDataFrom, type ReportEvaluation } from './report/data.js';
import { renderReportHtml } from './report/html.js';
import { checkKnownLabels, rowsOf, targetsOf, type TrainData } from './rows.js';
import { loadTextModel, sigmoidOf, type ModelInputs, type TextModel } from './text_model.js';
import type { OnnxExportInfo } from './onnx/export.js';
import type { DeviceOption } from './device.js';
import { misclassifiedSample, thresholdSweep, type Misclassified, type SweepPoint } from './report/analysis.js';
import { checkBatching, type BatchingOptions } from './request_queue.js';

export interface EvaluationReport {
  split: string;
  rows: number;
  /** metrics with the tuned thresholds */
  metrics: EvaluateResult;
  /** micro and macro F1 at threshold 0.5, for comparison */
  at05: { micro: EvaluateResult['micro']; macro: EvaluateResult['macro']; labelsWithPositiveF1: number };
  unknownTargets: number;
  thresholds: ThresholdsFile;
  /** micro/macro P/R/F1 against one global threshold (the report's threshold figure) */
  sweep: SweepPoint[];
  /** the most confident mistakes at the tuned thresholds (Classifier.evaluate; the report's table) */
  misclassified?: Misclassified[];
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

export interface ClassifierLoadOptions extends BatchingOptions {
  device?: DeviceOption;
}

/** What a Classifier is made of (Classifier.load reads them from a model directory). */
export interface ClassifierParts {
  model: TextModel;
  labels: readonly string[];
  thresholds: ThresholdsFile;
  /** applied to every text before the model sees it (the training preprocessing) */
  preprocess?: PreprocessOptions;
  /** training positives per label (label order): the HEAD/MEDIUM/TAIL/ZERO groups of evaluate() */
  trainCounts?: Float64Array;
  dir?: string | null;
  training?: Record<string, unknown> | null;
  report?: Record<string, unknown> | null;
}

export function thresholdArray(thr: ThresholdsFile, labels: readonly string[], override?: number): Float32Array {
  const out = new Float32Array(labels.length);
  for (let j = 0; j < labels.length; j++) out[j] = override ?? thr.perClass?.[labels[j]] ?? thr.global;
  return out;
}

// The labels of a row in order of score, highest first, ties by label index: as one sort of Float64 keys (no
// comparator call per pair; 200 µs of a 520-label prediction was the comparator sort). A float's bits, mapped
// to an unsigned integer that orders as the float does, are inverted (highest score first) and shifted left
// by `shift` bits, the label index in the low bits: exact integers under 2^53 while labels fit in 2^21.
const ORDER_SHIFT_MAX = 21;

function orderOf(row: Float32Array, keys: Float64Array, shift: number, order: Int32Array): void {
  const k = row.length;
  if (shift > ORDER_SHIFT_MAX) {
    const idx = Array.from({ length: k }, (_, j) => j).sort((a, b) => row[b] - row[a] || a - b);
    order.set(idx);
    return;
  }
  const scale = 2 ** shift;
  const bits = new Uint32Array(row.buffer, row.byteOffset, k);
  for (let j = 0; j < k; j++) {
    const b = bits[j];
    const mono = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;  // orders as the float (−0 before +0)
    keys[j] = (0xffffffff - mono) * scale + j;
  }
  keys.sort();
  for (let t = 0; t < k; t++) order[t] = keys[t] % scale;
}

function predictionsFrom(probs: Float32Array, labels: readonly string[], thresholds: Float32Array, topK?: number): Prediction[] {
  const k = labels.length;
  const n = probs.length / k;
  const out: Prediction[] = [];
  const shift = Math.max(1, Math.ceil(Math.log2(k + 1)));
  const keys = new Float64Array(k);
  const order = new Int32Array(k);
  const take = topK === undefined ? k : Math.min(topK, k);
  for (let i = 0; i < n; i++) {
    const row = probs.subarray(i * k, i * k + k);
    orderOf(row, keys, shift, order);
    const scores: Record<string, number> = {};
    const picked: string[] = [];
    for (let t = 0; t < take; t++) {
      const j = order[t];
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
  return { threshold: threshold as 'tuned' | number, topK, batchSize: checkBatchSize(o.batchSize, 'options.batchSize') };
}

function checkBatchSize(value: unknown, name: string): number {
  return value === undefined ? 64 : checkInteger(name, value, 1, 65536);
}

function checkTexts(texts: unknown): string[] {
  if (!Array.isArray(texts)) throw typeError('texts', 'an array of strings', texts);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw typeError(`texts[${i}]`, 'a string', t);
  });
  return texts as string[];
}

/**
 * The evaluation report of probabilities against targets: metrics with the thresholds (HEAD/MEDIUM/TAIL/
 * ZERO groups when training counts are known) and micro/macro F1 at 0.5.
 */
export function evaluationReport(
  split: string,
  t: { targets: Int8Array; unknown: number },
  probs: Float32Array,
  labels: readonly string[],
  thresholds: ThresholdsFile,
  trainCounts?: Float64Array,
): EvaluationReport {
  const n = probs.length / labels.length;
  const shape: [number, number] = [n, labels.length];
  const metrics = evaluateMetrics(t.targets, probs, { shape, threshold: thresholdArray(thresholds, labels), labelSet: labels, trainCounts });
  const half = evaluateMetrics(t.targets, probs, { shape, threshold: 0.5 });
  return {
    split,
    rows: n,
    metrics,
    at05: { micro: half.micro, macro: half.macro, labelsWithPositiveF1: half.labelsWithPositiveF1 },
    unknownTargets: t.unknown,
    thresholds,
    sweep: thresholdSweep(t.targets, probs, labels.length),
  };
}

export class Classifier {
  readonly labels: readonly string[];
  /** the model directory it was loaded from (null for a Trainer's classifier) */
  readonly dir: string | null;
  readonly thresholds: ThresholdsFile;
  readonly maxLength: number;
  /** training.json and report.json of the model directory (null when absent) */
  readonly training: Record<string, unknown> | null;
  /** report.json: the saved evaluation (the test split after `train`) */
  readonly evaluation: Record<string, unknown> | null;
  #model: TextModel;
  #preprocess?: PreprocessOptions;
  #trainCounts?: Float64Array;

  constructor(parts: ClassifierParts) {
    const p = checkOptions('parts', parts) as unknown as ClassifierParts;
    if (!p.model || typeof p.model.logits !== 'function') throw typeError('parts.model', 'a TextModel', p.model);
    if (!Array.isArray(p.labels) || p.labels.length !== p.model.numLabels)
      throw typeError('parts.labels', `an array of ${p.model.numLabels} label names (one per model output)`, p.labels);
    this.#model = p.model;
    this.labels = Object.freeze([...p.labels]);
    this.thresholds = p.thresholds;
    this.maxLength = p.model.maxLength;
    this.dir = p.dir ?? null;
    this.training = p.training ?? null;
    this.evaluation = p.report ?? null;
    this.#preprocess = p.preprocess;
    this.#trainCounts = p.trainCounts;
  }

  /**
   * Loads and cross-checks a model directory written by Trainer.save (or a `dir.old-*` copy a killed save
   * left), or one pushed to the Hugging Face Hub (`hf:ORG/NAME[@REVISION]`, downloaded into the Hub cache). `maxBatchSize`/`maxWaitMs`: how concurrent predict/scores calls are merged (request_queue.ts).
   */
  static async load(dir: string, options: ClassifierLoadOptions = {}): Promise<Classifier> {
    if (typeof dir !== 'string' || dir.length === 0) throw typeError('dir', "a model directory path or a Hub id 'hf:ORG/NAME'", dir);
    const o = checkOptions('options', options) as ClassifierLoadOptions;
    rejectUnknownKeys('Classifier.load options', o, ['device', 'maxBatchSize', 'maxWaitMs']);
    const batching = checkBatching(o);
    const c = readModelDir(await locateModelDir(dir));
    const model = await loadTextModel(c, { device: o.device ?? 'auto', ...batching });
    const counts = (c.training?.history as { data?: { trainCounts?: Record<string, number> } } | undefined)?.data?.trainCounts;
    return new Classifier({
      model,
      labels: c.labels,
      thresholds: c.thresholds,
      preprocess: c.preprocess,
      trainCounts: counts ? Float64Array.from(c.labels, (l) => counts[l] ?? 0) : undefined,
      dir: c.dir,
      training: c.training,
      report: c.report,
    });
  }

  /** The model under this classifier (ERR_DISPOSED after dispose()). */
  get model(): TextModel {
    if (this.#model.disposed) throw disposedError('Classifier');
    return this.#model;
  }

  /** Probabilities (N×K, row-major, label order of `labels`). */
  async scores(texts: string[], batchSize?: number): Promise<Float32Array> {
    const list = checkTexts(texts);
    const bs = checkBatchSize(batchSize, 'batchSize');
    const model = this.model;
    const prep = this.#preprocess;
    return sigmoidOf(await model.logits(prep ? list.map((t) => preprocessText(t, prep)) : list, { batchSize: bs }));
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
    checkKnownLabels(te.rows, this.labels, split);
    const t = targetsOf(te.rows, this.labels);
    const texts = te.rows.map((r) => r.text);
    const probs = await this.scores(texts);
    const report = evaluationReport(split, t, probs, this.labels, this.thresholds, this.#trainCounts);
    report.misclassified = misclassifiedSample(texts, t.targets, probs, this.labels, thresholdArray(this.thresholds, this.labels));
    return report;
  }

  /**
   * The training report page (lib/report): drawn from training.json and the saved evaluation
   * (report.json), or, with `data`, from a new evaluation on those labelled rows. Written atomically to
   * `out` (default: report.html in the model directory; a Trainer's classifier has none, so give `out` or
   * use the returned html).
   */
  async report(options: { data?: TrainData; split?: string; out?: string } = {}): Promise<{ html: string; path: string | null }> {
    const o = checkOptions('options', options);
    rejectUnknownKeys('report options', o, ['data', 'split', 'out']);
    if (o.out !== undefined && (typeof o.out !== 'string' || o.out === '')) throw typeError('options.out', 'a file path', o.out);
    const split = o.split === undefined ? 'data' : String(o.split);
    const evaluation = o.data !== undefined ? await this.evaluate(o.data as TrainData, split) : (this.evaluation as ReportEvaluation | null);
    if (!evaluation?.metrics?.perLabel)
      throw typeError('options.data', 'labelled rows (this classifier has no saved evaluation to report)', o.data);
    const facts: [string, string][] = o.data !== undefined ? [['evaluated on', split]] : [];
    const html = await renderReportHtml(reportDataFrom(this.training, evaluation, facts));
    const path = (o.out as string | undefined) ?? (this.dir ? join(this.dir, 'report.html') : null);
    if (path) writeFileAtomic(path, html);
    return { html, path };
  }

  /**
   * The inputs the ONNX export's graph takes for these texts (the training preprocessing applied):
   * int64 inputIds/attentionMask (and tokenTypeIds for BERT), batchSize × length. For an n-gram model
   * these are the hashed feature ids its export needs (no tokenizer.json can produce them).
   */
  featurize(texts: string[]): ModelInputs {
    const list = checkTexts(texts);
    const model = this.model;
    if (!model.graphInputs)
      throw rangeErrorMessage(
        `featurize is not available for model_type ${JSON.stringify(model.modelType)} (${model.writeOnnx ? "each ensemble member's graph takes its own inputs: featurize with Classifier.load(DIR/members/NAME)" : 'it has no ONNX export'})`,
      );
    const prep = this.#preprocess;
    return model.graphInputs(prep ? list.map((t) => preprocessText(t, prep)) : list);
  }

  /**
   * Writes an ONNX export into `outDir` (atomically; a non-empty directory this package did not write,
   * and a model directory, are refused; an earlier export is replaced), with the tuned thresholds
   * (thresholds.json, as in the model directory). An encoder's export is in transformers.js's layout:
   * onnx/model.onnx (input_ids, attention_mask[, token_type_ids] int64 [batch, sequence] → logits float32
   * [batch, numLabels]), config.json with the labels and problem_type multi_label_classification,
   * tokenizer.json (the training preprocessing as normalizers) and the tokenizer's other files. An n-gram
   * model's graph takes hashed feature ids (input_ids, attention_mask int64 [batch, features], from
   * `featurize`) and its config.json specifies the hashing (`featurizer`); it has no tokenizer files, and
   * transformers.js cannot run it (the result's `transformersJs` is false).
   */
  async exportOnnx(outDir: string, options: { opset?: number } = {}): Promise<OnnxExportInfo & { dir: string; opset: number }> {
    if (typeof outDir !== 'string' || outDir.length === 0) throw typeError('outDir', 'a directory path', outDir);
    const o = checkOptions('options', options);
    rejectUnknownKeys('exportOnnx options', o, ['opset']);
    const opset = checkOpset('options.opset', o.opset);
    const model = this.model;
    if (!model.writeOnnx) throw rangeErrorMessage(`ONNX export is not available for model_type ${JSON.stringify(model.modelType)}`);
    const spec = { labels: this.labels, maxLength: this.maxLength, preprocess: this.#preprocess, opset };
    const thresholds = this.thresholds;
    assertExportTarget(outDir);
    let info: OnnxExportInfo | undefined;
    await saveDirAtomic(outDir, async (tmp) => {
      info = await model.writeOnnx!(tmp, spec);
      writeJsonAtomic(join(tmp, 'thresholds.json'), thresholds);
    });
    return { ...info!, dir: outDir, opset };
  }

  /** Frees the model's memory; later calls reject with ERR_DISPOSED. */
  dispose(): void {
    this.#model.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
