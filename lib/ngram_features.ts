/**
 * The n-gram model's featurizer: text → hashed feature ids (one bag per text).
 *
 * Tokens: the lower-cased text split into runs of letters/digits and single other non-space characters
 * (punctuation and emoji are tokens too), the first `maxTokens` kept. Features of a text:
 *   - word n-grams for n = 1..wordNgrams: the tokens joined by one space, hashed with tag 1;
 *   - character n-grams for n = charNgrams[0]..charNgrams[1] of each letter/digit token wrapped as
 *     "<token>" (fastText's boundary marks), hashed with tag 2 (none when charNgrams[1] is 0).
 * Hash: 32-bit FNV-1a (offset basis 2166136261, prime 16777619) over the tag and then the UTF-16 code
 * units of the n-gram, each unit XORed in whole; the row is hash mod buckets. The hash is part of the
 * saved model's meaning: it never changes within model format 1.
 */
import { PREPROCESS_PATTERNS, preprocess, type PreprocessOptions } from './preprocess.js';
import { checkInteger, checkOptions, codedError, typeError } from './errors.js';
import type { ModelInputs } from './text_model.js';

export interface FeatureConfig {
  buckets: number;
  wordNgrams: number;
  /** [min, max] character n-gram sizes; [0, 0] turns them off */
  charNgrams: [number, number];
  maxTokens: number;
}

const FNV_BASIS = 2166136261;
const FNV_PRIME = 16777619;
/** the unit hashed between the tokens of a word n-gram (a space) */
const WORD_SEPARATOR = 32;
const TOKEN = /[\p{L}\p{N}\p{M}]+|[^\s\p{L}\p{N}\p{M}]/gu;
const WORDY = /^[\p{L}\p{N}]/u;

