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

export interface FeatureConfig {
  buckets: number;
  wordNgrams: number;
  /** [min, max] character n-gram sizes; [0, 0] turns them off */
  charNgrams: [number, number];
  maxTokens: number;
}

const FNV_BASIS = 2166136261;
const FNV_PRIME = 16777619;
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

/** Appends the feature ids of one text to `out` (a growable number array). */
export function featurize(text: string, c: FeatureConfig, out: number[]): void {
  const toks = tokenize(text, c.maxTokens);
  const B = c.buckets;
  const start = Math.imul(FNV_BASIS ^ 1, FNV_PRIME);
  for (let i = 0; i < toks.length; i++) {
    let h = start;
    for (let n = 0; n < c.wordNgrams && i + n < toks.length; n++) {
      if (n > 0) h = Math.imul(h ^ 32, FNV_PRIME);
      h = fnvUnits(h, toks[i + n], 0, toks[i + n].length);
      out.push((h >>> 0) % B);
    }
  }
  const [lo, hi] = c.charNgrams;
  if (hi === 0) return;
  const cstart = Math.imul(FNV_BASIS ^ 2, FNV_PRIME);
  for (const t of toks) {
    if (!WORDY.test(t)) continue;
    const w = `<${t}>`;
    for (let i = 0; i + lo <= w.length; i++) {
      let h = fnvUnits(cstart, w, i, i + lo - 1);
      for (let n = lo; n <= hi && i + n <= w.length; n++) {
        h = Math.imul(h ^ w.charCodeAt(i + n - 1), FNV_PRIME);
        // the whole word is already a unigram feature
        if (!(i === 0 && n === w.length)) out.push((h >>> 0) % B);
      }
    }
  }
}

/** The bags of a batch: ids (nnz) and offsets (B+1), as embedding_bag.h takes them. */
export function featurizeBatch(texts: readonly string[], c: FeatureConfig): { ids: Int32Array; offsets: Int32Array } {
  const ids: number[] = [];
  const offsets = new Int32Array(texts.length + 1);
  for (let b = 0; b < texts.length; b++) {
    featurize(texts[b], c, ids);
    offsets[b + 1] = ids.length;
  }
  return { ids: Int32Array.from(ids), offsets };
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
