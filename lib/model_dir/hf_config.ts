/**
 * config.json in its Hugging Face form: the one parser of its label maps and of the encoder's
 * architecture fields (BertConfig / DistilBertConfig), and the writer of that form.
 */
import { invalidFileError, rangeErrorMessage } from '../errors.js';
import { normalizeConfig, type EncoderConfig, type Pooling } from '../encoder_config.js';

/**
 * The label names of id2label (undefined when the config has none). Strict (our model directories): a gap
 * in the ids, num_labels or label2id disagreeing with id2label is ERR_INVALID_FILE naming the field; not
 * strict (checkpoints from elsewhere, whose label2id is often stale): such maps give undefined.
 */
export function labelsOfConfig(hf: Record<string, unknown>, path: string, strict: boolean): string[] | undefined {
  const id2label = hf.id2label;
  if (!id2label || typeof id2label !== 'object' || Array.isArray(id2label)) {
    if (strict) throw invalidFileError(path, 'has no id2label map');
    return undefined;
  }
  const fail = (problem: string) => {
    if (strict) throw invalidFileError(path, problem);
    return undefined;
  };
  const map = id2label as Record<string, unknown>;
  const n = Object.keys(map).length;
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = map[String(i)];
    if (typeof l !== 'string') return fail(`id2label has no entry for id ${i}`);
    labels.push(l);
  }
  if (hf.num_labels !== undefined && hf.num_labels !== n) return fail(`num_labels is ${String(hf.num_labels)} but id2label has ${n} labels`);
  const label2id = hf.label2id as Record<string, unknown> | undefined;
  if (label2id && typeof label2id === 'object')
    for (let i = 0; i < n; i++)
      if (label2id[labels[i]] !== i) return fail(`label2id["${labels[i]}"] is ${String(label2id[labels[i]])} but id2label says ${i}`);
  return labels;
}

