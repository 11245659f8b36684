// Tokenizer: BERT basic-tokenizer rules and WordPiece on known cases, batches, tokenizer.json
// (checked against @huggingface/tokenizers), training and save/load.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '../../dist/index.js';
import { assertThrowsCode } from '../helpers/assert.js';

const dir = mkdtempSync(join(tmpdir(), 'fml-tok-'));
function vocabFile(name, tokens) {
  const p = join(dir, name);
  writeFileSync(p, tokens.join('\n') + '\n');
  return p;
}
// The classic BERT test vocabulary (tokenization_test.py).
const CLASSIC = ['[UNK]', '[CLS]', '[SEP]', 'want', '##want', '##ed', 'wa', 'un', 'runn', '##ing', ',', 'low', 'lowest'];
const RICH = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'un', '##aff', '##able', 'ah', '博', '推', 'zz', 'hello', 'how', 'are', 'you',
  '!', '?', ',', '.', '$', '`', '¿', '—', 'a', '##a', '##b', '𠀀', 'world', 'Héllo', 'HeLLo', 'café', 'cafe', 'b',
];
const classic = Tokenizer.fromVocab(vocabFile('classic.txt', CLASSIC));
const rich = Tokenizer.fromVocab(vocabFile('rich.txt', RICH));

test('classic BERT cases: un ##want ##ed, runn ##ing, [UNK] for unknown words, un ##aff ##able', () => {
  assert.equal(classic.tokenize('UNwant\u00E9d,running'), ['un', '##want', '##ed', ',', 'runn', '##ing']);
  assert.equal(classic.tokenize('unwanted running'), ['un', '##want', '##ed', 'runn', '##ing']);
  assert.equal(classic.tokenize('unwantedX running'), ['[UNK]', 'runn', '##ing']);
  assert.equal(rich.tokenize('unaffable'), ['un', '##aff', '##able']);
  assert.equal(classic.encode('unwanted running').ids, [1, 7, 4, 5, 8, 9, 2]);
});

test('accents, case, CJK (also astral), punctuation, control characters', () => {
  assert.equal(rich.tokenize('Héllo'), ['hello']);
  assert.equal(rich.tokenize('CAFÉ'), ['cafe']);
  const cased = Tokenizer.fromVocab(join(dir, 'rich.txt'), { lowercase: false });
  assert.equal(cased.tokenize('Héllo HeLLo hello'), ['Héllo', 'HeLLo', 'hello']);
  assert.equal(rich.tokenize('ah博推zz'), ['ah', '博', '推', 'zz']);
  assert.equal(rich.tokenize('\u{20000}ab'), ['𠀀', 'a', '##b']);
  assert.equal(rich.tokenize(' \tHeLLo!how  \n Are yoU?  '), ['hello', '!', 'how', 'are', 'you', '?']);
  assert.equal(rich.tokenize('a$b`a ¿how—are'), ['a', '$', 'b', '`', 'a', '¿', 'how', '—', 'are']);
  assert.equal(rich.tokenize('hel\u0000lo\u200b wor\u0007ld\uFFFD'), ['hello', 'world']);
  assert.equal(rich.tokenize('hello\u00A0world\u3000you'), ['hello', 'world', 'you']);
});

test('long words, empty text, special tokens written in the text', () => {
  assert.equal(rich.tokenize('a'.repeat(101)), ['[UNK]']);
  const hundred = rich.tokenize('a'.repeat(100));
  assert.is(hundred.length, 100);
  assert.equal(hundred.slice(0, 2), ['a', '##a']);
  assert.equal(rich.tokenize(''), []);
  assert.equal(rich.tokenize(' \n\t '), []);
  assert.equal(rich.encode('').tokens, ['[CLS]', '[SEP]']);
  assert.equal(rich.tokenize('hello [MASK] you'), ['hello', '[MASK]', 'you']);
});