function fnvUnits(h: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

export function tokenize(text: string, maxTokens: number): string[] {
  const out = text.toLowerCase().match(TOKEN) ?? [];
  return out.length > maxTokens ? out.slice(0, maxTokens) : out;
}

/** WORDY.test(t) for a token: its first character a letter or digit (a-z / 0-9 when it is ASCII). */
function wordy(t: string): boolean {
  const c = t.charCodeAt(0);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
  return WORDY.test(t);
}

/** Scratch for a token's units wrapped as "<token>" (grown on demand). */
let wrapped = new Uint16Array(64);

/** Where featurize appends ids: a number array, or featurizeBatch's growable Int32Array. */
interface IdSink {
  push(id: number): void;
}

/** ids into a growing Int32Array (featurizeBatch: no array of numbers to copy at the end) */
class IdBuffer implements IdSink {
  data = new Int32Array(4096);
  length = 0;
  push(id: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = id;
  }
}

/** Appends the feature ids of one text to `out`. */
export function featurize(text: string, c: FeatureConfig, out: IdSink): void {
  const toks = tokenize(text, c.maxTokens);
  const B = c.buckets;
  // h mod B; a power-of-two B (every default) as a mask, the same value
  const mask = (B & (B - 1)) === 0 ? B - 1 : -1;
  const row = (h: number) => (mask >= 0 ? h & mask : (h >>> 0) % B);
  const start = Math.imul(FNV_BASIS ^ 1, FNV_PRIME);
  for (let i = 0; i < toks.length; i++) {
    let h = start;
    for (let n = 0; n < c.wordNgrams && i + n < toks.length; n++) {
      if (n > 0) h = Math.imul(h ^ WORD_SEPARATOR, FNV_PRIME);
      h = fnvUnits(h, toks[i + n], 0, toks[i + n].length);
      out.push(row(h));
    }
  }
  const [lo, hi] = c.charNgrams;
  if (hi === 0) return;
  const cstart = Math.imul(FNV_BASIS ^ 2, FNV_PRIME);
  for (const t of toks) {
    if (!wordy(t)) continue;
    // w = "<" + t + ">", as units
    const len = t.length + 2;
    if (wrapped.length < len) wrapped = new Uint16Array(2 * len);
    const w = wrapped;
    w[0] = 60;
    for (let j = 0; j < t.length; j++) w[j + 1] = t.charCodeAt(j);
    w[len - 1] = 62;
    for (let i = 0; i + lo <= len; i++) {
      let h = cstart;
      for (let j = i; j < i + lo - 1; j++) h = Math.imul(h ^ w[j], FNV_PRIME);
      for (let n = lo; n <= hi && i + n <= len; n++) {
        h = Math.imul(h ^ w[i + n - 1], FNV_PRIME);
        // the whole word is already a unigram feature
        if (!(i === 0 && n === len)) out.push(row(h));
      }
    }
  }
}

/** The bags of a batch: ids (nnz) and offsets (B+1), as embedding_bag.h takes them. */
export function featurizeBatch(texts: readonly string[], c: FeatureConfig): { ids: Int32Array; offsets: Int32Array } {
  const ids = new IdBuffer();
  const offsets = new Int32Array(texts.length + 1);
  for (let b = 0; b < texts.length; b++) {
    featurize(texts[b], c, ids);
    offsets[b + 1] = ids.length;
  }
  return { ids: ids.data.slice(0, ids.length), offsets };
}

/**
 * The padded int64 feature ids and mask of a batch (the n-gram graph's inputs): a row holds its text's
 * ids in featurize's order, then padding (id 0, mask 0); `length` is the longest row, at least 1 (a
 * batch of texts without features is one column of padding).
 */
export function paddedFeatures(texts: readonly string[], c: FeatureConfig): ModelInputs {
  const { ids, offsets } = featurizeBatch(texts, c);
  const B = texts.length;
  let L = 1;
  for (let b = 0; b < B; b++) L = Math.max(L, offsets[b + 1] - offsets[b]);
  const inputIds = new BigInt64Array(B * L);
  const attentionMask = new BigInt64Array(B * L);
  for (let b = 0; b < B; b++)
    for (let i = offsets[b]; i < offsets[b + 1]; i++) {
      inputIds[b * L + i - offsets[b]] = BigInt(ids[i]);
      attentionMask[b * L + i - offsets[b]] = 1n;
    }
  return { batchSize: B, length: L, inputIds, attentionMask };
}

export const FEATURIZER_TYPE = 'fused-hashed-ngrams';

/**
 * The featurizer as an exported config.json states it (`featurizer`): the settings a reimplementation
 * needs, in words and as values, the training preprocessing, and example texts with their ids.
 */
export function featurizerSpec(c: FeatureConfig, prep: PreprocessOptions | undefined): Record<string, unknown> {
  const examples = ['', 'Hi, naïve café!', 'printer jammed :( again'].map((text) => {
    const ids: number[] = [];
    featurize(prep ? preprocess(text, prep) : text, c, ids);
    return { text, input_ids: ids };
  });
  return {
    type: FEATURIZER_TYPE,
    version: 1,
    preprocess: prep ?? null,
    preprocess_patterns: prep ? PREPROCESS_PATTERNS : null,
    lowercase: 'String.prototype.toLowerCase (Unicode default case mapping, no locale)',
    token_pattern: TOKEN.source,
    token_pattern_flags: TOKEN.flags,
    max_tokens: c.maxTokens,
    word_ngrams: c.wordNgrams,
    char_ngrams: c.charNgrams,
    buckets: c.buckets,
    hash: { name: 'FNV-1a', bits: 32, offset_basis: FNV_BASIS, prime: FNV_PRIME, units: 'UTF-16 code units', word_tag: 1, char_tag: 2, word_separator: WORD_SEPARATOR },
    description: [
      '1. When preprocess is not null, apply it first (in this order: stripUrls replaces preprocess_patterns.url with a space, lowercase, stripDigits and stripPunctuation replace their patterns with a space; then runs of whitespace become one space and the ends are trimmed).',
      '2. Lower-case the text; its tokens are the matches of token_pattern (JavaScript RegExp with token_pattern_flags): runs of letters/marks/digits and single other non-space characters. Keep the first max_tokens.',
      '3. Word n-grams, for each start token i in order, n = 1..word_ngrams while tokens remain: h = FNV-1a state after XOR-multiplying word_tag into offset_basis, then each UTF-16 code unit of token i (h = (h XOR unit) * prime mod 2^32, the unit XORed in whole), and before each further token the unit word_separator (a space); emit h mod buckets after each n.',
      '4. Character n-grams (none when char_ngrams[1] is 0): for each token whose first character is a letter or digit (\\p{L} or \\p{N}), w = "<" + token + ">"; for each start i, n = char_ngrams[0]..char_ngrams[1] while i + n <= length(w) in UTF-16 units: hash char_tag then the units w[i..i+n) from offset_basis as in 3 and emit h mod buckets, except the n-gram that is the whole of w.',
      '5. A text\'s features are its word n-gram ids then its character n-gram ids, repeats kept (each occurrence counts in the pooling). input_ids holds them, padded with 0 where attention_mask is 0.',
    ],
    examples,
  };
}

/**
 * The graph inputs of texts for an exported n-gram model, from its config.json's `featurizer` block
 * (featurizerSpec), so an export directory alone is enough to run it: the block's preprocessing, then
 * paddedFeatures.
 */
export function featurizeNgrams(texts: readonly string[], featurizer: unknown): ModelInputs {
  if (!Array.isArray(texts)) throw typeError('texts', 'an array of strings', texts);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw typeError(`texts[${i}]`, 'a string', t);
  });
  const f = checkOptions('featurizer', featurizer);
  if (f.type !== FEATURIZER_TYPE || f.version !== 1)
    throw codedError('ERR_INVALID_ARG', `featurizer must be the "featurizer" block of an exported n-gram model's config.json (type "${FEATURIZER_TYPE}", version 1); got type ${JSON.stringify(f.type)}, version ${JSON.stringify(f.version)}`);
  const hash = f.hash as Record<string, unknown> | undefined;
  if (hash?.offset_basis !== FNV_BASIS || hash?.prime !== FNV_PRIME || hash?.word_tag !== 1 || hash?.char_tag !== 2 || hash?.word_separator !== WORD_SEPARATOR || f.token_pattern !== TOKEN.source)
    throw codedError('ERR_INVALID_ARG', 'featurizer.hash and featurizer.token_pattern must be those of format version 1 (FNV-1a 32, tags 1 and 2, separator 32, the package\'s token pattern)');
  const cn = f.char_ngrams;
  if (!Array.isArray(cn) || cn.length !== 2 || !cn.every((x) => Number.isInteger(x) && x >= 0 && x <= 16) || cn[0] > cn[1] || (cn[0] === 0) !== (cn[1] === 0))
    throw typeError('featurizer.char_ngrams', '[min, max] with 1 <= min <= max <= 16, or [0, 0]', cn);
  const c: FeatureConfig = {
    buckets: checkInteger('featurizer.buckets', f.buckets, 1, 1 << 26),
    wordNgrams: checkInteger('featurizer.word_ngrams', f.word_ngrams, 1, 5),
    charNgrams: [cn[0], cn[1]],
    maxTokens: checkInteger('featurizer.max_tokens', f.max_tokens, 1, 1 << 20),
  };
  const prep = f.preprocess === null || f.preprocess === undefined ? undefined : (checkOptions('featurizer.preprocess', f.preprocess) as PreprocessOptions);
  return paddedFeatures(prep ? texts.map((t) => preprocess(t, prep)) : texts, c);
}

