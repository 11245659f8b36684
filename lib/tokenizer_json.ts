/**
 * Hugging Face tokenizer.json, both ways: `readTokenizerJson` turns a file into the parts a Tokenizer is
 * built from (WordPiece models with BERT normalisation run on this package's basic tokenizer and
 * WordPiece; other model types go through @huggingface/tokenizers), and `tokenizerJson` writes a
 * WordPiece tokenizer as the object that `tokenizers` and transformers.js load.
 */
import { createRequire } from 'node:module';
import type { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { invalidFileError } from './errors.js';
import { readRegularFile } from './files.js';
import type { NormalizerConfig } from './basic_tokenizer.js';
import { MAX_CHARS_PER_WORD, type WordPieceModel } from './wordpiece.js';

/** What a Tokenizer is built from; absent special tokens take BERT's names. */
export interface TokenizerParts {
  vocab: Map<string, number>;
  norm: NormalizerConfig;
  wp?: WordPieceModel;
  hf?: HFTokenizer;
  unkToken?: string;
  padToken?: string;
  clsToken?: string;
  sepToken?: string;
  maskToken?: string;
  /** Ids put before / after every sequence (default [CLS] / [SEP] when the vocabulary has them). */
  prefixIds?: number[];
  suffixIds?: number[];
}

// @huggingface/tokenizers is loaded only for non-WordPiece tokenizer.json files, so that importing
// the package needs no third-party module.
const require = createRequire(import.meta.url);
function hfTokenizerClass(): typeof HFTokenizer {
  return (require('@huggingface/tokenizers') as { Tokenizer: typeof HFTokenizer }).Tokenizer;
}

/** The parts of a tokenizer read from a tokenizer.json file (offline). */
export function readTokenizerJson(path: string): TokenizerParts {
  let json: Record<string, any>;
  try {
    json = JSON.parse(readRegularFile(path, 'tokenizer.json').toString('utf8'));
  } catch (e) {
    throw invalidFileError(path, `cannot read a tokenizer.json (${(e as Error).message})`);
  }
  const model = json.model;
  if (!model || typeof model !== 'object') throw invalidFileError(path, 'no "model" object');
  const { prefixIds, suffixIds } = postProcessorIds(json.post_processor);
  const padToken: string | undefined = json.padding?.pad_token;
  const normalizer = json.normalizer;
  const bertLike =
    model.type === 'WordPiece' &&
    (normalizer === null || normalizer === undefined || normalizer.type === 'BertNormalizer') &&
    json.pre_tokenizer?.type === 'BertPreTokenizer';
  if (bertLike) {
    const vocab = new Map<string, number>(Object.entries(model.vocab as Record<string, number>));
    for (const t of json.added_tokens ?? []) if (!vocab.has(t.content)) vocab.set(t.content, t.id);
    const n = normalizer ?? {};
    const lowercase = normalizer ? n.lowercase !== false : false;
    return {
      vocab,
      norm: {
        cleanText: normalizer ? n.clean_text !== false : false,
        handleChinese: normalizer ? n.handle_chinese_chars !== false : false,
        lowercase,
        stripAccents: n.strip_accents === null || n.strip_accents === undefined ? lowercase : !!n.strip_accents,
      },
      wp: { vocab, prefix: model.continuing_subword_prefix ?? '##', maxChars: model.max_input_chars_per_word ?? MAX_CHARS_PER_WORD },
      unkToken: model.unk_token ?? '[UNK]',
      padToken,
      prefixIds,
      suffixIds,
    };
  }
  // Other models (BPE, Unigram) and other normalizers / pre-tokenizers: @huggingface/tokenizers.
  let hf: HFTokenizer;
  try {
    hf = new (hfTokenizerClass())(json, {});
  } catch (e) {
    throw invalidFileError(path, `@huggingface/tokenizers cannot load it (${(e as Error).message})`);
  }
  const vocab = new Map<string, number>(hf.get_vocab(true));
  for (const t of json.added_tokens ?? []) if (!vocab.has(t.content)) vocab.set(t.content, t.id);
  const unk = typeof model.unk_token === 'string' ? model.unk_token : vocab.has('<unk>') ? '<unk>' : '[UNK]';
  return {
    vocab,
    norm: { cleanText: false, handleChinese: false, lowercase: false, stripAccents: false },
    hf,
    unkToken: unk,
    padToken: padToken ?? (vocab.has('<pad>') ? '<pad>' : '[PAD]'),
    clsToken: vocab.has('[CLS]') ? '[CLS]' : '<s>',
    sepToken: vocab.has('[SEP]') ? '[SEP]' : '</s>',
    maskToken: vocab.has('[MASK]') ? '[MASK]' : '<mask>',
    prefixIds,
    suffixIds,
  };
}

/** Leading / trailing special ids of single sequences from a tokenizer.json post_processor. */
function postProcessorIds(pp: any): { prefixIds?: number[]; suffixIds?: number[] } {
  if (!pp || typeof pp !== 'object') return {};
  if ((pp.type === 'BertProcessing' || pp.type === 'RobertaProcessing') && Array.isArray(pp.cls) && Array.isArray(pp.sep))
    return { prefixIds: [pp.cls[1]], suffixIds: [pp.sep[1]] };
  if (pp.type === 'TemplateProcessing' && Array.isArray(pp.single)) {
    const prefixIds: number[] = [];
    const suffixIds: number[] = [];
    let seenSeq = false;
    for (const piece of pp.single) {
      if (piece.Sequence) {
        seenSeq = true;
        continue;
      }
      const name = piece.SpecialToken?.id;
      const ids: number[] = pp.special_tokens?.[name]?.ids ?? [];
      (seenSeq ? suffixIds : prefixIds).push(...ids);
    }
    return { prefixIds, suffixIds };
  }
  if (pp.type === 'Sequence' && Array.isArray(pp.processors)) {
    for (const p of pp.processors) {
      const r = postProcessorIds(p);
      if (r.prefixIds) return r;
    }
  }
  return {};
}

/** What tokenizerJson needs of a WordPiece tokenizer. */
export interface WordPieceTokenizerParts {
  idTokens: readonly string[];
  norm: NormalizerConfig;
  wp: WordPieceModel;
  unkToken: string;
  /** The special ids (pad, unk, cls, sep, mask), -1 where absent. */
  specialIds: readonly number[];
  prefixIds: readonly number[];
  suffixIds: readonly number[];
}

/**
 * A WordPiece tokenizer as a Hugging Face tokenizer.json object (BertNormalizer with the same
 * normalisation, BertPreTokenizer, WordPiece, the prefix … suffix template, truncation at maxLength).
 */
export function tokenizerJson(t: WordPieceTokenizerParts, maxLength: number): Record<string, unknown> {
  const { idTokens, norm } = t;
  const specials = t.specialIds.filter((id, i, a) => id >= 0 && idTokens[id] !== undefined && a.indexOf(id) === i);
  const piece = (ids: readonly number[], typeId: number) => ids.map((id) => ({ SpecialToken: { id: idTokens[id], type_id: typeId } }));
  const seq = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const pre = t.prefixIds, post = t.suffixIds;
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: specials.sort((a, b) => a - b).map((id) => ({ id, content: idTokens[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: norm.cleanText,
      handle_chinese_chars: norm.handleChinese,
      strip_accents: norm.stripAccents === norm.lowercase ? null : norm.stripAccents,
      lowercase: norm.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [...piece(pre, 0), seq('A', 0), ...piece(post, 0)],
      pair: [...piece(pre, 0), seq('A', 0), ...piece(post, 0), seq('B', 1), ...piece(post, 1)],
      special_tokens: Object.fromEntries([...new Set([...pre, ...post])].map((id) => [idTokens[id], { id: idTokens[id], ids: [id], tokens: [idTokens[id]] }])),
    },
    decoder: { type: 'WordPiece', prefix: t.wp.prefix, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: t.unkToken,
      continuing_subword_prefix: t.wp.prefix,
      max_input_chars_per_word: t.wp.maxChars,
      vocab: Object.fromEntries(idTokens.map((tok, id) => [tok, id])),
    },
  };
}