test('encodeBatch: padding longest / max_length, truncation keeps [SEP], attention mask', () => {
  const b = rich.encodeBatch(['hello world', 'how', ''], { padding: 'longest' });
  assert.is(b.batchSize, 3);
  assert.is(b.seqLen, 4);
  const id = (t) => rich.tokenToId(t);
  assert.equal(Array.from(b.inputIds), [
    id('[CLS]'), id('hello'), id('world'), id('[SEP]'),
    id('[CLS]'), id('how'), id('[SEP]'), id('[PAD]'),
    id('[CLS]'), id('[SEP]'), id('[PAD]'), id('[PAD]'),
  ]);
  assert.equal(Array.from(b.attentionMask), [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0]);
  assert.equal(Array.from(b.tokenTypeIds), new Array(12).fill(0));
  assert.instance(b.inputIds, Int32Array);
  assert.instance(b.attentionMask, Uint8Array);
  const m = rich.encodeBatch(['hello how are you'], { maxLength: 4, padding: 'max_length' });
  assert.is(m.seqLen, 4);
  assert.equal(Array.from(m.inputIds), [id('[CLS]'), id('hello'), id('how'), id('[SEP]')]);
  const p = rich.encodeBatch(['you'], { maxLength: 6, padding: 'max_length' });
  assert.equal(Array.from(p.attentionMask), [1, 1, 1, 0, 0, 0]);
  assertThrowsCode(() => rich.encodeBatch(['hello how are you'], { maxLength: 4, truncation: false }), 'ERR_INVALID_ARG', RangeError, /truncation is false/);
  assertThrowsCode(() => rich.encodeBatch(['x'], { padding: 'max-length' }), 'ERR_INVALID_ARG', TypeError, /did you mean "max_length"/);
  assertThrowsCode(() => rich.encodeBatch(['x'], { maxLength: 2 }), 'ERR_INVALID_ARG', RangeError, /maxLength/);
  assertThrowsCode(() => rich.encodeBatch('x'), 'ERR_INVALID_ARG', TypeError, /texts/);
  assertThrowsCode(() => rich.encodeBatch([1]), 'ERR_INVALID_ARG', TypeError, /texts\[0\]/);
});

function bertTokenizerJson(tokens, { lowercase = true } = {}) {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [tokens.indexOf('[CLS]')], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [tokens.indexOf('[SEP]')], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(tokens.map((t, i) => [t, i])),
    },
  };
}

const TEXTS = ['UNwant\u00E9d,running', 'Hello, how are you? ¿café—world!', 'ah博推zz', 'hel\u0000lo\u200b wor\u0007ld', '', 'a'.repeat(101), 'unaffable $`', 'b a b'];

test('fromTokenizerJson gives the ids of fromVocab and of @huggingface/tokenizers', () => {
  const json = bertTokenizerJson(RICH);
  const p = join(dir, 'tokenizer.json');
  writeFileSync(p, JSON.stringify(json));
  const fromJson = Tokenizer.fromTokenizerJson(p);
  const hf = new HFTokenizer(json, {});
  for (const t of TEXTS) {
    const ours = fromJson.encode(t).ids;
    assert.equal(ours, rich.encode(t).ids, `fromVocab vs fromTokenizerJson on ${JSON.stringify(t)}`);
    assert.equal(ours, hf.encode(t).ids, `@huggingface/tokenizers on ${JSON.stringify(t)}`);
  }
  const b = fromJson.encodeBatch(TEXTS, { maxLength: 5 });
  assert.is(b.seqLen, 5);
  assert.is(b.inputIds[4], fromJson.tokenToId('[SEP]'));
  assert.is(fromJson.vocabSize, RICH.length);
  // a BPE tokenizer.json goes through @huggingface/tokenizers
  const bpe = {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false,
      vocab: { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5, ab: 6 }, merges: ['a b'] },
  };
  const q = join(dir, 'bpe.json');
  writeFileSync(q, JSON.stringify(bpe));
  const t = Tokenizer.fromTokenizerJson(q);
  assert.equal(t.encode('ab a').ids, [0, 6, 4, 2]);
  assert.equal(Array.from(t.encodeBatch(['ab', 'ab ab'], {}).inputIds), [0, 6, 2, 1, 0, 6, 6, 2]);
  writeFileSync(join(dir, 'bad.json'), '{"model": 3');
  assertThrowsCode(() => Tokenizer.fromTokenizerJson(join(dir, 'bad.json')), 'ERR_INVALID_FILE', Error, /bad\.json/);
});

const CORPUS = [
  'The quick brown fox jumps over the lazy dog.',
  'The dog barks; the fox runs away quickly!',
  'Quick thinking: the brown dog jumped over the fence.',
  'Foxes and dogs are not friends, the farmer said.',
  'Running, jumping and barking all day long.',
];

