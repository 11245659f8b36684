/**
 * The ensemble model: several trained TextModels over the same labels whose logits are averaged with
 * fixed weights (logit = Σ wₘ · logitₘ, Σ wₘ = 1). `model: 'ensemble'` (and 'auto' up to 100,000
 * training rows) trains the n-gram model and the tiny encoder this way: two unlike models make unlike
 * mistakes, and on GoEmotions and its many-label variants the pair beats either alone (bench/README.md).
 *
 * Files: config.json (model_type 'fused-ensemble' and an `ensemble` block: the members' folders and
 * weights), tokenizer_config.json, and each member as a complete model directory of its own under
 * members/NAME/ (its config.json, weights, tokenizer files and its own thresholds.json and
 * training.json), so a member can also be loaded alone with Classifier.load.
 */
import { join } from 'node:path';
import { disposedError, invalidFileError, rangeErrorMessage, showValue } from './errors.js';
import { labelConfig, readModelDir, writeClassifierFiles, writeJsonAtomic, type ModelDirContents, type ThresholdsFile } from './model_dir.js';
import { sigmoidOf, type TextModel } from './text_model.js';
import { tuneThresholds, type TuneThresholdsOptions } from './thresholds.js';
import { evaluate } from './metrics.js';
import type { OnnxExportInfo, OnnxExportSpec } from './onnx/export.js';
import type { PreprocessOptions } from './preprocess.js';

export const ENSEMBLE_MODEL_TYPE = 'fused-ensemble';
export const ENSEMBLE_MEMBERS_DIR = 'members';

export interface EnsembleMember {
  /** folder name under members/ (letters, digits, '-' and '_') */
  name: string;
  model: TextModel;
  weight: number;
  /** what the member's own directory records (thresholds tuned on its own validation probabilities, its history) */
  thresholds?: ThresholdsFile;
  training?: Record<string, unknown>;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Logits Σ wₘ · zₘ of the members' logits (all N×K). */
export function combineLogits(parts: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const out = new Float32Array(parts[0].length);
  for (let m = 0; m < parts.length; m++) {
    const z = parts[m];
    const w = weights[m];
    for (let i = 0; i < out.length; i++) out[i] += w * z[i];
  }
  return out;
}

/** The first member's weights tried for two members, in tenths, balanced first (a tie keeps the more balanced pair). */
const WEIGHT_GRID = [5, 4, 6, 3, 7, 2, 8, 1, 9, 0, 10];

/**
 * The members' weights chosen on validation: for two members, the first's weight from WEIGHT_GRID (the
 * second's is 1 - w) whose combined probabilities, with thresholds tuned for them (the trainer's
 * threshold objective), score the highest micro-F1 + macro-F1: both figures, so that the choice does not
 * favour the frequent labels alone. A member at weight 0 adds nothing and is left out. Other member
 * counts: equal weights.
 */
export function chooseWeights(
  valLogits: readonly Float32Array[],
  targets: Int8Array,
  shape: [number, number],
  thresholds: Omit<TuneThresholdsOptions, 'shape'>,
): { weights: number[]; scores: { weight: number; microF1: number; macroF1: number }[] } {
  if (valLogits.length !== 2) return { weights: valLogits.map(() => 1 / valLogits.length), scores: [] };
  // minSupport 'auto' is cross-validated once, at the first (balanced) weights, and kept for the others;
  // the search tunes without bootstrap bags (20 tunings per weight), which only the final thresholds get
  let minSupport = thresholds.minSupport;
  const scores = WEIGHT_GRID.map((tenths) => {
    const probs = sigmoidOf(combineLogits(valLogits, [tenths / 10, (10 - tenths) / 10]));
    const t = tuneThresholds(targets, probs, { ...thresholds, minSupport, shape, bags: 0 });
    if (minSupport === 'auto') minSupport = t.minSupport;
    const m = evaluate(targets, probs, { shape, threshold: thresholds.perClass && t.perClass ? t.perClass : t.global });
    return { weight: tenths / 10, microF1: m.micro.f1, macroF1: m.macro.f1 };
  });
  let best = scores[0];
  for (const s of scores) if (s.microF1 + s.macroF1 > best.microF1 + best.macroF1) best = s;
  return { weights: [best.weight, Math.round(10 - 10 * best.weight) / 10], scores };
}

export class EnsembleTextModel implements TextModel {
  readonly modelType = ENSEMBLE_MODEL_TYPE;
  readonly numLabels: number;
  readonly maxLength: number;
  readonly members: readonly EnsembleMember[];
  #preprocess?: PreprocessOptions;
  #disposed = false;

