/**
 * The model directory: what a trained classifier is on disk, written atomically and checked on load.
 *
 *   config.json            Hugging Face BertConfig/DistilBertConfig + id2label, label2id, problem_type and
 *                          a `fused_multilabel` block { version, format } that says who wrote it
 *   model.safetensors      the encoder's parameters with the Hugging Face names
 *   vocab.txt              WordPiece vocabulary (BertTokenizer reads it)
 *   tokenizer_config.json  do_lower_case, model_max_length, the special tokens
 *   thresholds.json        tuned decision thresholds (global and per label)
 *   training.json          options, history, data statistics, split coverage
 *   report.json            the last evaluation
 *
 * Nothing else opens these files: the model (encoder_model.ts) and the Classifier ask this module.
 * A Hub id (`hf:ORG/NAME`) becomes a directory through locateModelDir (lib/hub.ts downloads it).
 * Writes go through model_dir/atomic.ts (one durable atomic policy); config.json's Hugging Face form is
 * parsed in model_dir/hf_config.ts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { readRegularFile } from './files.js';
import { join } from 'node:path';
import { invalidFileError, showValue } from './errors.js';
import { version } from './device.js';
import { readSafetensorsHeader, type TensorInfo } from './safetensors.js';
import { resolveModelDir, saveDirAtomic, writeFileAtomic, writeJsonAtomic, type SaveHooks } from './model_dir/atomic.js';
import { configFromHuggingFace, labelsOfConfig } from './model_dir/hf_config.js';
import type { EncoderConfig } from './encoder_config.js';
import { downloadModel, parseHubId } from './hub.js';
import type { PreprocessOptions } from './preprocess.js';

export { assertReplaceable, resolveModelDir, saveDirAtomic, writeFileAtomic, writeJsonAtomic, type SaveHooks } from './model_dir/atomic.js';
export { configFromHuggingFace, configToHuggingFace, labelsOfConfig } from './model_dir/hf_config.js';

/**
 * The local directory of a model source: a directory path as given, or a Hugging Face Hub id
 * (`hf:ORG/NAME[@REVISION]`) downloaded into (or found in) the Hub cache by lib/hub.ts. Every loader
 * (Classifier.load, Encoder.fromPretrained, Tokenizer.fromPretrained, a Trainer's `pretrained`) takes
 * its directory from here.
 */
export async function locateModelDir(source: string, name = 'dir'): Promise<string> {
  return parseHubId(source, name) ? downloadModel(source, name) : source;
}

/** Bumped when the directory layout or the meaning of a file changes. */
export const MODEL_FORMAT = 1;

export interface ThresholdsFile {
  /** the global threshold (used for labels without a per-class one) */
  global: number;
  /** label → threshold, when tuned per class */
  perClass?: Record<string, number>;
  objective?: string;
  /** validation positives a label needed for its own threshold (the others have the global one) */
  minSupport?: number;
  /** bootstrap resamples averaged for the labels with 50+ validation positives (tuneThresholds' bags), and how many labels that was */
  bags?: number;
  baggedLabels?: number;
  tuned: boolean;
}

