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
 * Atomicity: everything is written into a temporary sibling directory; then the previous directory (if
 * any) is renamed aside, the new one renamed into place and the old one removed. A process killed at any
 * point leaves either the previous model under `dir`, or (killed between the two renames) the previous
 * model under a `dir.old-*` sibling, which `resolveModelDir` finds and loads. Nothing half-written is ever
 * under `dir`.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { invalidFileError } from './errors.js';
import { version } from './device.js';
import { readSafetensorsHeader, type TensorInfo } from './safetensors.js';
import type { PreprocessOptions } from './data.js';

/** Bumped when the directory layout or the meaning of a file changes. */
export const MODEL_FORMAT = 1;

export const MODEL_FILES = [
  'config.json',
  'model.safetensors',
  'vocab.txt',
  'tokenizer_config.json',
  'thresholds.json',
  'training.json',
  'report.json',
] as const;

export interface ThresholdsFile {
  /** the global threshold (used for labels without a per-class one) */
  global: number;
  /** label → threshold, when tuned per class */
  perClass?: Record<string, number>;
  objective?: string;
  tuned: boolean;
}

/** Writes `data` to `path` and fsyncs it, so a rename after it publishes complete bytes. */
export function writeFileDurable(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** JSON with typed arrays as plain arrays (a Float32Array would otherwise become {"0": ..}). */
export function writeJsonDurable(path: string, value: unknown): void {
  const replacer = (_k: string, v: unknown) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v);
  writeFileDurable(path, JSON.stringify(value, replacer, 2) + '\n');
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const SIBLING = /^(.*)\.(tmp|old)-(\d+)-([0-9a-f]+)$/;

/** Sibling directories left by saves of `dir` (temporary or set aside), with the writer's pid. */
function siblings(dir: string): { path: string; kind: 'tmp' | 'old'; pid: number; mtimeMs: number }[] {
  const parent = dirname(dir);
  const base = basename(dir);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const out = [];
  for (const name of names) {
    const m = SIBLING.exec(name);
    if (!m || m[1] !== base) continue;
    const path = join(parent, name);
    let mtimeMs = 0;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      continue;
    }
    out.push({ path, kind: m[2] as 'tmp' | 'old', pid: Number(m[3]), mtimeMs });
  }
  return out;
}

function isOurModelDir(dir: string): boolean {
  try {
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    return typeof cfg.fused_multilabel === 'object' && cfg.fused_multilabel !== null;
  } catch {
    return false;
  }
}

export interface SaveHooks {
  /** called after `fill` wrote the temporary directory, before any rename (tests simulate a crash here) */
  beforeSwap?: (tmpDir: string) => void | Promise<void>;
  /** called after the previous directory was set aside, before the new one is renamed in */
  betweenRenames?: (oldDir: string, tmpDir: string) => void | Promise<void>;
}

/** Throws unless `dir` is absent, empty, or a model directory written by this package (checked before training). */
export function assertReplaceable(dirIn: string): void {
  const dir = resolve(dirIn);
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw invalidFileError(dir, 'exists and is not a directory; refusing to replace it with a model');
  if (readdirSync(dir).length > 0 && !isOurModelDir(dir))
    throw invalidFileError(dir, 'is a non-empty directory that is not a fused-multilabel model directory; refusing to replace it');
}

/**
 * Saves a directory atomically: `fill(tmpDir)` writes every file into a fresh temporary sibling, which
 * then replaces `dir`. Refuses to replace a non-empty directory that is not a model directory written by
 * this package (so `--out .` cannot delete someone's files). Leftovers of dead writers are removed first.
 */
