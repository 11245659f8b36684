/**
 * The tokenizer facade: BERT WordPiece written here (no native code) on the BERT basic tokenizer's rules
 * (basic_tokenizer.ts), greedy longest-match-first WordPiece with the "##" prefix (wordpiece.ts); words
 * over 100 code points become [UNK].
 *
 * Sources: vocab.txt (fromVocab), a Hugging Face tokenizer.json (fromTokenizerJson, read by
 * tokenizer_json.ts: WordPiece models run on this implementation; other model types go through
 * @huggingface/tokenizers), or a vocabulary learnt from texts (train: BPE-style pair merges over
 * basic-tokenized words with "##" continuation pieces, as Hugging Face's WordPiece trainer does, ties
 * broken by token strings; wordpiece.ts). save() writes vocab.txt and tokenizer_config.json that Hugging
 * Face's BertTokenizer loads; toTokenizerJson() gives the tokenizer.json that `tokenizers` and
 * transformers.js load.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { readRegularFile } from './files.js';
import { join } from 'node:path';
import type { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { checkOptions, rejectUnknownKeys, typeError, rangeErrorMessage, invalidFileError, checkInteger } from './errors.js';
import { locateModelDir, readTokenizerConfig, writeFileAtomic } from './model_dir.js';
import { basicTokenize, type NormalizerConfig } from './basic_tokenizer.js';
import { learnWordPiece, MAX_CHARS_PER_WORD, wordPieceSplit, type WordPieceModel } from './wordpiece.js';
import { readTokenizerJson, tokenizerJson, type TokenizerParts } from './tokenizer_json.js';

export interface BatchEncoding {
  /** batchSize × seqLen token ids, row-major. */
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Uint8Array;
  /** All zeros (single sequences). */
  tokenTypeIds: Int32Array;
  batchSize: number;
  seqLen: number;
}

export interface EncodeBatchOptions {
  /** Longest sequence including [CLS] and [SEP] (default 512). */
  maxLength?: number;
  /** 'longest' pads to the longest row of the batch, 'max_length' to maxLength (default 'longest'). */
  padding?: 'longest' | 'max_length';
  /** Cut rows longer than maxLength (default true); false makes a too-long row an error. */
  truncation?: boolean;
}

