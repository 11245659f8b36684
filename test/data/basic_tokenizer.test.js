// The basic tokenization before WordPiece against BERT's BasicTokenizer rules run by Python
// (test/fixtures/basic_tokenizer.json, from gen_basic_tokenizer.py): Unicode whitespace incl. U+2028/U+2029,
// control and format characters, and context-dependent lowercasing (final sigma) as str.lower() does it.
// Every reference token is in the vocabulary, so WordPiece keeps it whole and tokenize() shows the words.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tokenizer } from '../../dist/index.js';
import { basicTokenize, basicTokenizeUnicode } from '../../dist/basic_tokenizer.js';

const root = new URL('../..', import.meta.url).pathname;
const ref = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'basic_tokenizer.json'), 'utf8'));
const words = new Set([...ref.uncased.flat(), ...ref.cased.flat()]);
const vocabFile = join(mkdtempSync(join(tmpdir(), 'fml-basic-')), 'vocab.txt');
writeFileSync(vocabFile, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words].join('\n') + '\n');

for (const [mode, lowercase] of [['uncased', true], ['cased', false]]) {
  const tok = Tokenizer.fromVocab(vocabFile, { lowercase });
  ref.texts.forEach((text, i) => {
    test(`${mode}: ${JSON.stringify(text)}`, () => {
      assert.equal(tok.tokenize(text), ref[mode][i]);
    });
  });
}

// Text without a character past U+007F takes a byte-class path (lib/basic_tokenizer.ts); it must split exactly as
// the Unicode path does, for every setting: random ASCII strings weighted to the characters that matter (every
// control, whitespace and punctuation character, letters of both cases, digits).
test('ASCII text: the byte-class path equals the Unicode path under every setting', () => {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pool = [...Array(128).keys()].map((c) => String.fromCharCode(c)).concat([...'aaZz09  .,-']);
  const texts = ['', ' ', '\t\n', 'Hello, World!', "don't stop--now", 'A\x00B\x1cC\x7fD\x0bE\x0cF'];
  for (let i = 0; i < 3000; i++) texts.push(Array.from({ length: Math.floor(rand() * 40) }, () => pool[Math.floor(rand() * pool.length)]).join(''));
  let compared = 0;
  for (let mask = 0; mask < 16; mask++) {
    const n = { cleanText: !!(mask & 1), handleChinese: !!(mask & 2), lowercase: !!(mask & 4), stripAccents: !!(mask & 8) };
    for (const text of texts) {
      const fast = [], general = [];
      basicTokenize(text, n, fast);
      basicTokenizeUnicode(text, n, general);
      assert.equal(fast, general, `${JSON.stringify(text)} ${JSON.stringify(n)}`);
      compared++;
    }
  }
  assert.is(compared, 16 * texts.length);
});

test.run();
