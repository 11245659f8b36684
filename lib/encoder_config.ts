/**
 * The encoder's architecture description (EncoderConfig) and its one check with the defaults filled in.
 * Its Hugging Face config.json form is read and written in model_dir/hf_config.ts.
 */
import { checkInteger, checkNumber, rangeError, rangeErrorMessage, rejectUnknownKeys, typeError } from './errors.js';

export type Architecture = 'bert' | 'distilbert';
export type Pooling = 'pooler' | 'cls' | 'mean';
/** 'classification' (default): pooler/classifier, K logits; 'masked-lm': the pre-training head tied to the word embeddings */
export type EncoderHead = 'classification' | 'masked-lm';

export interface EncoderConfig {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  /** BERT token types (default 2); DistilBERT has none. */
  typeVocabSize?: number;
  /** default 1e-12 */
  layerNormEps?: number;
  /** default 0.1 */
  hiddenDropout?: number;
  /** default 0.1 */
  attentionDropout?: number;
  /** default: hiddenDropout (BERT classifier_dropout null) or 0.2 (DistilBERT seq_classif_dropout) */
  classifierDropout?: number;
  numLabels: number;
  /**
   * 'pooler' (default): the architecture's head on the first token (BERT pooler dense + tanh, DistilBERT
   * pre_classifier + ReLU); 'cls': the first token's hidden state; 'mean': the mean over unmasked tokens.
   */
  pooling?: Pooling;
  /** DistilBERT fixed sinusoidal positions (not trained). Default false. */
  sinusoidalPositions?: boolean;
  /** The [PAD] id: its word-embedding row gets no gradient (nn.Embedding padding_idx). Default 0; -1 for none. */
  padTokenId?: number;
  /**
   * 'classification' (default): pooling and a classifier of numLabels outputs. 'masked-lm': BertForMaskedLM's /
   * DistilBertForMaskedLM's head (dense, GELU, LayerNorm, a decoder tied to the word embeddings) for
   * pre-training with `Encoder.mlmStep`; numLabels is then unused.
   */
  head?: EncoderHead;
}

const CONFIG_KEYS = [
  'architecture', 'vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize',
  'layerNormEps', 'hiddenDropout', 'attentionDropout', 'classifierDropout', 'numLabels', 'pooling', 'sinusoidalPositions',
  'padTokenId', 'head',
] as const;

/** Checks a config and fills in the defaults. */
export function normalizeConfig(config: unknown): Required<EncoderConfig> {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw typeError('config', 'an EncoderConfig object', config);
  const c = config as Record<string, unknown>;
  rejectUnknownKeys('EncoderConfig', c, CONFIG_KEYS);
  if (c.architecture !== 'bert' && c.architecture !== 'distilbert')
    throw typeError('config.architecture', "'bert' | 'distilbert'", c.architecture);
  const arch = c.architecture as Architecture;
  const hiddenSize = checkInteger('config.hiddenSize', c.hiddenSize, 1, 16384);
  const numHeads = checkInteger('config.numHeads', c.numHeads, 1, 16384);
  if (hiddenSize % numHeads !== 0) throw rangeError('config.numHeads', `a divisor of hiddenSize (${hiddenSize})`, numHeads);
  const prob = (name: string, v: unknown, def: number) => (v === undefined ? def : checkNumber(`config.${name}`, v, 0, 0.999999));
  const hiddenDropout = prob('hiddenDropout', c.hiddenDropout, 0.1);
  const pooling = c.pooling === undefined ? 'pooler' : c.pooling;
  if (pooling !== 'pooler' && pooling !== 'cls' && pooling !== 'mean') throw typeError('config.pooling', "'pooler' | 'cls' | 'mean'", c.pooling);
  if (c.sinusoidalPositions !== undefined && typeof c.sinusoidalPositions !== 'boolean')
    throw typeError('config.sinusoidalPositions', 'a boolean', c.sinusoidalPositions);
  if (arch === 'bert' && c.sinusoidalPositions) throw rangeErrorMessage('config.sinusoidalPositions is only supported for distilbert');
  if (arch === 'distilbert' && c.typeVocabSize !== undefined && c.typeVocabSize !== 0)
    throw rangeError('config.typeVocabSize', '0 or undefined for distilbert (no token types)', c.typeVocabSize);
  const vocabSize = checkInteger('config.vocabSize', c.vocabSize, 1, 1 << 24);
  const head = c.head === undefined ? 'classification' : c.head;
  if (head !== 'classification' && head !== 'masked-lm') throw typeError('config.head', "'classification' | 'masked-lm'", c.head);
  return {
    architecture: arch,
    vocabSize,
    hiddenSize,
    numLayers: checkInteger('config.numLayers', c.numLayers, 0, 64),
    numHeads,
    intermediateSize: checkInteger('config.intermediateSize', c.intermediateSize, 1, 65536),
    maxPositions: checkInteger('config.maxPositions', c.maxPositions, 1, 65536),
    typeVocabSize: arch === 'bert' ? (c.typeVocabSize === undefined ? 2 : checkInteger('config.typeVocabSize', c.typeVocabSize, 1, 1024)) : 0,
    layerNormEps: c.layerNormEps === undefined ? 1e-12 : checkNumber('config.layerNormEps', c.layerNormEps, Number.MIN_VALUE, 0.5),
    hiddenDropout,
    attentionDropout: prob('attentionDropout', c.attentionDropout, 0.1),
    classifierDropout: prob('classifierDropout', c.classifierDropout, arch === 'bert' ? hiddenDropout : 0.2),
    numLabels: checkInteger('config.numLabels', c.numLabels, 1, 1 << 20),
    pooling: pooling as Pooling,
    sinusoidalPositions: (c.sinusoidalPositions as boolean | undefined) ?? false,
    padTokenId: c.padTokenId === undefined ? 0 : checkInteger('config.padTokenId', c.padTokenId, -1, vocabSize - 1),
    head,
  };
}