  constructor(members: readonly EnsembleMember[], preprocess?: PreprocessOptions) {
    if (members.length === 0) throw rangeErrorMessage('an ensemble needs at least one member');
    const sum = members.reduce((s, m) => s + m.weight, 0);
    for (const m of members) {
      if (!NAME.test(m.name)) throw rangeErrorMessage(`ensemble member name ${showValue(m.name)} must be 1-64 letters, digits, '-' or '_'`);
      if (!(m.weight > 0) || !Number.isFinite(m.weight)) throw rangeErrorMessage(`ensemble member ${m.name}: weight must be a positive number, got ${showValue(m.weight)}`);
      if (m.model.numLabels !== members[0].model.numLabels) throw rangeErrorMessage(`ensemble member ${m.name} has ${m.model.numLabels} outputs, ${members[0].name} ${members[0].model.numLabels}`);
    }
    if (new Set(members.map((m) => m.name)).size !== members.length) throw rangeErrorMessage('ensemble member names must differ');
    // weights are kept normalised: the logits stay on one member's scale, so the thresholds mean the same
    this.members = members.map((m) => ({ ...m, weight: m.weight / sum }));
    this.numLabels = members[0].model.numLabels;
    this.maxLength = Math.max(...members.map((m) => m.model.maxLength));
    this.#preprocess = preprocess;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** The members run concurrently (each queues and batches its own calls); a row's logits depend on its text alone. */
  async logits(texts: readonly string[], options: { batchSize?: number } = {}): Promise<Float32Array> {
    if (this.#disposed) throw disposedError('the model');
    const parts = await Promise.all(this.members.map((m) => m.model.logits(texts, options)));
    return combineLogits(parts, this.members.map((m) => m.weight));
  }

  /** config.json's `ensemble` block: the combination rule, the members' folders and weights. */
  #block(): Record<string, unknown> {
    return {
      combine: 'weighted mean of the members\' logits (weights sum to 1), then the sigmoid and thresholds.json',
      members: this.members.map((m) => ({ name: m.name, dir: `${ENSEMBLE_MEMBERS_DIR}/${m.name}`, model_type: m.model.modelType, weight: m.weight })),
    };
  }

  async save(dir: string, labels: readonly string[]): Promise<void> {
    if (this.#disposed) throw disposedError('the model');
    for (const m of this.members)
      await writeClassifierFiles(join(dir, ENSEMBLE_MEMBERS_DIR, m.name), {
        model: m.model,
        labels,
        thresholds: m.thresholds ?? { global: 0.5, tuned: false },
        preprocess: this.#preprocess,
        training: m.training ?? {},
        report: {},
      });
    writeJsonAtomic(join(dir, 'config.json'), { model_type: ENSEMBLE_MODEL_TYPE, architectures: ['FusedEnsembleForMultiLabel'], ensemble: this.#block() });
    writeJsonAtomic(join(dir, 'tokenizer_config.json'), { do_lower_case: true });
  }

  /**
   * Writes each member's export into a folder of its own (DIR/NAME: an encoder's in transformers.js's
   * layout, the n-gram model's with its featurizer) and config.json saying how to combine their logits.
   */
  async writeOnnx(dir: string, spec: OnnxExportSpec): Promise<OnnxExportInfo> {
    if (this.#disposed) throw disposedError('the model');
    const members: NonNullable<OnnxExportInfo['members']> = [];
    for (const m of this.members) {
      if (!m.model.writeOnnx) throw rangeErrorMessage(`ONNX export is not available for ensemble member ${m.name} (model_type ${m.model.modelType})`);
      const info = await m.model.writeOnnx(join(dir, m.name), { ...spec, maxLength: m.model.maxLength });
      writeJsonAtomic(join(dir, m.name, 'thresholds.json'), m.thresholds ?? { global: 0.5, tuned: false });
      members.push({ name: m.name, dir: m.name, weight: m.weight, inputs: info.inputs, transformersJs: info.transformersJs });
    }
    const block = { ...this.#block(), members: members.map((m, i) => ({ name: m.name, dir: m.dir, model_type: this.members[i].model.modelType, weight: m.weight })) };
    const config = labelConfig({ model_type: ENSEMBLE_MODEL_TYPE, ensemble: block }, spec.labels);
    writeJsonAtomic(join(dir, 'config.json'), { ...config, fused_multilabel: { ...(config.fused_multilabel as object), export: 'onnx', opset: spec.opset } });
    return { inputs: members.flatMap((m) => m.inputs.map((i) => `${m.name}/${i}`)), transformersJs: false, members };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const m of this.members) m.model.dispose();
  }
}

/**
 * The ensemble of a checked model directory whose config.json says model_type 'fused-ensemble': each
 * member folder is read and checked as a model directory (same labels, in the same order) and loaded by
 * `loadMember` (text_model.ts's loadTextModel). Members loaded before a failure are disposed.
 */
export async function loadEnsemble(c: ModelDirContents, loadMember: (m: ModelDirContents) => Promise<TextModel>): Promise<EnsembleTextModel> {
  const cfgPath = join(c.dir, 'config.json');
  const block = c.config.ensemble as { members?: unknown } | undefined;
  const list = block?.members;
  if (!Array.isArray(list) || list.length === 0) throw invalidFileError(cfgPath, `field "ensemble.members" must be a non-empty array, got ${showValue(list)}`);
  const members: EnsembleMember[] = [];
  try {
    for (const [i, raw] of list.entries()) {
      const e = raw as Record<string, unknown> | null;
      const name = e?.name;
      if (typeof name !== 'string' || !NAME.test(name)) throw invalidFileError(cfgPath, `field "ensemble.members[${i}].name" must be 1-64 letters, digits, '-' or '_', got ${showValue(name)}`);
      if (typeof e!.weight !== 'number' || !(e!.weight > 0) || !Number.isFinite(e!.weight))
        throw invalidFileError(cfgPath, `field "ensemble.members[${i}].weight" must be a positive number, got ${showValue(e!.weight)}`);
      const expected = `${ENSEMBLE_MEMBERS_DIR}/${name}`;
      if (e!.dir !== expected) throw invalidFileError(cfgPath, `field "ensemble.members[${i}].dir" must be ${showValue(expected)}, got ${showValue(e!.dir)}`);
      const mc = readModelDir(join(c.dir, ENSEMBLE_MEMBERS_DIR, name));
      if (mc.labels.join('\u0000') !== c.labels.join('\u0000'))
        throw invalidFileError(join(mc.dir, 'config.json'), `lists other labels (or another order) than the ensemble's config.json (${mc.labels.length} vs ${c.labels.length})`);
      if (mc.modelType === ENSEMBLE_MODEL_TYPE) throw invalidFileError(join(mc.dir, 'config.json'), 'is an ensemble itself; members must be single models');
      const model = await loadMember(mc);
      members.push({ name, model, weight: e!.weight as number, thresholds: mc.thresholds, training: mc.training ?? undefined });
    }
  } catch (err) {
    for (const m of members) m.model.dispose();
    throw err;
  }
  return new EnsembleTextModel(members, c.preprocess);
}
