/**
 * ONNX export of a classifier. An encoder (BERT/DistilBERT) is written in transformers.js's layout:
 *
 *   config.json              Hugging Face BertConfig/DistilBertConfig with id2label, label2id and
 *                            problem_type multi_label_classification (so pipelines apply a sigmoid),
 *                            `transformers.js_config: { dtype: 'fp32' }` (the one model file there is) and a
 *                            `fused_multilabel` block { version, format, export: 'onnx', opset }
 *   tokenizer.json           the WordPiece tokenizer (BertNormalizer …), preceded by Replace/Lowercase
 *                            normalizers for the classifier's training preprocessing
 *   tokenizer_config.json    BertTokenizer settings, model_max_length = the classifier's maxLength
 *   special_tokens_map.json, vocab.txt
 *   onnx/model.onnx          input_ids, attention_mask (, token_type_ids) int64 [batch, sequence] → logits
 *
 * The n-gram model (writeNgramExport) has no tokenizer.json form (its features are hashed), so its export
 * is onnx/model.onnx (input_ids, attention_mask int64 [batch, features] → logits; ngram_graph.ts) and a
 * config.json (model_type fused-ngram, the labels, the `ngram` settings and the `featurizer` block that
 * specifies the hashing, ngram_features.ts), without tokenizer files: transformers.js's pipeline()
 * refuses the directory instead of tokenizing text for a graph that takes hashed ids.
 *
 * The caller (Classifier.exportOnnx) adds thresholds.json and publishes the directory atomically
 * (saveDirAtomic); this module only fills it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EncoderConfig } from '../encoder_config.js';
import { PREPROCESS_PATTERNS, type PreprocessOptions } from '../preprocess.js';
import { rangeErrorMessage } from '../errors.js';
import { configToHuggingFace, labelConfig, readTokenizerConfig, writeFileAtomic, writeJsonAtomic } from '../model_dir.js';
import type { Tokenizer } from '../tokenizer.js';
import { encoderGraph } from './encoder_graph.js';
import { ngramGraph } from './ngram_graph.js';
import type { ModelGraph } from './graph.js';
import type { NgramConfig } from '../ngram_model.js';
import { featurizerSpec } from '../ngram_features.js';

/** What an export needs besides the model: the classifier's labels and settings, and the opset. */
export interface OnnxExportSpec {
  labels: readonly string[];
  /** tokens per text (tokenizer truncation) */
  maxLength: number;
  preprocess?: PreprocessOptions;
  /** a checked opset (checkOpset) */
  opset: number;
}

// One protobuf message holds at most 2 GiB; weights past that would need ONNX external data.
const MAX_PROTO_BYTES = 2 ** 31 - 2 ** 24;

/** The tokenizer.json normalizers that repeat preprocess() (in its order), before the tokenizer's own. */
function preprocessNormalizers(p: PreprocessOptions | undefined): Record<string, unknown>[] {
  const replace = (regex: string) => ({ type: 'Replace', pattern: { Regex: regex }, content: ' ' });
  const out: Record<string, unknown>[] = [];
  if (p?.stripUrls) out.push(replace(PREPROCESS_PATTERNS.url));
  if (p?.lowercase) out.push({ type: 'Lowercase' });
  if (p?.stripDigits) out.push(replace(PREPROCESS_PATTERNS.digits));
  if (p?.stripPunctuation) out.push(replace(PREPROCESS_PATTERNS.punctuation));
  return out;
}

/** What an export holds, for the caller to report. */
export interface OnnxExportInfo {
  /** the graph's input names */
  inputs: string[];
  /** whether transformers.js's pipeline('text-classification') runs the directory */
  transformersJs: boolean;
  /** an ensemble's members: each one's export is in its own folder `dir` (inputs above are `name/input`) */
  members?: { name: string; dir: string; weight: number; inputs: string[]; transformersJs: boolean }[];
}