test('train: deterministic, specials first, alphabet, frequent words become single tokens, minFrequency', () => {
  const a = Tokenizer.train(CORPUS, { vocabSize: 120 });
  const b = Tokenizer.train(CORPUS, { vocabSize: 120 });
  const tokens = (t) => Array.from({ length: t.vocabSize }, (_, i) => t.idToToken(i));
  assert.equal(tokens(a), tokens(b));
  assert.equal(tokens(a).slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.equal([a.padId, a.unkId, a.clsId, a.sepId, a.maskId], [0, 1, 2, 3, 4]);
  assert.ok(a.vocabSize <= 120, `vocab ${a.vocabSize}`);
  for (const c of ['t', 'h', 'e', '##e', '.', 'q']) assert.ok(a.tokenToId(c) !== undefined, `alphabet has ${c}`);
  assert.equal(a.tokenize('The'), ['the']); // 7 occurrences: merged into one piece
  assert.not.ok(a.tokenize('the dog').includes('[UNK]'));
  assert.equal(a.tokenize('€'), ['[UNK]']);
  const none = Tokenizer.train(CORPUS, { vocabSize: 1000, minFrequency: 1000 });
  assert.ok(tokens(none).every((t, i) => i < 5 || [...t.replace(/^##/, '')].length === 1), 'no merges above minFrequency');
  const cased = Tokenizer.train(CORPUS, { vocabSize: 80, lowercase: false });
  assert.ok(cased.tokenToId('T') !== undefined && !cased.lowercase);
  assertThrowsCode(() => Tokenizer.train(CORPUS, { vocab_size: 10 }), 'ERR_INVALID_ARG', TypeError, /did you mean "vocabSize"/);
  assertThrowsCode(() => Tokenizer.train(CORPUS, { vocabSize: 3 }), 'ERR_INVALID_ARG', RangeError, /vocabSize/);
});

test('save writes vocab.txt and tokenizer_config.json atomically; fromVocab loads it back with the same ids', () => {
  const t = Tokenizer.train(CORPUS, { vocabSize: 100, lowercase: false });
  const out = join(dir, 'saved', 'nested');
  t.save(out);
  assert.equal(readdirSync(out).sort(), ['special_tokens_map.json', 'tokenizer_config.json', 'vocab.txt']);
  const cfg = JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'));
  assert.is(cfg.tokenizer_class, 'BertTokenizer');
  assert.is(cfg.do_lower_case, false);
  assert.is(cfg.unk_token, '[UNK]');
  assert.is(cfg.model_max_length, 512);
  const vocabLines = readFileSync(join(out, 'vocab.txt'), 'utf8').split('\n');
  assert.is(vocabLines.length, t.vocabSize + 1);
  const back = Tokenizer.fromVocab(out); // reads do_lower_case from the folder's config
  assert.not.ok(back.lowercase);
  for (const text of CORPUS) assert.equal(back.encode(text).ids, t.encode(text).ids);
  assertThrowsCode(() => Tokenizer.fromVocab(join(dir, 'missing.txt')), 'ERR_INVALID_FILE', Error, /missing\.txt/);
  writeFileSync(join(dir, 'nounk.txt'), 'a\nb\n');
  assertThrowsCode(() => Tokenizer.fromVocab(join(dir, 'nounk.txt')), 'ERR_INVALID_FILE', Error, /\[UNK\]/);
  assertThrowsCode(() => Tokenizer.fromVocab(join(dir, 'rich.txt'), { lowerCase: true }), 'ERR_INVALID_ARG', TypeError, /did you mean "lowercase"/);
});

test('matches Hugging Face Rust tokenizers (fixture from test/fixtures/gen_tokenizer.py), cased and uncased', () => {
  const fxDir = new URL('../fixtures/tokenizer/', import.meta.url).pathname;
  const e = JSON.parse(readFileSync(join(fxDir, 'expected.json'), 'utf8'));
  const uncased = Tokenizer.fromVocab(join(fxDir, 'vocab.txt'));
  const cased = Tokenizer.fromVocab(join(fxDir, 'vocab.txt'), { lowercase: false });
  const fromJson = Tokenizer.fromTokenizerJson(join(fxDir, 'tokenizer.json'));
  e.texts.forEach((text, i) => {
    const label = JSON.stringify(text.slice(0, 30));
    assert.equal(uncased.encode(text).tokens, e.uncased[i].tokens, `uncased tokens ${label}`);
    assert.equal(uncased.encode(text).ids, e.uncased[i].ids, `uncased ids ${label}`);
    assert.equal(fromJson.encode(text).ids, e.uncased[i].ids, `tokenizer.json ids ${label}`);
    assert.equal(cased.encode(text).ids, e.cased[i].ids, `cased ids ${label}`);
  });
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
