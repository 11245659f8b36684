/**
 * Trainer: from labelled rows to a trained, tuned Classifier and its model directory.
 *
 * Thin on purpose: the heavy work is one model step per batch (for the encoder one native
 * `encoder.trainStep`, off the event loop). This file holds the order of things: the label order and
 * targets, the loss and its class statistics, the model (text_model.ts), the epoch loop and the
 * thresholds (training.ts), and the model directory. Inference is the Classifier's (`trainer.classifier`);
 * `trainer.predict`/`evaluate` delegate to it.
 */
import { labelCounts } from './targets.js';
import { preprocess as preprocessText } from './preprocess.js';
import { posWeightFromCounts } from './class_weights.js';
import type { LossOptions } from './losses.js';
import { codedError, rangeErrorMessage, typeError } from './errors.js';
import { saveClassifierDir, type SaveHooks, type ThresholdsFile } from './model_dir.js';
import { version } from './device.js';
import { labelOrder, rowsOf, targetsOf, type TrainData } from './rows.js';
import { buildTrainableModel, isNgramOption, sigmoidOf, type TextModel, type TrainableTextModel } from './text_model.js';
import { chooseWeights, combineLogits, EnsembleTextModel, type EnsembleMember } from './ensemble_model.js';
import { evaluate as evaluateMetrics } from './metrics.js';
import { pretrainedEncoderModel } from './mlm.js';
import { EncoderTextModel } from './encoder_model.js';
import { Classifier, evaluationReport, thresholdArray, type EvaluationReport, type PredictOptions, type Prediction } from './classifier.js';
import { runEpochs, tunedThresholds, type LabelledTexts, type LoopSpec } from './training.js';
import {
  autoModelFor, ensembleMembers, lossOptionsFor, ngramEpochsFor, resolveOptions, type FitResult, type MemberFit, type ProgressEvent, type ResolvedTrainerOptions, type TrainerOptions,
} from './trainer_options.js';
import { packageCommit, reportDataFrom } from './report/data.js';
import { renderReportHtml } from './report/html.js';
import type { Encoder } from './encoder.js';
import type { Tokenizer } from './tokenizer.js';

export interface FitOptions {
  /** the split coverage (splitDataset's `coverage`), recorded in training.json */
  splitCoverage?: unknown;
  /** where the rows came from ({ data: path } or { train, validation, test }), for training.json and report.html */
  dataFiles?: Record<string, string>;
  /**
   * More labels the model must know (e.g. those of the test file): with the validation rows' labels they
   * join the training labels; a label no training row has is trained with count 0, reported in the ZERO
   * group and kept out of threshold tuning, and named in a warning.
   */
  labels?: readonly string[];
}

/** What #fit hands the model-training step: the labels, the preprocessed rows and the label counts. */
interface FitData {
  labels: string[];
  train: LabelledTexts;
  val: LabelledTexts | null;
  /** val with the targets of labels no training row has set to unknown (threshold tuning) */
  tuneVal: LabelledTexts | null;
  counts: Float64Array;
  trainRows: number;
}

export class Trainer {
  #options: ResolvedTrainerOptions;
  #raw: TrainerOptions;
  #model: TextModel | null = null;
  #classifier: Classifier | null = null;
  #labels: string[] = [];
  #thresholds: ThresholdsFile = { global: 0.5, tuned: false };
  #history: FitResult | null = null;
  #report: EvaluationReport | null = null;
  #coverage: unknown = null;
  #dataFiles: Record<string, string> | null = null;
  #busy = false;

  constructor(options: TrainerOptions = {}) {
    this.#options = resolveOptions(options);
    this.#raw = { ...options };
  }

  /** The resolved options; with model 'auto', fit() replaces `model` and `modelAuto` by what it picked for the data. */
  get options(): Readonly<ResolvedTrainerOptions> {
    return this.#options;
  }

  get labels(): readonly string[] {
    return this.#labels;
  }
  /** The trained model as a Classifier (null before fit()); it shares the trainer's model: disposing either frees it. */
  get classifier(): Classifier | null {
    return this.#classifier;
  }
  /** The encoder of an encoder model (null before fit() or for other models). */
  get encoder(): Encoder | null {
    return this.#model instanceof EncoderTextModel ? this.#model.encoder : null;
  }
  get tokenizer(): Tokenizer | null {
    return this.#model instanceof EncoderTextModel ? this.#model.tokenizer : null;
  }
  get thresholds(): ThresholdsFile {
    return this.#thresholds;
  }
  get history(): FitResult | null {
    return this.#history;
  }

