// ONNX export of the n-gram model (the default model): onnxruntime-node runs the graph on the hashed
// feature ids of Classifier.featurize and its logits equal the package's own forward (1e-4) for texts of
// several lengths, texts without features and batches of nothing but those; featurizeNgrams rebuilds the
// ids from the exported config.json alone, and a reimplementation written from the config's featurizer
// specification (not the package's code) gives the same ids; the checker accepts the graph;
// transformers.js refuses the directory; the CLI exports a model trained by the CLI. Optional engines and
// the checker: test/helpers/onnx.js (skipped with the reason, REQUIRE_ONNX=1 / REQUIRE_ONNX_CHECKER=1 fail).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Classifier, featurizeNgrams, preprocess } from '../../dist/index.js';
import { NGRAM_DEFAULTS, NgramTextModel } from '../../dist/ngram_model.js';
import { mulberry32 } from '../../dist/random.js';
import { checkerLoad, maxDiff, needs, onnxChecker, ort, ortLoad, tjs, tjsLoad } from '../helpers/onnx.js';

const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'fml-ngram-onnx-'));
const LABELS = ['hardware', 'network', 'account', 'billing', 'other'];
const TEXTS = [
  'the printer on floor two is jammed again',
  '',
  'Café au lait, s\'il vous plaît! 東京 naïve résumé 🙂',
  '!!!',
  'x',
  'my laptop will not boot after the update and the screen stays black while the fan spins at full speed '.repeat(4),
  'VPN drops every 10 minutes; see https://vpn.example.com/status (again)',
  '   ',
];
const PREP = { stripUrls: true, lowercase: true, stripDigits: true };

/** An n-gram classifier with weights far from initialisation (every part of the graph moves the logits). */
function classifier(config, { preprocess } = {}) {
  const model = NgramTextModel.create({ ...NGRAM_DEFAULTS, buckets: 4099, dim: 12, ...config }, LABELS.length, 3);
  const rnd = mulberry32(17);
  const params = model.snapshot();
  for (const v of params.values()) for (let i = 0; i < v.length; i++) v[i] = (rnd() - 0.5) * 1.5;
  model.restore(params);
  return new Classifier({ model, labels: LABELS, thresholds: { global: 0.5, tuned: false }, preprocess });
}

const tensor = (data, f) => new ort.Tensor('int64', data, [f.batchSize, f.length]);

/** onnxruntime's logits against the package's forward (on the preprocessed texts) and its sigmoid against clf.scores. */
async function checkOrt(clf, dir, prep) {
  const sess = await ort.InferenceSession.create(readFileSync(join(dir, 'onnx', 'model.onnx')));
  assert.equal(sess.inputNames, ['input_ids', 'attention_mask']);
  assert.equal(sess.outputNames, ['logits']);
  for (const batch of [TEXTS, [TEXTS[0]], [TEXTS[1]], [TEXTS[1], TEXTS[7], TEXTS[3]], TEXTS.slice(4, 7)]) {
    const f = clf.featurize(batch);
    assert.is(f.batchSize, batch.length);
    const out = (await sess.run({ input_ids: tensor(f.inputIds, f), attention_mask: tensor(f.attentionMask, f) })).logits;
    assert.equal(out.dims, [batch.length, LABELS.length]);
    const ref = await clf.model.logits(prep ? batch.map((t) => preprocess(t, prep)) : batch);
    const d = maxDiff(out.data, ref);
    assert.ok(d <= 1e-4, `batch of ${batch.length} (${f.length} features wide): max |onnx - package| = ${d}`);
    assert.ok(maxDiff(out.data.map((x) => 1 / (1 + Math.exp(-x))), await clf.scores(batch)) <= 1e-4, 'sigmoid = clf.scores');
  }
  // a batch whose feature axis is empty (0 columns) pools to 0: the logits are the head's bias
  const empty = { batchSize: 2, length: 0 };
  const z = (await sess.run({ input_ids: tensor(new BigInt64Array(0), empty), attention_mask: tensor(new BigInt64Array(0), empty) })).logits;
  const bias = Array.from(clf.model.snapshot().get('classifier.bias'));
  const hidden = clf.model.config.hidden;
  if (hidden === 0) assert.ok(maxDiff(z.data, [...bias, ...bias]) <= 1e-6, 'no features: bias only');
  assert.ok(maxDiff(z.data, await clf.model.logits(['', ''])) <= 1e-5, 'no features: the package agrees');
}

