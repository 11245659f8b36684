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

test.run();
