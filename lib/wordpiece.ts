/**
 * WordPiece: splitting a word into the longest vocabulary pieces first (`wordPieceSplit`, with the "##"
 * continuation prefix; a word with an unmatched rest, or over maxChars code points, becomes the unknown
 * token), and learning a vocabulary from word counts (`learnWordPiece`): the special tokens, then every
 * character seen (sorted) and their "##" forms, then pieces from repeated merges of the most frequent
 * adjacent pair (ties: smaller left token, then smaller right token) while the pair occurs at least
 * `minFrequency` times and the vocabulary is below `vocabSize`. The alphabet is always kept whole. Pair
 * counts are kept incrementally (only the words holding the merged pair are revisited) with a
 * lazy-deletion max-heap.
 */

/** BERT's limit: longer words become the unknown token. */
export const MAX_CHARS_PER_WORD = 100;

export interface WordPieceModel {
  vocab: Map<string, number>;
  prefix: string;
  maxChars: number;
}

/** Greedy longest-match-first pieces of one (basic-tokenized) word. */
export function wordPieceSplit(word: string, wp: WordPieceModel, unkToken: string): string[] {
  const chars = Array.from(word);
  if (chars.length > wp.maxChars) return [unkToken];
  const pieces: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let found: string | undefined;
    while (start < end) {
      let sub = chars.slice(start, end).join('');
      if (start > 0) sub = wp.prefix + sub;
      if (wp.vocab.has(sub)) {
        found = sub;
        break;
      }
      end--;
    }
    if (found === undefined) return [unkToken];
    pieces.push(found);
    start = end;
  }
  return pieces;
}

/** Code-unit order. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The vocabulary, in id order, for words counted in `wordCounts` (already normalised and split). */
export function learnWordPiece(wordCounts: ReadonlyMap<string, number>, specials: readonly string[], vocabSize: number, minFrequency: number): string[] {
  const tokens: string[] = [...specials];
  const ids = new Map<string, number>();
  tokens.forEach((t, i) => ids.set(t, i));
  const chars = new Set<string>();
  for (const w of wordCounts.keys()) for (const c of w) chars.add(c);
  const alphabet = [...chars].sort(cmp);
  const add = (t: string) => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      ids.set(t, id);
    }
    return id;
  };
  for (const c of alphabet) add(c);
  for (const c of alphabet) add('##' + c);

  // Words as symbol-id arrays; pair statistics with the words they occur in.
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, c] of wordCounts) {
    const cs = [...w];
    words.push(cs.map((ch, i) => ids.get(i === 0 ? ch : '##' + ch)!));
    freq.push(c);
  }
  const SH = 2 ** 21;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: number, changed: Set<number>) => {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] * SH + s[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * freq[w]);
      changed.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  const init = new Set<number>();
  for (let w = 0; w < words.length; w++) addPairs(w, 1, init);

  // Max-heap on (count desc, left token asc, right token asc) with lazy deletion.
  type Entry = { count: number; key: number };
  const heap: Entry[] = [];
  const better = (a: Entry, b: Entry) => {
    if (a.count !== b.count) return a.count > b.count;
    const la = tokens[Math.floor(a.key / SH)];
    const lb = tokens[Math.floor(b.key / SH)];
    if (la !== lb) return la < lb;
    return tokens[a.key % SH] < tokens[b.key % SH];
  };
  const push = (e: Entry) => {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!better(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const pop = (): Entry => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const a = 2 * i + 1;
        const b = a + 1;
        let c = i;
        if (a < heap.length && better(heap[a], heap[c])) c = a;
        if (b < heap.length && better(heap[b], heap[c])) c = b;
        if (c === i) break;
        [heap[i], heap[c]] = [heap[c], heap[i]];
        i = c;
      }
    }
    return top;
  };
  for (const key of init) {
    const c = pairCount.get(key)!;
    if (c > 0) push({ count: c, key });
  }

  while (tokens.length < vocabSize && heap.length) {
    const e = pop();
    const current = pairCount.get(e.key) ?? 0;
    if (current !== e.count || current <= 0) continue; // stale
    if (current < minFrequency) break;
    const a = Math.floor(e.key / SH);
    const b = e.key % SH;
    const ta = tokens[a];
    const tb = tokens[b];
    const merged = add(ta + (tb.startsWith('##') ? tb.slice(2) : tb));
    const changed = new Set<number>();
    const affected = [...(pairWords.get(e.key) ?? [])].sort((x, y) => x - y);
    for (const w of affected) {
      const s = words[w];
      let has = false;
      for (let i = 0; i + 1 < s.length; i++)
        if (s[i] === a && s[i + 1] === b) {
          has = true;
          break;
        }
      if (!has) continue;
      addPairs(w, -1, changed);
      const next: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(s[i]);
      }
      words[w] = next;
      addPairs(w, 1, changed);
    }
    pairCount.delete(e.key);
    pairWords.delete(e.key);
    changed.delete(e.key);
    for (const key of changed) {
      const c = pairCount.get(key) ?? 0;
      if (c > 0) push({ count: c, key });
      else pairCount.delete(key);
    }
  }
  return tokens;
}