/** A JSON object file (ERR_INVALID_FILE naming the file when it is missing, not JSON or not an object). */
function readJsonFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw invalidFileError(path, 'missing from the model directory');
  const text = readRegularFile(path, 'model file').toString('utf8');
  let v: unknown;
  try {
    v = JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidFileError(path, `not valid JSON (${(err as Error).message})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalidFileError(path, 'not a JSON object');
  return v as Record<string, unknown>;
}

/** config.json of a model directory (ours or a Hugging Face one) as a JSON object; the one reader of that file. */
export function readConfigJson(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw invalidFileError(path, 'not found (a model directory needs config.json)');
  return readJsonFile(path);
}

/**
 * Throws unless `dir` may receive an ONNX export: absent, not a directory or empty (saveDirAtomic then
 * decides), or an earlier export. A model directory is refused, so an export never replaces the trained
 * model it came from.
 */
export function assertExportTarget(dir: string): void {
  if (!existsSync(join(dir, 'config.json'))) return;
  const marker = readConfigJson(dir).fused_multilabel as { export?: unknown } | undefined;
  if (marker && typeof marker === 'object' && marker.export !== 'onnx')
    throw invalidFileError(dir, 'is a fused-multilabel model directory, not an ONNX export; refusing to replace it with the export (choose another output directory)');
}

export interface TokenizerConfig {
  /** do_lower_case (absent: undefined, BERT's uncased default applies) */
  lowercase?: boolean;
  /** model_max_length */
  maxLength?: number;
  /** the preprocessing the model was trained with (fused_multilabel_preprocess) */
  preprocess?: PreprocessOptions;
  /** every field as written */
  raw: Record<string, unknown>;
}

/** tokenizer_config.json of `dir`, or null when the directory has none; the one reader of that file. */
export function readTokenizerConfig(dir: string): TokenizerConfig | null {
  const path = join(dir, 'tokenizer_config.json');
  if (!existsSync(path)) return null;
  const raw = readJsonFile(path);
  const ml = Number(raw.model_max_length);
  return {
    lowercase: typeof raw.do_lower_case === 'boolean' ? raw.do_lower_case : undefined,
    maxLength: Number.isInteger(ml) && ml > 0 ? ml : undefined,
    preprocess: (raw.fused_multilabel_preprocess ?? undefined) as PreprocessOptions | undefined,
    raw,
  };
}

/** The header of `dir`'s model.safetensors, read and validated by the one safetensors reader. */
export function readWeightsHeader(dir: string): Map<string, TensorInfo> {
  const path = join(dir, 'model.safetensors');
  if (!existsSync(path)) throw invalidFileError(path, 'missing from the model directory');
  return new Map(readSafetensorsHeader(path).tensors.map((t) => [t.name, t]));
}

export interface ModelDirContents {
  dir: string;
  config: Record<string, unknown>;
  /** config.json's model_type: which TextModel reads the directory */
  modelType: string;
  labels: string[];
  lowercase: boolean;
  maxLength: number;
  preprocess?: PreprocessOptions;
  thresholds: ThresholdsFile;
  training: Record<string, unknown> | null;
  report: Record<string, unknown> | null;
  packageVersion: string;
}

function compatible(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa[0] !== pb[0]) return false;
  return pa[0] !== 0 || pa[1] === pb[1]; // 0.x: the minor version is the breaking one
}

/**
 * Reads and cross-checks what every model directory has: the writer's format marker and version, the
 * label maps, the tokenizer config, the thresholds against the labels, training.json and report.json.
 * The model's own files are checked by its loader (checkEncoderDir for the encoder). Every disagreement
 * is an ERR_INVALID_FILE naming the file, the field and both values.
 */
export function readModelDir(dirIn: string): ModelDirContents {
  const dir = resolveModelDir(dirIn);
  const cfgPath = join(dir, 'config.json');
  const config = readConfigJson(dir);
  const marker = config.fused_multilabel as { version?: unknown; format?: unknown; export?: unknown; pretraining?: unknown } | undefined;
  if (!marker || typeof marker !== 'object')
    throw invalidFileError(cfgPath, 'was not written by fused-multilabel (no "fused_multilabel" block); load a Hugging Face checkpoint with --model DIR for training instead');
  if (marker.export === 'onnx')
    throw invalidFileError(dir, 'is an ONNX export (onnx/model.onnx), not a model directory: run it with onnxruntime or transformers.js, or load the directory it was exported from');
  if (marker.pretraining === 'masked-lm')
    throw invalidFileError(dir, 'is a masked-LM pre-training directory (written by pretrain), not a classifier: fine-tune it first (train --model DIR, or a Trainer with { model: { pretrained: DIR } })');
  if (marker.format !== MODEL_FORMAT || typeof marker.version !== 'string' || !compatible(marker.version, version))
    throw invalidFileError(
      cfgPath,
      `model directory from another version of fused-multilabel (written by ${String(marker.version)}, format ${String(marker.format)}; this is ${version}, format ${MODEL_FORMAT})`,
    );

  const labels = labelsOfConfig(config, cfgPath, true)!;

  const tokCfg = readTokenizerConfig(dir);
  if (!tokCfg) throw invalidFileError(join(dir, 'tokenizer_config.json'), 'missing from the model directory');

  const thrPath = join(dir, 'thresholds.json');
  const thrRaw = readJsonFile(thrPath);
  if (typeof thrRaw.global !== 'number' || !(thrRaw.global >= 0 && thrRaw.global <= 1))
    throw invalidFileError(thrPath, `global threshold must be a number in [0, 1], got ${showValue(thrRaw.global)}`);
  const thresholds: ThresholdsFile = { global: thrRaw.global, tuned: thrRaw.tuned === true };
  if (typeof thrRaw.objective === 'string') thresholds.objective = thrRaw.objective;
  if (typeof thrRaw.minSupport === 'number') thresholds.minSupport = thrRaw.minSupport;
  if (typeof thrRaw.bags === 'number') thresholds.bags = thrRaw.bags;
  if (typeof thrRaw.baggedLabels === 'number') thresholds.baggedLabels = thrRaw.baggedLabels;
  if (thrRaw.perClass !== undefined && thrRaw.perClass !== null) {
    const pc = thrRaw.perClass as Record<string, unknown>;
    const keys = Object.keys(pc);
    if (keys.length !== labels.length) throw invalidFileError(thrPath, `has ${keys.length} per-label thresholds but config.json lists ${labels.length} labels`);
    for (const l of labels) {
      const v = pc[l];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw invalidFileError(thrPath, `per-label threshold for ${showValue(l)} must be a number in [0, 1], got ${showValue(v)}`);
    }
    thresholds.perClass = pc as Record<string, number>;
  }
  const optional = (name: string) => (existsSync(join(dir, name)) ? readJsonFile(join(dir, name)) : null);
  return {
    dir,
    config,
    labels,
    modelType: String(config.model_type),
    lowercase: tokCfg.lowercase ?? true,
    maxLength: tokCfg.maxLength ?? 128,
    preprocess: tokCfg.preprocess,
    thresholds,
    training: optional('training.json'),
    report: optional('report.json'),
    packageVersion: marker.version,
  };
}

/** Adds the label maps, the problem type and the writer's marker to the encoder's config.json. */
export function labelConfig(config: Record<string, unknown>, labels: readonly string[]): Record<string, unknown> {
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  labels.forEach((l, i) => {
    id2label[String(i)] = l;
    label2id[l] = i;
  });
  return {
    ...config,
    num_labels: labels.length,
    id2label,
    label2id,
    problem_type: 'multi_label_classification',
    fused_multilabel: { version, format: MODEL_FORMAT },
  };
}


/** What saveClassifierDir writes: the model's own files plus the classifier's. */
export interface ClassifierDirParts {
  /** writes config.json (with model_type), the weights and the tokenizer files */
  model: { save(dir: string, labels: readonly string[]): Promise<void>; readonly maxLength: number };
  labels: readonly string[];
  thresholds: ThresholdsFile;
  preprocess?: PreprocessOptions;
  training: Record<string, unknown>;
  report: unknown;
  /** the training report page (lib/report) */
  reportHtml?: string;
}

/** Every file name this package writes (or wrote) in a model directory; anything else in it is the user's and is kept. */
export const OWNED_FILES = [
  'config.json', 'model.safetensors', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
  'thresholds.json', 'training.json', 'report.json', 'report.html', 'pretraining.json', 'members',
] as const;

/**
 * Writes a classifier's files into `dir` (created when missing): the model's files, then the label maps
 * and the writer's marker in config.json, model_max_length and the preprocessing in
 * tokenizer_config.json, thresholds.json, training.json, report.json and report.html. Not atomic by
 * itself: saveClassifierDir calls it on a temporary directory (and the ensemble on its members' folders).
 */
export async function writeClassifierFiles(dir: string, parts: ClassifierDirParts): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await parts.model.save(dir, parts.labels);
  writeJsonAtomic(join(dir, 'config.json'), labelConfig(readConfigJson(dir), parts.labels));
  const tc = readTokenizerConfig(dir)?.raw ?? {};
  tc.model_max_length = parts.model.maxLength;
  if (parts.preprocess) tc.fused_multilabel_preprocess = parts.preprocess;
  writeJsonAtomic(join(dir, 'tokenizer_config.json'), tc);
  writeJsonAtomic(join(dir, 'thresholds.json'), parts.thresholds);
  writeJsonAtomic(join(dir, 'training.json'), parts.training);
  writeJsonAtomic(join(dir, 'report.json'), parts.report);
  if (parts.reportHtml !== undefined) writeFileAtomic(join(dir, 'report.html'), parts.reportHtml);
}

/** Writes a classifier's model directory atomically (saveDirAtomic over writeClassifierFiles). */
export async function saveClassifierDir(dir: string, parts: ClassifierDirParts, hooks?: SaveHooks): Promise<void> {
  await saveDirAtomic(dir, (tmp) => writeClassifierFiles(tmp, parts), hooks, OWNED_FILES);
}

/**
 * The encoder's files in a model directory, cross-checked: config.json's architecture against the
 * safetensors header (the classifier head against the labels and hidden_size, the word embeddings
 * against vocab_size and hidden_size). Returns the encoder config (vocab.txt is checked by its reader,
 * Tokenizer.fromVocab, against config.vocabSize).
 */
export function checkEncoderDir(c: ModelDirContents): Required<EncoderConfig> {
  const { config } = configFromHuggingFace(c.config, c.labels.length, join(c.dir, 'config.json'));
  const stPath = join(c.dir, 'model.safetensors');
  const header = readWeightsHeader(c.dir);
  const head = header.get('classifier.weight')?.shape;
  if (!head) throw invalidFileError(stPath, 'has no classifier.weight tensor');
  if (head[0] !== c.labels.length) throw invalidFileError(stPath, `classifier.weight has ${head[0]} outputs but config.json lists ${c.labels.length} labels`);
  if (head[1] !== config.hiddenSize) throw invalidFileError(stPath, `classifier.weight has input size ${head[1]} but config.json says hidden_size ${config.hiddenSize}`);
  const embName = [...header.keys()].find((k) => k.endsWith('embeddings.word_embeddings.weight'));
  if (!embName) throw invalidFileError(stPath, 'has no word embeddings tensor');
  const emb = header.get(embName)!.shape;
  if (emb[0] !== config.vocabSize) throw invalidFileError(stPath, `${embName} has ${emb[0]} rows but config.json says vocab_size ${config.vocabSize}`);
  if (emb[1] !== config.hiddenSize) throw invalidFileError(stPath, `${embName} has width ${emb[1]} but config.json says hidden_size ${config.hiddenSize}`);
  return config;
}