for (const c of [
  { name: 'sqrt-n pooling, no hidden layer (the defaults)', config: {} },
  { name: 'mean pooling, hidden layer 7', config: { pooling: 'mean', hidden: 7 } },
  { name: 'sqrt-n, hidden 5, word 3-grams, char 2-4-grams, 20 tokens, trained with preprocessing', config: { hidden: 5, wordNgrams: 3, charNgrams: [2, 4], maxTokens: 20 }, preprocess: PREP },
  { name: 'no character n-grams', config: { charNgrams: [0, 0] } },
  { name: 'direct path of 1021 rows (ids mod 1021), sqrt-n', config: { direct: 1021 } },
  { name: 'direct path of 64 rows, mean pooling, hidden layer 3', config: { direct: 64, pooling: 'mean', hidden: 3 } },
]) {
  needs(ortLoad, `onnxruntime-node: n-gram model, ${c.name}: logits = the package's forward (1e-4), empty texts and batches included`, async () => {
    const clf = classifier(c.config, { preprocess: c.preprocess });
    const dir = join(scratch, `ort-${Object.values(c.config).join('-') || 'default'}`);
    const info = await clf.exportOnnx(dir);
    assert.equal(info, { inputs: ['input_ids', 'attention_mask'], transformersJs: false, dir, opset: 17 });
    await checkOrt(clf, dir, c.preprocess);
    clf.dispose();
  });
}

needs(ortLoad, 'onnxruntime-node: opsets 13 and 21 run the n-gram graph too', async () => {
  const clf = classifier({ hidden: 4 });
  for (const opset of [13, 21]) {
    const dir = join(scratch, `opset-${opset}`);
    assert.is((await clf.exportOnnx(dir, { opset })).opset, opset);
    await checkOrt(clf, dir);
  }
  clf.dispose();
});

test('featurize: padded int64 ids and mask, the rows featurize gives, at least one column', () => {
  const clf = classifier({});
  const f = clf.featurize(['a b', '', 'a b c']);
  assert.is(f.batchSize, 3);
  assert.ok(f.inputIds instanceof BigInt64Array && f.attentionMask instanceof BigInt64Array);
  const row = (b) => Array.from(f.inputIds.slice(b * f.length, (b + 1) * f.length)).filter((_, i) => f.attentionMask[b * f.length + i] === 1n);
  const alone = clf.featurize(['a b']);
  assert.equal(row(0), Array.from(alone.inputIds), 'a row does not depend on the batch');
  assert.is(alone.length, row(0).length);
  assert.is(row(1).length, 0);
  assert.is(f.length, row(2).length, 'as wide as the longest row');
  assert.ok(row(2).length > row(0).length);
  for (let i = 0; i < f.inputIds.length; i++) if (f.attentionMask[i] === 0n) assert.is(f.inputIds[i], 0n, 'padding is id 0');
  const none = clf.featurize(['', '   ']);
  assert.equal([none.batchSize, none.length], [2, 1]);
  assert.equal(Array.from(none.attentionMask), [0n, 0n]);
  const err = (() => { try { clf.featurize(['ok', 3]); } catch (e) { return e; } })();
  assert.is(err?.code, 'ERR_INVALID_ARG');
  assert.match(err.message, /texts\[1\]/);
  clf.dispose();
  assert.is((() => { try { clf.featurize(['x']); } catch (e) { return e.code; } })(), 'ERR_DISPOSED');
});

/**
 * The featurizer written from config.json's `featurizer` block alone (its words and values), to show the
 * block specifies the ids: tokens by token_pattern, FNV-1a over the tag then UTF-16 units, word n-grams,
 * then character n-grams of "<token>" without the whole-word one.
 */
function fromSpec(text, s) {
  const fnv = (h, unit) => Math.imul(h ^ unit, s.hash.prime) >>> 0;
  const toks = (text.toLowerCase().match(new RegExp(s.token_pattern, s.token_pattern_flags)) ?? []).slice(0, s.max_tokens);
  const ids = [];
  for (let i = 0; i < toks.length; i++) {
    let h = fnv(s.hash.offset_basis, s.hash.word_tag);
    for (let n = 0; n < s.word_ngrams && i + n < toks.length; n++) {
      if (n > 0) h = fnv(h, s.hash.word_separator);
      for (const u of toks[i + n].split('').map((ch) => ch.charCodeAt(0))) h = fnv(h, u);
      ids.push(h % s.buckets);
    }
  }
  const [lo, hi] = s.char_ngrams;
  if (hi === 0) return ids;
  for (const t of toks) {
    if (!/^[\p{L}\p{N}]/u.test(t)) continue;
    const w = `<${t}>`;
    for (let i = 0; i + lo <= w.length; i++)
      for (let n = lo; n <= hi && i + n <= w.length; n++) {
        if (i === 0 && n === w.length) continue;
        let h = fnv(s.hash.offset_basis, s.hash.char_tag);
        for (let k = i; k < i + n; k++) h = fnv(h, w.charCodeAt(k));
        ids.push(h % s.buckets);
      }
  }
  return ids;
}