/**
 * The distinct rows of a batch's ids and their occurrences grouped by row (CSR), as the backward kernel
 * takes them: rows (U), rowPtr (U+1), occBag (nnz). `slot` is scratch of length buckets filled with -1
 * (left that way on return).
 */
export function groupByRow(ids: Int32Array, offsets: Int32Array, slot: Int32Array): { rows: Int32Array; rowPtr: Int32Array; occBag: Int32Array } {
  const rowsList: number[] = [];
  const slotOf = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    let s = slot[ids[i]];
    if (s < 0) {
      s = slot[ids[i]] = rowsList.length;
      rowsList.push(ids[i]);
    }
    slotOf[i] = s;
  }
  const U = rowsList.length;
  const rows = Int32Array.from(rowsList);
  for (let u = 0; u < U; u++) slot[rows[u]] = -1;
  const rowPtr = new Int32Array(U + 1);
  for (let i = 0; i < ids.length; i++) rowPtr[slotOf[i] + 1]++;
  for (let u = 0; u < U; u++) rowPtr[u + 1] += rowPtr[u];
  const fill = rowPtr.slice(0, U);
  const occBag = new Int32Array(ids.length);
  for (let b = 0; b + 1 < offsets.length; b++) for (let i = offsets[b]; i < offsets[b + 1]; i++) occBag[fill[slotOf[i]]++] = b;
  return { rows, rowPtr, occBag };
}