/** Refuses weights one protobuf message cannot hold, before any graph is built. */
function checkSize(parameters: ReadonlyMap<string, Float32Array>): void {
  let bytes = 0;
  for (const p of parameters.values()) bytes += p.byteLength;
  if (bytes > MAX_PROTO_BYTES)
    throw rangeErrorMessage(`The model's ${(bytes / 2 ** 30).toFixed(2)} GiB of weights exceed what one ONNX file holds (2 GiB); external data is not supported`);
}

/** Writes onnx/model.onnx and config.json (with the export marker) into `dir`. */
function writeGraphAndConfig(dir: string, graph: ModelGraph, config: Record<string, unknown>, opset: number): void {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileAtomic(join(dir, 'onnx', 'model.onnx'), graph.model);
  writeJsonAtomic(join(dir, 'config.json'), { ...config, fused_multilabel: { ...(config.fused_multilabel as object), export: 'onnx', opset } });
}

/** Writes the export of an encoder (config + parameters by Hugging Face name) and its tokenizer into `dir`. */
export function writeEncoderExport(
  dir: string,
  model: { config: Required<EncoderConfig>; parameters: ReadonlyMap<string, Float32Array> },
  tokenizer: Tokenizer,
  spec: OnnxExportSpec,
): OnnxExportInfo {
  checkSize(model.parameters);
  const graph = encoderGraph(model.config, model.parameters, spec.opset);
  const config = labelConfig(configToHuggingFace(model.config, spec.labels), spec.labels);
  // transformers.js picks onnx/model.onnx (fp32) on every device, also where it would default to a quantized file
  writeGraphAndConfig(dir, graph, { ...config, 'transformers.js_config': { dtype: 'fp32' } }, spec.opset);

  tokenizer.save(dir);
  const tc = readTokenizerConfig(dir)?.raw ?? {};
  writeJsonAtomic(join(dir, 'tokenizer_config.json'), { ...tc, model_max_length: spec.maxLength, ...(spec.preprocess ? { fused_multilabel_preprocess: spec.preprocess } : {}) });
  const tj = tokenizer.toTokenizerJson(spec.maxLength);
  const pre = preprocessNormalizers(spec.preprocess);
  if (pre.length) tj.normalizer = { type: 'Sequence', normalizers: [...pre, tj.normalizer] };
  writeJsonAtomic(join(dir, 'tokenizer.json'), tj);
  return { inputs: graph.inputs.map((v) => v.name), transformersJs: true };
}

/** Why transformers.js cannot run an n-gram export (config.json says it; the CLI prints it). */
export const NGRAM_EXPORT_NOTE =
  "the graph takes hashed n-gram feature ids, which no tokenizer.json can produce, so transformers.js's pipeline() cannot run it; " +
  "feed onnxruntime the ids of Classifier.featurize() or featurizeNgrams(texts, config.featurizer), or reimplement config.json's featurizer";

/**
 * Writes the export of an n-gram model (ngram_graph.ts) and its featurizer specification into `dir`;
 * `configJson` is the model directory's config.json (model_type, the `ngram` block).
 */
export function writeNgramExport(
  dir: string,
  model: { config: NgramConfig; parameters: ReadonlyMap<string, Float32Array>; configJson: Record<string, unknown> },
  spec: OnnxExportSpec,
): OnnxExportInfo {
  checkSize(model.parameters);
  const graph = ngramGraph(model.config, spec.labels.length, model.parameters, spec.opset);
  const config = labelConfig(model.configJson, spec.labels);
  const marker = { ...(config.fused_multilabel as object), inputs: 'hashed feature ids (see featurizer)', transformers_js: NGRAM_EXPORT_NOTE };
  writeGraphAndConfig(dir, graph, { ...config, featurizer: featurizerSpec(model.config, spec.preprocess), fused_multilabel: marker }, spec.opset);
  return { inputs: graph.inputs.map((v) => v.name), transformersJs: false };
}