export interface TrainOptions {
  vocabSize: number;
  lowercase?: boolean;
  minFrequency?: number;
}

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Tokenizer {
  /** token -> id */
  readonly vocab: Map<string, number>;
  private readonly idTokens: string[];
  private readonly norm: NormalizerConfig;
  private readonly wp?: WordPieceModel;
  private readonly hf?: HFTokenizer;
  private readonly cache = new Map<string, string[]>();
  private readonly specialRe?: RegExp;
  readonly unkToken: string;
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly maskId: number;
  /** Ids put before / after every sequence ([CLS] / [SEP] for BERT). */
  private readonly prefixIds: number[];
  private readonly suffixIds: number[];

  private constructor(init: TokenizerParts) {
    this.vocab = init.vocab;
    this.norm = init.norm;
    this.wp = init.wp;
    this.hf = init.hf;
    let maxId = -1;
    for (const id of this.vocab.values()) if (id > maxId) maxId = id;
    this.idTokens = new Array<string>(maxId + 1);
    for (const [tok, id] of this.vocab) this.idTokens[id] = tok;
    this.unkToken = init.unkToken ?? '[UNK]';
    const id = (tok: string | undefined, fallback: number) => (tok !== undefined && this.vocab.has(tok) ? this.vocab.get(tok)! : fallback);
    this.unkId = id(this.unkToken, -1);
    if (this.wp && this.unkId < 0) throw rangeErrorMessage(`The vocabulary has no unknown token "${this.unkToken}"`);
    this.clsId = id(init.clsToken ?? '[CLS]', -1);
    this.sepId = id(init.sepToken ?? '[SEP]', -1);
    // Vocabularies without a padding token (the classic BERT test vocab) pad with id 0.
    this.padId = id(init.padToken ?? '[PAD]', 0);
    this.maskId = id(init.maskToken ?? '[MASK]', -1);
    this.prefixIds = init.prefixIds ?? (this.clsId >= 0 ? [this.clsId] : []);
    this.suffixIds = init.suffixIds ?? (this.sepId >= 0 ? [this.sepId] : []);
    const specials = [init.unkToken ?? '[UNK]', init.clsToken ?? '[CLS]', init.sepToken ?? '[SEP]', init.padToken ?? '[PAD]', init.maskToken ?? '[MASK]'].filter(
      (t) => this.vocab.has(t),
    );
    if (specials.length) this.specialRe = new RegExp(`(${specials.map(escapeRe).join('|')})`);
  }

  get vocabSize(): number {
    return this.idTokens.length;
  }

  idToToken(id: number): string | undefined {
    return this.idTokens[id];
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  get lowercase(): boolean {
    return this.norm.lowercase;
  }

  /**
   * The tokenizer of a pretrained model directory or Hub id (`hf:ORG/NAME[@REVISION]`): vocab.txt (with
   * do_lower_case from tokenizer_config.json), else tokenizer.json.
   */
  static async fromPretrained(source: string): Promise<Tokenizer> {
    if (typeof source !== 'string' || source === '') throw typeError('source', "a model directory or a Hub id 'hf:ORG/NAME'", source);
    const dir = await locateModelDir(source, 'source');
    if (existsSync(join(dir, 'vocab.txt'))) return Tokenizer.fromVocab(dir);
    if (existsSync(join(dir, 'tokenizer.json'))) return Tokenizer.fromTokenizerJson(join(dir, 'tokenizer.json'));
    throw invalidFileError(dir, 'a pretrained model directory needs vocab.txt (or tokenizer.json)');
  }

  /** BERT WordPiece from a vocab.txt file (one token per line, id = line number), or a folder holding one. */
  static fromVocab(path: string, options: { lowercase?: boolean } = {}): Tokenizer {
    if (typeof path !== 'string' || path === '') throw typeError('path', 'the path of a vocab.txt file or its folder', path);
    const opts = checkOptions('fromVocab options', options);
    rejectUnknownKeys('fromVocab options', opts, ['lowercase']);
    if (opts.lowercase !== undefined && typeof opts.lowercase !== 'boolean') throw typeError('options.lowercase', 'a boolean', opts.lowercase);
    let file = path;
    let lowercase = opts.lowercase as boolean | undefined;
    try {
      if (statSync(path).isDirectory()) {
        file = join(path, 'vocab.txt');
        lowercase ??= readTokenizerConfig(path)?.lowercase;
      }
    } catch (e) {
      throw invalidFileError(path, `cannot read (${(e as Error).message})`);
    }
    let text: string;
    try {
      text = readRegularFile(file, 'vocabulary').toString('utf8');
    } catch (e) {
      throw invalidFileError(file, `cannot read the vocabulary (${(e as Error).message})`);
    }
    const lines = text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    const vocab = new Map<string, number>();
    lines.forEach((line, i) => vocab.set(line.replace(/\r$/, ''), i));
    if (!vocab.has('[UNK]')) throw invalidFileError(file, 'the vocabulary has no "[UNK]" token');
    const lc = lowercase ?? true;
    return new Tokenizer({
      vocab,
      norm: { cleanText: true, handleChinese: true, lowercase: lc, stripAccents: lc },
      wp: { vocab, prefix: '##', maxChars: MAX_CHARS_PER_WORD },
    });
  }

  /** A Hugging Face tokenizer.json read from disk (offline). */
  static fromTokenizerJson(path: string): Tokenizer {
    if (typeof path !== 'string' || path === '') throw typeError('path', 'the path of a tokenizer.json file', path);
    return new Tokenizer(readTokenizerJson(path));
  }

  /**
   * Learns a WordPiece vocabulary: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then every character seen
   * (sorted) and their "##" forms, then pieces from repeated merges of the most frequent adjacent
   * pair (ties: smaller left token, then smaller right token) while the pair occurs at least
   * minFrequency times and the vocabulary is below vocabSize. The alphabet is always kept whole.
   */
  static train(texts: readonly string[], options: TrainOptions): Tokenizer {
    if (!Array.isArray(texts)) throw typeError('texts', 'an array of strings', texts);
    const opts = checkOptions('train options', options);
    rejectUnknownKeys('train options', opts, ['vocabSize', 'lowercase', 'minFrequency']);
    const vocabSize = checkInteger('options.vocabSize', opts.vocabSize, SPECIALS.length);
    if (opts.lowercase !== undefined && typeof opts.lowercase !== 'boolean') throw typeError('options.lowercase', 'a boolean', opts.lowercase);
    const lowercase = opts.lowercase ?? true;
    const minFrequency = opts.minFrequency === undefined ? 2 : checkInteger('options.minFrequency', opts.minFrequency, 1);
    const norm: NormalizerConfig = { cleanText: true, handleChinese: true, lowercase: lowercase as boolean, stripAccents: lowercase as boolean };

    const wordCounts = new Map<string, number>();
    const buf: string[] = [];
    texts.forEach((t, i) => {
      if (typeof t !== 'string') throw typeError(`texts[${i}]`, 'a string', t);
      buf.length = 0;
      basicTokenize(t, norm, buf);
      for (const w of buf) if ([...w].length <= MAX_CHARS_PER_WORD) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    });
    const tokens = learnWordPiece(wordCounts, SPECIALS, vocabSize, minFrequency);
    const vocab = new Map<string, number>();
    tokens.forEach((t, i) => vocab.set(t, i));
    return new Tokenizer({ vocab, norm, wp: { vocab, prefix: '##', maxChars: MAX_CHARS_PER_WORD } });
  }

  /** Writes vocab.txt, tokenizer_config.json and special_tokens_map.json (each atomically) into dir. */
  save(dir: string): void {
    if (typeof dir !== 'string' || dir === '') throw typeError('dir', 'a folder path', dir);
    if (!this.wp) throw rangeErrorMessage('save() writes WordPiece vocabularies only; this tokenizer came from a non-WordPiece tokenizer.json');
    for (let i = 0; i < this.idTokens.length; i++)
      if (this.idTokens[i] === undefined) throw rangeErrorMessage(`Cannot write vocab.txt: no token has id ${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, 'vocab.txt'), this.idTokens.join('\n') + '\n');
    const tok = (id: number, fallback: string) => (id >= 0 ? this.idTokens[id] : fallback);
    const specials = {
      unk_token: this.unkToken,
      sep_token: tok(this.sepId, '[SEP]'),
      pad_token: tok(this.vocab.has('[PAD]') ? this.padId : -1, '[PAD]'),
      cls_token: tok(this.clsId, '[CLS]'),
      mask_token: tok(this.maskId, '[MASK]'),
    };
    const config = {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: this.norm.lowercase,
      strip_accents: this.norm.stripAccents === this.norm.lowercase ? null : this.norm.stripAccents,
      tokenize_chinese_chars: this.norm.handleChinese,
      do_basic_tokenize: true,
      model_max_length: 512,
      ...specials,
    };
    writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
    writeFileAtomic(join(dir, 'special_tokens_map.json'), JSON.stringify(specials, null, 2) + '\n');
  }

  /**
   * This WordPiece tokenizer as a Hugging Face tokenizer.json object (BertNormalizer with the same
   * normalisation, BertPreTokenizer, WordPiece, the [CLS] … [SEP] template, truncation at maxLength), which
   * the `tokenizers` library and transformers.js load and tokenize as encodeBatch does.
   */
  toTokenizerJson(maxLength = 512): Record<string, unknown> {
    if (!this.wp) throw rangeErrorMessage('toTokenizerJson() writes WordPiece vocabularies only; this tokenizer came from a non-WordPiece tokenizer.json');
    return tokenizerJson(
      {
        idTokens: this.idTokens,
        norm: this.norm,
        wp: this.wp,
        unkToken: this.unkToken,
        specialIds: [this.padId, this.unkId, this.clsId, this.sepId, this.maskId],
        prefixIds: this.prefixIds,
        suffixIds: this.suffixIds,
      },
      maxLength,
    );
  }

  private wordPiece(word: string, out: string[]): void {
    let pieces = this.cache.get(word);
    if (!pieces) {
      pieces = wordPieceSplit(word, this.wp!, this.unkToken);
      if (this.cache.size > 200_000) this.cache.clear();
      this.cache.set(word, pieces);
    }
    for (const t of pieces) out.push(t);
  }

  /** Tokens of a text, without [CLS] / [SEP]. */
  tokenize(text: string): string[] {
    if (typeof text !== 'string') throw typeError('text', 'a string', text);
    if (this.hf) return this.hf.tokenize(text, { add_special_tokens: false });
    const out: string[] = [];
    const words: string[] = [];
    // Special tokens written in the text are kept whole, as Hugging Face's tokenizers do.
    const segments = this.specialRe ? text.split(this.specialRe) : [text];
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      if (i % 2 === 1) {
        out.push(seg);
        continue;
      }
      words.length = 0;
      basicTokenize(seg, this.norm, words);
      for (const w of words) this.wordPiece(w, out);
    }
    return out;
  }

  private ids(text: string): number[] {
    if (this.hf) return this.hf.encode(text, { add_special_tokens: false }).ids.map(Number);
    const toks = this.tokenize(text);
    return toks.map((t) => this.vocab.get(t) ?? this.unkId);
  }

  /** Ids with the special tokens around them: [CLS] … [SEP]. */
  encode(text: string, options: { maxLength?: number; truncation?: boolean } = {}): { ids: number[]; tokens: string[] } {
    const opts = checkOptions('encode options', options);
    rejectUnknownKeys('encode options', opts, ['maxLength', 'truncation']);
    const b = this.encodeBatch([text], { maxLength: opts.maxLength as number | undefined, truncation: opts.truncation as boolean | undefined });
    const ids = Array.from(b.inputIds);
    return { ids, tokens: ids.map((id) => this.idTokens[id] ?? this.unkToken) };
  }

  /** A padded batch for the encoder: ids, attention mask and token type ids, batchSize × seqLen. */
  encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): BatchEncoding {
    if (!Array.isArray(texts)) throw typeError('texts', 'an array of strings', texts);
    const opts = checkOptions('encodeBatch options', options);
    rejectUnknownKeys('encodeBatch options', opts, ['maxLength', 'padding', 'truncation']);
    const special = this.prefixIds.length + this.suffixIds.length;
    const maxLength = opts.maxLength === undefined ? 512 : checkInteger('options.maxLength', opts.maxLength, special + 1);
    const padding = opts.padding ?? 'longest';
    if (padding !== 'longest' && padding !== 'max_length') {
      rejectUnknownKeys('options.padding', { [String(padding)]: 1 }, ['longest', 'max_length']);
      throw typeError('options.padding', "'longest' or 'max_length'", padding);
    }
    if (opts.truncation !== undefined && typeof opts.truncation !== 'boolean') throw typeError('options.truncation', 'a boolean', opts.truncation);
    const truncation = opts.truncation !== false;
    const room = maxLength - special;
    const rows: number[][] = texts.map((t, i) => {
      if (typeof t !== 'string') throw typeError(`texts[${i}]`, 'a string', t);
      let ids = this.ids(t);
      if (ids.length > room) {
        if (!truncation)
          throw rangeErrorMessage(`texts[${i}] has ${ids.length + special} tokens, more than maxLength ${maxLength}, and truncation is false`);
        ids = ids.slice(0, room);
      }
      return ids;
    });
    let seqLen = padding === 'max_length' ? maxLength : 0;
    if (padding === 'longest') for (const r of rows) seqLen = Math.max(seqLen, r.length + special);
    const B = rows.length;
    const inputIds = new Int32Array(B * seqLen).fill(this.padId);
    const attentionMask = new Uint8Array(B * seqLen);
    rows.forEach((r, i) => {
      const full = [...this.prefixIds, ...r, ...this.suffixIds];
      inputIds.set(full, i * seqLen);
      attentionMask.fill(1, i * seqLen, i * seqLen + full.length);
    });
    return { inputIds, attentionMask, tokenTypeIds: new Int32Array(B * seqLen), batchSize: B, seqLen };
  }
}

/**
 * Each text's token count in a batch (special tokens included, cut at maxLength): what it costs in a batch
 * padded to its longest text. Encoded 1,024 texts at a time, so memory stays bounded.
 */
export function tokenCounts(tokenizer: Tokenizer, texts: readonly string[], maxLength: number): Uint16Array {
  const out = new Uint16Array(texts.length);
  for (let w = 0; w < texts.length; w += 1024) {
    const b = tokenizer.encodeBatch(texts.slice(w, w + 1024), { maxLength, padding: 'longest', truncation: true });
    for (let i = 0; i < b.batchSize; i++) {
      let len = 0;
      for (let t = 0; t < b.seqLen; t++) len += b.attentionMask[i * b.seqLen + t];
      out[w + i] = len;
    }
  }
  return out;
}