/** Maps a Hugging Face config.json object to an EncoderConfig (numLabels from the checkpoint unless given). */
export function configFromHuggingFace(hf: Record<string, unknown>, numLabels?: number, path = 'config.json'): { config: Required<EncoderConfig>; labels?: string[] } {
  const type = (hf.model_type as string | undefined) ?? '';
  const archs = Array.isArray(hf.architectures) ? (hf.architectures as string[]) : [];
  const isDistil = type === 'distilbert' || archs.some((a) => a.startsWith('DistilBert'));
  const isBert = type === 'bert' || archs.some((a) => a.startsWith('Bert'));
  if (!isDistil && !isBert) throw invalidFileError(path, `model_type ${JSON.stringify(hf.model_type)} is not supported (bert or distilbert)`);
  const num = (key: string, def?: number): number => {
    const v = hf[key];
    if (v === undefined || v === null) {
      if (def === undefined) throw invalidFileError(path, `missing "${key}"`);
      return def;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidFileError(path, `"${key}" is not a number`);
    return v;
  };
  let labels = labelsOfConfig(hf, path, false);
  const ckptLabels = hf.num_labels !== undefined ? num('num_labels') : labels?.length;
  const K = numLabels ?? ckptLabels;
  if (K === undefined) throw rangeErrorMessage(`${path} names no labels (id2label/num_labels): pass options.numLabels`);
  if (labels && labels.length !== K) labels = undefined;
  const act = (hf.hidden_act ?? hf.activation) as string | undefined;
  if (act !== undefined && act !== 'gelu') throw invalidFileError(path, `activation ${JSON.stringify(act)} is not supported (gelu)`);
  if (hf.position_embedding_type !== undefined && hf.position_embedding_type !== 'absolute')
    throw invalidFileError(path, `position_embedding_type ${JSON.stringify(hf.position_embedding_type)} is not supported (absolute)`);
  const pooling = (hf.fused_multilabel_pooling as Pooling | undefined) ?? 'pooler';
  const pad = hf.pad_token_id === undefined || hf.pad_token_id === null ? 0 : num('pad_token_id');
  const config = isDistil
    ? normalizeConfig({
        architecture: 'distilbert',
        vocabSize: num('vocab_size'),
        hiddenSize: num('dim', 768),
        numLayers: num('n_layers', 6),
        numHeads: num('n_heads', 12),
        intermediateSize: num('hidden_dim', 3072),
        maxPositions: num('max_position_embeddings', 512),
        layerNormEps: 1e-12,
        hiddenDropout: num('dropout', 0.1),
        attentionDropout: num('attention_dropout', 0.1),
        classifierDropout: num('seq_classif_dropout', 0.2),
        numLabels: K,
        pooling,
        sinusoidalPositions: hf.sinusoidal_pos_embds === true,
        padTokenId: pad,
      })
    : normalizeConfig({
        architecture: 'bert',
        vocabSize: num('vocab_size'),
        hiddenSize: num('hidden_size', 768),
        numLayers: num('num_hidden_layers', 12),
        numHeads: num('num_attention_heads', 12),
        intermediateSize: num('intermediate_size', 3072),
        maxPositions: num('max_position_embeddings', 512),
        typeVocabSize: num('type_vocab_size', 2),
        layerNormEps: num('layer_norm_eps', 1e-12),
        hiddenDropout: num('hidden_dropout_prob', 0.1),
        attentionDropout: num('attention_probs_dropout_prob', 0.1),
        classifierDropout: hf.classifier_dropout === null || hf.classifier_dropout === undefined ? undefined : num('classifier_dropout'),
        numLabels: K,
        pooling,
        padTokenId: pad,
      });
  return { config, labels };
}

/**
 * The Hugging Face config.json object for a config (and label names, when known). A masked-LM encoder is
 * a BertForMaskedLM / DistilBertForMaskedLM (no labels, tie_word_embeddings: its decoder is the word
 * embeddings); its pooling is kept for the classifier fine-tuned from it.
 */
export function configToHuggingFace(c: Required<EncoderConfig>, labels?: readonly string[]): Record<string, unknown> {
  const mlm = c.head === 'masked-lm';
  const names = labels ?? Array.from({ length: c.numLabels }, (_, i) => `LABEL_${i}`);
  const id2label = Object.fromEntries(names.map((n, i) => [String(i), n]));
  const label2id = Object.fromEntries(names.map((n, i) => [n, i]));
  const common = {
    vocab_size: c.vocabSize,
    max_position_embeddings: c.maxPositions,
    initializer_range: 0.02,
    pad_token_id: c.padTokenId < 0 ? null : c.padTokenId,
    ...(mlm ? { tie_word_embeddings: true } : { problem_type: 'multi_label_classification', id2label, label2id }),
    ...(c.pooling !== 'pooler' ? { fused_multilabel_pooling: c.pooling } : {}),
  };
  if (c.architecture === 'bert') {
    return {
      architectures: [mlm ? 'BertForMaskedLM' : 'BertForSequenceClassification'],
      model_type: 'bert',
      hidden_size: c.hiddenSize,
      num_hidden_layers: c.numLayers,
      num_attention_heads: c.numHeads,
      intermediate_size: c.intermediateSize,
      hidden_act: 'gelu',
      type_vocab_size: c.typeVocabSize,
      layer_norm_eps: c.layerNormEps,
      hidden_dropout_prob: c.hiddenDropout,
      attention_probs_dropout_prob: c.attentionDropout,
      classifier_dropout: c.classifierDropout === c.hiddenDropout ? null : c.classifierDropout,
      position_embedding_type: 'absolute',
      ...common,
    };
  }
  return {
    architectures: [mlm ? 'DistilBertForMaskedLM' : 'DistilBertForSequenceClassification'],
    model_type: 'distilbert',
    dim: c.hiddenSize,
    n_layers: c.numLayers,
    n_heads: c.numHeads,
    hidden_dim: c.intermediateSize,
    activation: 'gelu',
    sinusoidal_pos_embds: c.sinusoidalPositions,
    dropout: c.hiddenDropout,
    attention_dropout: c.attentionDropout,
    seq_classif_dropout: c.classifierDropout,
    ...common,
  };
}

