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

// The same rules on text without a character past U+007F, where they reduce to byte classes: its C* are the
// controls U+0000-001F and U+007F, its Zs the space, its White_Space tab to CR and the space, its P* all within
// the ASCII symbol ranges; it has no CJK ideograph and no Mn, and NFD leaves it as it is. Those two steps
// and the Unicode-aware expressions were most of the time of an English text (7.2 → 3.2 µs for a support ticket).
const NON_ASCII_RE = /[^\x00-\x7F]/;

/** The expressions of one character range: the whole of Unicode, or text without a character past U+007F. */
interface Classes {
  unicode: boolean;
  control: RegExp;
  whitespace: RegExp;
  split: RegExp;
  punct: RegExp;
}
const UNICODE: Classes = { unicode: true, control: CONTROL_RE, whitespace: WHITESPACE_RE, split: SPLIT_RE, punct: PUNCT_SPLIT_RE };
const ASCII: Classes = {
  unicode: false,
  control: /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g,
  whitespace: /[\t\n\r]/g,
  split: /[\t\n\x0B\x0C\r \x1C-\x1F]+/,
  punct: /[\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]|[^\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]+/g,
};

/** Appends the words of `text` (normalised as `n` says) to `out`. */
export function basicTokenize(text: string, n: NormalizerConfig, out: string[]): void {
  tokenizeWith(NON_ASCII_RE.test(text) ? UNICODE : ASCII, text, n, out);
}

/** basicTokenize with the Unicode expressions whatever the text (the reference the ASCII ones are tested against). */
export function basicTokenizeUnicode(text: string, n: NormalizerConfig, out: string[]): void {
  tokenizeWith(UNICODE, text, n, out);
}

function tokenizeWith(r: Classes, text: string, n: NormalizerConfig, out: string[]): void {
  let t = text;
  if (n.cleanText) t = t.replace(r.control, '').replace(r.whitespace, ' ');
  if (n.handleChinese && r.unicode) t = t.replace(CJK_RE, ' $& ');
  for (let word of t.split(r.split)) {
    if (word === '') continue;
    if (n.lowercase) word = word.toLowerCase();
    if (n.stripAccents && r.unicode) word = word.normalize('NFD').replace(MN_RE, '');
    if (word === '') continue;
    const parts = word.match(r.punct);
    if (parts) for (const p of parts) out.push(p);
  }
}