  /** @deprecated pass the coverage to fit(train, val, { splitCoverage }) */
  setSplitCoverage(coverage: unknown): void {
    process.emitWarning('Trainer.setSplitCoverage() is deprecated: pass fit(train, val, { splitCoverage })', 'DeprecationWarning');
    this.#coverage = coverage;
  }

  /**
   * Trains on `train`, validating on `val` after every epoch. Keeps the best epoch's parameters
   * (early-stopping metric), then tunes the thresholds on validation. Resolves to the history; the
   * trained model is `trainer.classifier`.
   */
  async fit(train: TrainData, val?: TrainData, options: FitOptions = {}): Promise<FitResult> {
    if (this.#busy) throw codedError('ERR_BUSY', 'Trainer is busy: fit() is already running');
    if (options === null || typeof options !== 'object') throw typeError('options', 'an options object { splitCoverage }', options);
    this.#busy = true;
    try {
      if (options.splitCoverage !== undefined) this.#coverage = options.splitCoverage;
      if (options.dataFiles !== undefined) this.#dataFiles = options.dataFiles;
      if (options.labels !== undefined && (!Array.isArray(options.labels) || !options.labels.every((l) => typeof l === 'string')))
        throw typeError('options.labels', 'an array of label names', options.labels);
      return await this.#fit(train, val, options.labels ?? []);
    } finally {
      this.#busy = false;
    }
  }

  async #fit(trainData: TrainData, valData: TrainData | undefined, extraLabels: readonly string[]): Promise<FitResult> {
    const o = this.options;
    const started = Date.now();
    const tr = rowsOf(trainData, 'train');
    if (tr.rows.length === 0) throw rangeErrorMessage('Expected at least one training row for train but received 0 rows');
    const va = valData === undefined ? null : rowsOf(valData, 'val');
    const labels = labelOrder(tr);
    if (labels.length === 0) throw rangeErrorMessage('Expected at least one label in train but the rows have none');
    // labels only the validation rows or the caller name: kept, with training count 0 (never an abort after the wait)
    const known = new Set(labels);
    const extra = new Set<string>();
    for (const l of [...extraLabels, ...(va ? va.rows.flatMap((r) => [...r.labels, ...(r.negatives ?? [])]) : [])]) if (!known.has(l)) extra.add(l);
    labels.push(...[...extra].sort());
    const K = labels.length;
    this.#labels = labels;

    const prep = (t: string) => (o.preprocess ? preprocessText(t, o.preprocess) : t);
    const trT = targetsOf(tr.rows, labels);
    const vaT = va ? targetsOf(va.rows, labels) : null;
    const train = { texts: tr.rows.map((r) => prep(r.text)), targets: trT.targets };
    const val = va && vaT ? { texts: va.rows.map((r) => prep(r.text)), targets: vaT.targets } : null;

    this.#model?.dispose();
    this.#model = null;
    this.#classifier = null;
    if (o.modelAuto) {
      // 'auto' is decided on the data: the training rows and the label count (trainer_options.ts)
      const pick = autoModelFor(tr.rows.length, K);
      this.#options = { ...o, model: pick.picked, modelAuto: pick };
    }
    // the n-gram model's epochs depend on the label count when the caller names none (ngramEpochsFor)
    if (this.#raw.epochs === undefined && isNgramOption(this.#options.model)) this.#options = { ...this.#options, epochs: ngramEpochsFor(K) };

    const counts = Float64Array.from(labelCounts(tr.rows, labels));
    const zeroLabels = labels.filter((_, j) => counts[j] === 0);
    if (zeroLabels.length > 0)
      process.emitWarning(
        `${zeroLabels.length} label${zeroLabels.length === 1 ? '' : 's'} never occur${zeroLabels.length === 1 ? 's' : ''} in the training rows (kept with count 0, out of threshold tuning; reported in the ZERO group): ${zeroLabels.slice(0, 20).join(', ')}${zeroLabels.length > 20 ? ', …' : ''}`,
        'FusedMultilabelWarning',
      );
    // validation targets of those labels are unknown to threshold tuning
    const tuneVal = val && zeroLabels.length > 0 ? { texts: val.texts, targets: val.targets.map((t, i) => (counts[i % K] === 0 ? -1 : t)) } : val;
    const data = { labels, train, val, tuneVal, counts, trainRows: tr.rows.length };
    const loop = this.options.model === 'ensemble' ? await this.#trainEnsemble(data) : await this.#trainOne(this.options, data);
    const model = loop.model;
    this.#thresholds = tunedThresholds(tuneVal, loop.bestValProbs, labels, o.thresholds);
    this.#classifier = new Classifier({ model, labels, thresholds: this.#thresholds, preprocess: o.preprocess, trainCounts: counts });
    this.#report = val && vaT && loop.bestValProbs ? evaluationReport('validation', vaT, loop.bestValProbs, labels, this.#thresholds, counts) : null;

    this.#history = {
      epochs: loop.epochs,
      bestEpoch: loop.bestEpoch,
      stoppedEarly: loop.stoppedEarly,
      thresholds: this.#thresholds,
      labels,
      data: {
        trainRows: tr.rows.length,
        valRows: va?.rows.length ?? 0,
        labels: K,
        trainCounts: Object.fromEntries(labels.map((l, j) => [l, counts[j]])),
        zeroLabels,
        unknownTargets: { train: trT.unknown, val: vaT?.unknown ?? 0 },
        partialRows: { train: trT.partialRows, val: vaT?.partialRows ?? 0 },
        vocabSize: loop.vocabSize,
      },
      seconds: (Date.now() - started) / 1000,
      ...(loop.members ? { members: loop.members } : {}),
    };
    return this.#history;
  }

