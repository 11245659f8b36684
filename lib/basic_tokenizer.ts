/**
 * BERT's basic tokenizer: drop NUL / U+FFFD / control and format characters (C*), split on whitespace
 * (Zs, tab, newline, CR and, as Python's str.split() does, U+2028/U+2029), put spaces around CJK
 * ideographs (iterating by code point, astral planes included), lowercase each word (toLowerCase applies
 * the same context rule as Python's str.lower(): final sigma) and strip accents (NFD, drop Mn) when
 * uncased, split punctuation (Unicode P* and the ASCII symbol ranges).
 */

export interface NormalizerConfig {
  cleanText: boolean;
  handleChinese: boolean;
  lowercase: boolean;
  stripAccents: boolean;
}

const CONTROL_RE = /[\u0000\uFFFD]|(?![\t\n\r])\p{C}/gu;
// BERT maps tab, newline, CR and Zs to a space, then splits on Python's whitespace (str.split()), which also
// splits on the line and paragraph separators U+2028/U+2029 (the other Python whitespace is Cc, dropped above).
const WHITESPACE_RE = /[\t\n\r\p{Zs}\u2028\u2029]/gu;
const SPLIT_RE = /[\p{White_Space}\u001C-\u001F]+/u;
// CJK Unified Ideographs and extensions, compatibility ideographs (BERT's _is_chinese_char ranges).
const CJK_RE =
  /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/gu;
const MN_RE = /\p{Mn}/gu;
const PUNCT_SPLIT_RE = /[\p{P}\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]|[^\p{P}\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]+/gu;

/** Appends the words of `text` (normalised as `n` says) to `out`. */
export function basicTokenize(text: string, n: NormalizerConfig, out: string[]): void {
  let t = text;
  if (n.cleanText) t = t.replace(CONTROL_RE, '').replace(WHITESPACE_RE, ' ');
  if (n.handleChinese) t = t.replace(CJK_RE, ' $& ');
  for (let word of t.split(SPLIT_RE)) {
    if (word === '') continue;
    if (n.lowercase) word = word.toLowerCase();
    if (n.stripAccents) word = word.normalize('NFD').replace(MN_RE, '');
    if (word === '') continue;
    const parts = word.match(PUNCT_SPLIT_RE);
    if (parts) for (const p of parts) out.push(p);
  }
}
