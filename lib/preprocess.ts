/** The seed articles' text preprocessing (URLs, case, digits, punctuation), as options and as patterns. */
import { checkOptions, rejectUnknownKeys, typeError } from './errors.js';

export interface PreprocessOptions {
  lowercase?: boolean;
  stripUrls?: boolean;
  stripDigits?: boolean;
  stripPunctuation?: boolean;
}

const PRE_KEYS = ['lowercase', 'stripUrls', 'stripDigits', 'stripPunctuation'] as const;

/**
 * The patterns of preprocess() as regular-expression sources that JavaScript and Oniguruma (Hugging Face
 * `tokenizers`) read alike: an ONNX export writes them into tokenizer.json as Replace normalizers.
 */
export const PREPROCESS_PATTERNS = {
  url: '(?<![A-Za-z0-9_])(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ff][Tt][Pp]://|[Ww][Ww][Ww]\\.)\\S+',
  digits: '\\p{Nd}+',
  punctuation: '[\\p{P}\\p{S}]+',
} as const;
const URL_RE = new RegExp(PREPROCESS_PATTERNS.url, 'gu');
const DIGIT_RE = new RegExp(PREPROCESS_PATTERNS.digits, 'gu');
const PUNCT_RE = new RegExp(PREPROCESS_PATTERNS.punctuation, 'gu');

/** The seed articles' cleaning steps; whitespace is collapsed and trimmed afterwards. */
export function preprocess(text: string, options: PreprocessOptions = {}): string {
  if (typeof text !== 'string') throw typeError('text', 'a string', text);
  const o = checkPreprocessOptions('preprocess options', options);
  let t = text;
  if (o.stripUrls) t = t.replace(URL_RE, ' ');
  if (o.lowercase) t = t.toLowerCase();
  if (o.stripDigits) t = t.replace(DIGIT_RE, ' ');
  if (o.stripPunctuation) t = t.replace(PUNCT_RE, ' ');
  return t.replace(/\s+/gu, ' ').trim();
}

export function checkPreprocessOptions(name: string, options: unknown): PreprocessOptions {
  const o = checkOptions(name, options);
  rejectUnknownKeys(name, o, PRE_KEYS);
  for (const key of PRE_KEYS) if (o[key] !== undefined && typeof o[key] !== 'boolean') throw typeError(`${name}.${key}`, 'a boolean', o[key]);
  return o as PreprocessOptions;
}