  /** Builds one model (pre-trained first when asked) and runs its epochs; `this.#model` holds it from the start. */
  async #trainOne(o: ResolvedTrainerOptions, d: FitData, member?: string, selectBy?: LoopSpec['selectBy']) {
    const build = { model: o.model, labels: d.labels, trainTexts: d.train.texts, vocabSize: o.vocabSize, maxLength: o.maxLength, device: o.device, seed: o.seed, batching: o.batching };
    // masked-LM pre-training on the training texts first when asked (encoder models; trainer_options.ts checks)
    const model = o.pretrainEpochs > 0 ? await pretrainedEncoderModel(build, o.pretrainEpochs, o.batchSize, o.onProgress) : await buildTrainableModel(build);
    if (!member) this.#model = model;
    try {
      const loss = this.#lossOptions(o, d.counts, d.trainRows, d.labels.length);
      const loop = await runEpochs({ model, train: d.train, val: d.val, numLabels: d.labels.length, loss, options: o, selectBy });
      return { ...loop, model: model as TextModel, vocabSize: model.vocabSize, members: undefined as MemberFit[] | undefined };
    } catch (err) {
      if (member) model.dispose();
      throw err;
    }
  }

  /**
   * Model 'ensemble': trains each member in turn with its own options (trainer_options.ts's
   * ensembleMembers), keeps each one's best epoch, and combines them (ensemble_model.ts); the
   * thresholds are tuned on the combined validation probabilities.
   */
  async #trainEnsemble(d: FitData) {
    const o = this.options;
    const done: (EnsembleMember & { fit: MemberFit; valLogits: Float32Array | null })[] = [];
    const shape: [number, number] = [d.val?.texts.length ?? 0, d.labels.length];
    // the later member's weight search at its best epoch so far (the one runEpochs keeps: the first highest
    // score), so that the search after training is not run a second time on the same logits
    const searched: { best: { logits: Float32Array; score: number; chosen: ReturnType<typeof chooseWeights> } | null } = { best: null };
    try {
      for (const m of ensembleMembers(this.#raw, d.labels.length)) {
        const started = Date.now();
        const onProgress = o.onProgress;
        const mo = { ...m.options, seed: o.seed, onProgress: onProgress && ((p: ProgressEvent) => onProgress({ ...p, member: m.name })) };
        // a later member keeps the epoch that combines best with the members before it (chooseWeights' score)
        const first = done.length === 1 ? done[0].valLogits : null;
        const selectBy =
          d.val && first
            ? (z: Float32Array) => {
                const chosen = chooseWeights([first, z], d.tuneVal!.targets, shape, o.thresholds);
                const score = Math.max(...chosen.scores.map((x) => x.microF1 + x.macroF1));
                if (!searched.best || score > searched.best.score) searched.best = { logits: z, score, chosen };
                return score;
              }
            : undefined;
        const loop = await this.#trainOne(mo, d, m.name, selectBy);
        const thresholds = tunedThresholds(d.tuneVal, loop.bestValProbs, d.labels, o.thresholds);
        const alone = d.val && loop.bestValProbs ? evaluateMetrics(d.val.targets, loop.bestValProbs, { shape: [d.val.texts.length, d.labels.length], threshold: thresholdArray(thresholds, d.labels) }) : null;
        const { onProgress: _p, batching: _b, posWeight, ...shown } = mo;
        const fit: MemberFit = {
          name: m.name, model: mo.model, weight: m.weight, epochs: loop.epochs.map((e) => ({ member: m.name, ...e })), bestEpoch: loop.bestEpoch,
          stoppedEarly: loop.stoppedEarly, seconds: (Date.now() - started) / 1000, validation: alone && { microF1: alone.micro.f1, macroF1: alone.macro.f1 },
          options: { ...shown, posWeight: posWeight instanceof Float32Array ? Array.from(posWeight) : posWeight },
        };
        done.push({ name: m.name, model: loop.model, weight: m.weight, thresholds, training: { fused_multilabel: version, member: fit }, fit, valLogits: loop.bestValLogits });
      }
    } catch (err) {
      for (const m of done) m.model.dispose();
      throw err;
    }
    // the weights that score best on validation (equal without validation data); a member at 0 is dropped
    const valLogits = d.val && done.every((m) => m.valLogits) ? done.map((m) => m.valLogits!) : null;
    if (valLogits) {
      const chosen = searched.best?.logits === valLogits[1] ? searched.best.chosen : chooseWeights(valLogits, d.tuneVal!.targets, shape, o.thresholds);
      done.forEach((m, i) => (m.weight = m.fit.weight = chosen.weights[i]));
      for (const m of done) m.fit.weightSearch = chosen.scores;
    }
    const kept = done.filter((m) => m.weight > 0);
    for (const m of done) if (m.weight === 0) m.model.dispose();
    const model = kept.length === 1 ? kept[0].model : new EnsembleTextModel(kept, o.preprocess);
    this.#model = model;
    const combined = valLogits && combineLogits(valLogits, done.map((m) => m.weight));
    const last = done[done.length - 1].fit;
    return {
      model,
      epochs: done.flatMap((m) => m.fit.epochs),
      bestEpoch: last.bestEpoch,
      stoppedEarly: last.stoppedEarly,
      bestValProbs: combined && sigmoidOf(combined),
      vocabSize: (done[0].model as TrainableTextModel).vocabSize,
      members: done.map((m) => m.fit),
    };
  }

  /** The loss options with the class statistics of the training rows (and the positive weights). */
  #lossOptions(o: ResolvedTrainerOptions, counts: Float64Array, trainSize: number, K: number): LossOptions {
    let posWeight: Float32Array | undefined;
    if (o.posWeight instanceof Float32Array) {
      if (o.posWeight.length !== K) throw rangeErrorMessage(`Expected a Float32Array of length ${K} (one per label) for options.posWeight but received length ${o.posWeight.length}`);
      posWeight = o.posWeight;
    } else if (o.posWeight !== 'none' && trainSize >= 2) {
      // (one training row has no negatives to weigh against: no positive weights)
      posWeight = posWeightFromCounts(Float32Array.from(counts, (c) => Math.max(1, c)), trainSize, { method: o.posWeight, clamp: o.posWeightClamp });
    }
    return lossOptionsFor(o.loss, counts, trainSize, posWeight);
  }

  #ready(): Classifier {
    if (!this.#classifier) throw codedError('ERR_INVALID_ARG', 'Trainer has no model yet: call fit() first');
    return this.#classifier;
  }

  /** trainer.classifier.evaluate(test, split); the report is also what save() writes to report.json. */
  async evaluate(test: TrainData, split = 'test'): Promise<EvaluationReport> {
    this.#report = await this.#ready().evaluate(test, split);
    return this.#report;
  }

  /** trainer.classifier.predict(texts, options). */
  async predict(texts: string[], options?: PredictOptions): Promise<Prediction[]> {
    return this.#ready().predict(texts, options);
  }

  /** Writes the model directory atomically (see model_dir.ts). */
  async save(dir: string, hooks?: SaveHooks): Promise<void> {
    this.#ready();
    if (typeof dir !== 'string' || dir.length === 0) throw typeError('dir', 'a directory path', dir);
    const o = this.options;
    const model = this.#model!;
    const { onProgress: _p, batching: _b, posWeight, ...opts } = o;
    const training = {
      fused_multilabel: version,
      options: { ...opts, posWeight: posWeight instanceof Float32Array ? Array.from(posWeight) : posWeight },
      ...(model instanceof EncoderTextModel ? { encoderConfig: model.encoder.config } : {}),
      history: this.#history,
      splitCoverage: this.#coverage,
      run: { dataFiles: this.#dataFiles, device: this.encoder?.device ?? o.device, commit: packageCommit(), finishedAt: new Date().toISOString() },
    };
    // report.html is drawn from the same two objects that training.json and report.json keep
    const reportHtml = this.#report ? await renderReportHtml(reportDataFrom(training, this.#report)) : undefined;
    await saveClassifierDir(
      dir,
      { model, labels: this.#labels, thresholds: this.#thresholds, preprocess: o.preprocess, training, report: this.#report ?? {}, reportHtml },
      hooks,
    );
  }

  /** Frees the model's memory (the classifier's too). */
  dispose(): void {
    this.#model?.dispose();
    this.#model = null;
  }
}