export async function saveDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>, hooks: SaveHooks = {}): Promise<void> {
  dir = resolve(dir);
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  assertReplaceable(dir);
  // Remove what dead writers left: temporary directories always; set-aside copies only once `dir` is whole.
  for (const s of siblings(dir)) {
    if (pidAlive(s.pid)) continue;
    if (s.kind === 'tmp' || isOurModelDir(dir)) await rm(s.path, { recursive: true, force: true });
  }

  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = `${dir}.tmp-${tag}`;
  await mkdir(tmp);
  try {
    await fill(tmp);
    await hooks.beforeSwap?.(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  let old: string | null = null;
  if (existsSync(dir)) {
    old = `${dir}.old-${tag}`;
    await rename(dir, old);
  }
  try {
    if (old) await hooks.betweenRenames?.(old, tmp);
    await rename(tmp, dir);
  } catch (err) {
    // put the previous model back where it was
    if (old && !existsSync(dir)) await rename(old, dir).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  if (old) await rm(old, { recursive: true, force: true });
  // copies set aside by writers killed between their two renames are stale now that `dir` is whole
  for (const s of siblings(dir)) if (s.kind === 'old' && !pidAlive(s.pid)) await rm(s.path, { recursive: true, force: true });
  // fsync the parent so the renames survive a power cut (best effort; not every platform allows it)
  try {
    const fd = openSync(parent, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* ignore */
  }
}

/**
 * The directory to load for `dir`: `dir` itself when it holds a model, else the newest complete
 * `dir.old-*` copy a killed save left behind. Throws ERR_INVALID_FILE naming what is missing.
 */
export function resolveModelDir(dir: string): string {
  const abs = resolve(dir);
  if (existsSync(join(abs, 'config.json'))) return abs;
  const backups = siblings(abs)
    .filter((s) => s.kind === 'old' && existsSync(join(s.path, 'config.json')))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  if (backups.length > 0) return backups[0].path;
  if (!existsSync(abs)) throw invalidFileError(dir, 'model directory not found');
  throw invalidFileError(dir, 'not a model directory (no config.json)');
}

/** A JSON object file (ERR_INVALID_FILE naming the file when it is missing, not JSON or not an object). */
function readJsonFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw invalidFileError(path, 'missing from the model directory');
  }
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
  vocabSize: number;
  hiddenSize: number;
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
 * Reads and cross-checks a model directory: the writer's format marker and version, the label maps, the
 * vocabulary size against vocab.txt and the embeddings, the hidden size and label count against the
 * classifier head, the thresholds against the labels. Every disagreement is an ERR_INVALID_FILE naming
 * both files and both values.
 */
export function readModelDir(dirIn: string): ModelDirContents {
  const dir = resolveModelDir(dirIn);
  const cfgPath = join(dir, 'config.json');
  const config = readConfigJson(dir);
  const marker = config.fused_multilabel as { version?: unknown; format?: unknown } | undefined;
  if (!marker || typeof marker !== 'object')
    throw invalidFileError(cfgPath, 'was not written by fused-multilabel (no "fused_multilabel" block); load a Hugging Face checkpoint with --model DIR for training instead');
  if (marker.format !== MODEL_FORMAT || typeof marker.version !== 'string' || !compatible(marker.version, version))
    throw invalidFileError(
      cfgPath,
      `model directory from another version of fused-multilabel (written by ${String(marker.version)}, format ${String(marker.format)}; this is ${version}, format ${MODEL_FORMAT})`,
    );

  const id2label = config.id2label as Record<string, string> | undefined;
  const numLabels = Number(config.num_labels ?? (id2label ? Object.keys(id2label).length : NaN));
  if (!id2label || typeof id2label !== 'object') throw invalidFileError(cfgPath, 'has no id2label map');
  const labels: string[] = [];
  for (let i = 0; i < Object.keys(id2label).length; i++) {
    const l = id2label[String(i)];
    if (typeof l !== 'string') throw invalidFileError(cfgPath, `id2label has no entry for id ${i}`);
    labels.push(l);
  }
  if (labels.length !== numLabels) throw invalidFileError(cfgPath, `num_labels is ${numLabels} but id2label has ${labels.length} labels`);
  const label2id = config.label2id as Record<string, number> | undefined;
  if (label2id) {
    for (let i = 0; i < labels.length; i++)
      if (label2id[labels[i]] !== i) throw invalidFileError(cfgPath, `label2id["${labels[i]}"] is ${label2id[labels[i]]} but id2label says ${i}`);
  }
  const vocabSize = Number(config.vocab_size);
  const hiddenSize = Number(config.hidden_size ?? config.dim);
  if (!Number.isInteger(vocabSize) || vocabSize <= 0) throw invalidFileError(cfgPath, `vocab_size is ${String(config.vocab_size)}`);
  if (!Number.isInteger(hiddenSize) || hiddenSize <= 0) throw invalidFileError(cfgPath, `hidden_size is ${String(config.hidden_size)}`);

  const vocabPath = join(dir, 'vocab.txt');
  let vocabLines: string[];
  try {
    vocabLines = readFileSync(vocabPath, 'utf8').split('\n');
  } catch {
    throw invalidFileError(vocabPath, 'missing from the model directory');
  }
  if (vocabLines.length > 0 && vocabLines[vocabLines.length - 1] === '') vocabLines.pop();
  if (vocabLines.length !== vocabSize)
    throw invalidFileError(vocabPath, `has ${vocabLines.length} tokens but config.json says vocab_size ${vocabSize}`);

  const stPath = join(dir, 'model.safetensors');
  const header = readWeightsHeader(dir);
  const headInfo = header.get('classifier.weight');
  if (!headInfo) throw invalidFileError(stPath, 'has no classifier.weight tensor');
  const head = headInfo.shape;
  if (head[0] !== labels.length)
    throw invalidFileError(stPath, `classifier.weight has ${head[0]} outputs but config.json lists ${labels.length} labels`);
  if (head[1] !== hiddenSize) throw invalidFileError(stPath, `classifier.weight has input size ${head[1]} but config.json says hidden_size ${hiddenSize}`);
  const embName = [...header.keys()].find((k) => k.endsWith('embeddings.word_embeddings.weight'));
  if (!embName) throw invalidFileError(stPath, 'has no word embeddings tensor');
  const emb = header.get(embName)!.shape;
  if (emb[0] !== vocabSize) throw invalidFileError(stPath, `${embName} has ${emb[0]} rows but config.json says vocab_size ${vocabSize}`);
  if (emb[1] !== hiddenSize) throw invalidFileError(stPath, `${embName} has width ${emb[1]} but config.json says hidden_size ${hiddenSize}`);

  const tokCfg = readTokenizerConfig(dir);
  if (!tokCfg) throw invalidFileError(join(dir, 'tokenizer_config.json'), 'missing from the model directory');

  const thrPath = join(dir, 'thresholds.json');
  const thrRaw = readJsonFile(thrPath);
  if (typeof thrRaw.global !== 'number' || !(thrRaw.global >= 0 && thrRaw.global <= 1))
    throw invalidFileError(thrPath, `global threshold must be a number in [0, 1], got ${JSON.stringify(thrRaw.global)}`);
  const thresholds: ThresholdsFile = { global: thrRaw.global, tuned: thrRaw.tuned === true };
  if (typeof thrRaw.objective === 'string') thresholds.objective = thrRaw.objective;
  if (thrRaw.perClass !== undefined && thrRaw.perClass !== null) {
    const pc = thrRaw.perClass as Record<string, unknown>;
    const keys = Object.keys(pc);
    if (keys.length !== labels.length) throw invalidFileError(thrPath, `has ${keys.length} per-label thresholds but config.json lists ${labels.length} labels`);
    for (const l of labels) {
      const v = pc[l];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw invalidFileError(thrPath, `per-label threshold for "${l}" is missing or not in [0, 1]`);
    }
    thresholds.perClass = pc as Record<string, number>;
  }
  const optional = (name: string) => (existsSync(join(dir, name)) ? readJsonFile(join(dir, name)) : null);
  return {
    dir,
    config,
    labels,
    vocabSize,
    hiddenSize,
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
}

/**
 * Writes a classifier's model directory atomically (saveDirAtomic): the model's files, then the label
 * maps and the writer's marker in config.json, model_max_length and the preprocessing in
 * tokenizer_config.json, thresholds.json, training.json and report.json.
 */
export async function saveClassifierDir(dir: string, parts: ClassifierDirParts, hooks?: SaveHooks): Promise<void> {
  await saveDirAtomic(
    dir,
    async (tmp) => {
      await parts.model.save(tmp, parts.labels);
      writeJsonDurable(join(tmp, 'config.json'), labelConfig(readConfigJson(tmp), parts.labels));
      const tc = readTokenizerConfig(tmp)?.raw ?? {};
      tc.model_max_length = parts.model.maxLength;
      if (parts.preprocess) tc.fused_multilabel_preprocess = parts.preprocess;
      writeJsonDurable(join(tmp, 'tokenizer_config.json'), tc);
      writeJsonDurable(join(tmp, 'thresholds.json'), parts.thresholds);
      writeJsonDurable(join(tmp, 'training.json'), parts.training);
      writeJsonDurable(join(tmp, 'report.json'), parts.report);
    },
    hooks,
  );
}