/** Step 1 of the block's description: its preprocess options with its preprocess_patterns. */
function specPreprocess(text, s) {
  const re = (name) => new RegExp(s.preprocess_patterns[name], 'gu');
  let t = text;
  if (s.preprocess.stripUrls) t = t.replace(re('url'), ' ');
  if (s.preprocess.lowercase) t = t.toLowerCase();
  if (s.preprocess.stripDigits) t = t.replace(re('digits'), ' ');
  if (s.preprocess.stripPunctuation) t = t.replace(re('punctuation'), ' ');
  return t.replace(/\s+/gu, ' ').trim();
}

test('config.json: the featurizer block specifies the ids (a reimplementation from it, its examples, featurizeNgrams)', async () => {
  const r = mulberry32(5);
  const alphabet = 'abcdeé東🙂 ,.!?-\'0123ÀÉĞ\u0301';
  const random = Array.from({ length: 60 }, () => Array.from({ length: Math.floor(r() * 40) }, () => alphabet[Math.floor(r() * alphabet.length)]).join(''));
  random.push('see www.Example.org/x and HTTP://a.b/c?d=1 now', 'ﬁ İstanbul ΣΑΣ straße');
  for (const [config, prep] of [[{}, undefined], [{ wordNgrams: 3, charNgrams: [2, 6], maxTokens: 7, buckets: 97 }, PREP], [{ charNgrams: [0, 0] }, undefined]]) {
    const clf = classifier(config, { preprocess: prep });
    const dir = join(scratch, `spec-${Object.keys(config).length}`);
    await clf.exportOnnx(dir);
    const s = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).featurizer;
    assert.is(s.type, 'fused-hashed-ngrams');
    assert.equal(s.preprocess, prep ?? null);
    const texts = [...TEXTS, ...random];
    const viaConfig = featurizeNgrams(texts, s);
    const viaClf = clf.featurize(texts);
    assert.equal([viaConfig.batchSize, viaConfig.length], [viaClf.batchSize, viaClf.length]);
    assert.equal(Array.from(viaConfig.inputIds), Array.from(viaClf.inputIds));
    assert.equal(Array.from(viaConfig.attentionMask), Array.from(viaClf.attentionMask));
    texts.forEach((t, b) => {
      const want = fromSpec(prep ? specPreprocess(t, s) : t, s);
      const got = Array.from(viaClf.inputIds.slice(b * viaClf.length, b * viaClf.length + want.length), Number);
      assert.equal(got, want, JSON.stringify(t));
      assert.is(viaClf.attentionMask.slice(b * viaClf.length, (b + 1) * viaClf.length).filter((m) => m === 1n).length, want.length);
    });
    for (const e of s.examples) assert.equal(Array.from(featurizeNgrams([e.text], s).inputIds.slice(0, e.input_ids.length), Number), e.input_ids);
    assert.ok(s.examples.some((e) => e.input_ids.length > 0));
    clf.dispose();
  }
});

test('featurizeNgrams: bad input names the field', () => {
  const clf = classifier({});
  const dir = join(scratch, 'bad-featurizer');
  return clf.exportOnnx(dir).then(() => {
    const s = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).featurizer;
    const code = (fn) => { try { fn(); return null; } catch (e) { return e; } };
    for (const [spec, re] of [
      [undefined, /featurizer/],
      [{ ...s, type: 'wordpiece' }, /"featurizer" block of an exported n-gram model/],
      [{ ...s, version: 2 }, /version 1/],
      [{ ...s, hash: { ...s.hash, prime: 31 } }, /featurizer\.hash/],
      [{ ...s, buckets: 0 }, /featurizer\.buckets/],
      [{ ...s, word_ngrams: 9 }, /featurizer\.word_ngrams/],
      [{ ...s, char_ngrams: [4, 2] }, /featurizer\.char_ngrams/],
      [{ ...s, max_tokens: 'all' }, /featurizer\.max_tokens/],
    ]) {
      const e = code(() => featurizeNgrams(['x'], spec));
      assert.is(e?.code, 'ERR_INVALID_ARG', String(e));
      assert.match(e.message, re);
    }
    assert.is(code(() => featurizeNgrams('x', s))?.code, 'ERR_INVALID_ARG');
    clf.dispose();
  });
});

test('the directory: onnx/model.onnx, config.json (labels, ngram block, featurizer, the note), thresholds.json, no tokenizer files', async () => {
  const perClass = Object.fromEntries(LABELS.map((l, i) => [l, 0.2 + i / 10]));
  const model = NgramTextModel.create({ ...NGRAM_DEFAULTS, buckets: 512, dim: 8, hidden: 3 }, LABELS.length, 1);
  const clf = new Classifier({ model, labels: LABELS, thresholds: { global: 0.4, perClass, objective: 'macro-f1', tuned: true } });
  const dir = join(scratch, 'layout');
  await clf.exportOnnx(dir);
  assert.equal(readdirSync(dir).sort(), ['config.json', 'onnx', 'thresholds.json']);
  assert.equal(readdirSync(join(dir, 'onnx')), ['model.onnx']);
  assert.equal(JSON.parse(readFileSync(join(dir, 'thresholds.json'), 'utf8')), clf.thresholds);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.is(cfg.model_type, 'fused-ngram');
  assert.is(cfg.problem_type, 'multi_label_classification');
  assert.equal(cfg.id2label, Object.fromEntries(LABELS.map((l, i) => [String(i), l])));
  assert.equal(cfg.ngram, model.config);
  assert.is(cfg.featurizer.buckets, 512);
  assert.is(cfg.fused_multilabel.export, 'onnx');
  assert.match(cfg.fused_multilabel.transformers_js, /transformers\.js's pipeline\(\) cannot run it/);
  assert.not.ok('transformers.js_config' in cfg);
  const loadErr = await Classifier.load(dir).then(() => null, (e) => e);
  assert.is(loadErr?.code, 'ERR_INVALID_FILE');
  assert.match(loadErr.message, /ONNX export/);
  clf.dispose();
});

needs(checkerLoad, 'onnx.checker (full check) and strict shape inference accept n-gram exports (mean/sqrt-n, with and without a hidden layer, with a direct path)', async () => {
  const paths = [];
  for (const [config, opset] of [[{}, 13], [{ pooling: 'mean', hidden: 6 }, 17], [{ hidden: 3, charNgrams: [0, 0] }, 21], [{ direct: 97 }, 13]]) {
    const clf = classifier(config);
    const dir = join(scratch, `checker-${paths.length}`);
    await clf.exportOnnx(dir, { opset: onnxChecker.opset(opset) });
    paths.push(join(dir, 'onnx', 'model.onnx'));
    clf.dispose();
  }
  assert.equal(onnxChecker.run(paths), paths.map(() => `logits ['batch', ${LABELS.length}]`));
});

needs(tjsLoad, "transformers.js: pipeline('text-classification') refuses an n-gram export (no tokenizer for hashed ids) instead of misreading it", async () => {
  const clf = classifier({});
  const dir = join(scratch, 'tjs-ngram');
  await clf.exportOnnx(dir);
  clf.dispose();
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = scratch;
  const err = await tjs.pipeline('text-classification', 'tjs-ngram').then(async (p) => (await p.dispose(), null), (e) => e);
  assert.ok(err instanceof Error, 'pipeline() must not load an n-gram export');
  assert.match(err.message, /Unsupported model type: fused-ngram/);
});

test('CLI: a model trained by `train --model ngram` exports, says transformers.js cannot run it, and runs in onnxruntime', async () => {
  const model = join(scratch, 'cli-model');
  const env = { ...process.env, FUSED_MULTILABEL_DEVICE: 'cpu' };
  const cli = (...args) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { encoding: 'utf8', env });
  const tr = cli('train', '--data', join(root, 'examples', 'tickets.csv'), '--out', model, '--model', 'ngram', '--epochs', '1');
  assert.is(tr.status, 0, tr.stderr);
  assert.is(JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')).model_type, 'fused-ngram');
  const out = join(scratch, 'cli-out');
  const r = cli('export', '--model', model, '--format', 'onnx', '--out', out, '--opset', '15');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /opset 15; inputs input_ids, attention_mask\) and config\.json with the featurizer specification/);
  assert.match(r.stdout, /note: .*transformers\.js's pipeline\(\) cannot run it/);
  assert.ok(existsSync(join(out, 'onnx', 'model.onnx')));
  if (!ort) return;
  const clf = await Classifier.load(model);
  const texts = ['I was charged twice for my subscription', 'the app crashes after the update', ''];
  const s = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).featurizer;
  const f = featurizeNgrams(texts, s);
  const sess = await ort.InferenceSession.create(join(out, 'onnx', 'model.onnx'));
  const logits = (await sess.run({ input_ids: tensor(f.inputIds, f), attention_mask: tensor(f.attentionMask, f) })).logits.data;
  const d = maxDiff(logits.map((x) => 1 / (1 + Math.exp(-x))), await clf.scores(texts));
  assert.ok(d <= 1e-4, `max |sigmoid(onnx) - scores| = ${d}`);
  clf.dispose();
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
