// ONNX export of encoder models (Classifier.exportOnnx, `fused-multilabel export`): onnxruntime-node runs
// the graph and its logits equal the package's own forward; transformers.js's text-classification pipeline
// gives the same sigmoid scores; the directory's files; the tokenizer.json tokenizes as the package does;
// bad input. onnxruntime-node and @huggingface/transformers are dev dependencies: without them those tests
// are skipped with the reason printed (test/helpers/onnx.js), and REQUIRE_ONNX=1 turns the skip into a
// failure. The n-gram model's export: ngram_export.test.js.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Classifier, Encoder, Tokenizer, preprocess } from '../../dist/index.js';
import { EncoderTextModel } from '../../dist/encoder_model.js';
import { saveClassifierDir } from '../../dist/model_dir.js';
import { mulberry32 } from '../../dist/random.js';
import { checkerLoad, maxDiff, needs, onnxChecker, ort, ortLoad, tjs, tjsLoad, webLoad } from '../helpers/onnx.js';

const require = createRequire(import.meta.url);
const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'fml-onnx-'));

const TEXTS = [
  'the printer on floor two is jammed again',
  'Café au lait, s\'il vous plaît! 東京 naïve résumé',
  'x',
  'my laptop will not boot after the update and the screen stays black while the fan spins at full speed',
  'password reset link expired',
  'VPN drops every ten minutes; reconnecting works',
  'billing: I was charged twice for the same invoice (#4471)',
  'the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the the',
];
const LABELS = ['hardware', 'network', 'account', 'billing', 'other'];
const tokenizer = Tokenizer.train(TEXTS, { vocabSize: 90, minFrequency: 1 });

/**
 * A classifier with weights far from initialisation (uniform, LayerNorm scales around 1), so that every
 * part of the graph (GELU, masks, pooling, LayerNorm) moves the logits.
 */
async function classifier(config, { maxLength = 24, preprocess: prep, thresholds = { global: 0.5, tuned: false } } = {}) {
  const enc = await Encoder.create(
    { vocabSize: tokenizer.vocabSize, hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64, maxPositions: 40, numLabels: LABELS.length, ...config },
    { device: 'cpu', seed: 7 },
  );
  const rnd = mulberry32(11);
  const params = enc.parameters();
  for (const [name, v] of params) {
    if (name.includes('position_embeddings') && config.sinusoidalPositions) continue;
    const scale = /LayerNorm|layer_norm/.test(name) && name.endsWith('weight') ? null : 0.6;
    for (let i = 0; i < v.length; i++) v[i] = scale === null ? 0.5 + rnd() : (rnd() - 0.5) * scale;
  }
  enc.setParameters(params);
  return new Classifier({ model: new EncoderTextModel(enc, tokenizer, maxLength), labels: LABELS, thresholds, preprocess: prep });
}

const big = (a, B, T, engine = ort) => new engine.Tensor('int64', BigInt64Array.from(a, BigInt), [B, T]);

/** onnxruntime logits against Encoder.forward, for several batch sizes and text lengths (with truncation). */
async function checkOrt(clf, dir, withTypes, engine = ort) {
  const sess = await engine.InferenceSession.create(readFileSync(join(dir, 'onnx', 'model.onnx')));
  assert.equal([...sess.inputNames].sort(), withTypes ? ['attention_mask', 'input_ids', 'token_type_ids'] : ['attention_mask', 'input_ids']);
  assert.equal(sess.outputNames, ['logits']);
  const enc = clf.model.encoder;
  for (const [from, B] of [[2, 1], [0, 3], [0, 8], [3, 5]]) {
    const b = tokenizer.encodeBatch(TEXTS.slice(from, from + B), { maxLength: clf.maxLength });
    const feeds = { input_ids: big(b.inputIds, b.batchSize, b.seqLen, engine), attention_mask: big(b.attentionMask, b.batchSize, b.seqLen, engine) };
    if (withTypes) feeds.token_type_ids = big(b.tokenTypeIds, b.batchSize, b.seqLen, engine);
    const out = (await sess.run(feeds)).logits;
    assert.equal(out.dims, [b.batchSize, LABELS.length]);
    const ref = await enc.forward(b);
    const d = maxDiff(out.data, ref);
    assert.ok(d <= 1e-4, `batch ${B} (seqLen ${b.seqLen}): max |onnx - package| = ${d}`);
  }
}

const cases = [
  { name: 'BERT, pooler', config: { architecture: 'bert', pooling: 'pooler' } },
  { name: 'BERT, mean pooling (the tiny/small presets)', config: { architecture: 'bert', pooling: 'mean' } },
  { name: 'BERT, cls pooling', config: { architecture: 'bert', pooling: 'cls' } },
  { name: 'DistilBERT, pooler (pre_classifier + ReLU)', config: { architecture: 'distilbert', pooling: 'pooler' } },
  { name: 'DistilBERT, mean pooling, sinusoidal positions', config: { architecture: 'distilbert', pooling: 'mean', sinusoidalPositions: true } },
];
for (const c of cases) {
  needs(ortLoad, `onnxruntime-node: ${c.name} logits = the package's forward (1e-4), batches 1/3/5/8, several lengths`, async () => {
    const clf = await classifier(c.config);
    const dir = join(scratch, `ort-${c.config.architecture}-${c.config.pooling}`);
    await clf.exportOnnx(dir);
    await checkOrt(clf, dir, c.config.architecture === 'bert');
    clf.dispose();
  });
}

needs(ortLoad, 'onnxruntime-node: opsets 13 (LayerNorm from primitives), 18 and 21 match too', async () => {
  const clf = await classifier({ architecture: 'bert', pooling: 'mean' });
  for (const opset of [13, 18, 21]) {
    const dir = join(scratch, `opset-${opset}`);
    await clf.exportOnnx(dir, { opset });
    assert.is(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).fused_multilabel.opset, opset);
    await checkOrt(clf, dir, true);
  }
  clf.dispose();
});

needs(webLoad, 'onnxruntime-web (WebAssembly, the browser engine): BERT mean and DistilBERT pooler logits = the package\'s forward (1e-4)', async () => {
  for (const config of [{ architecture: 'bert', pooling: 'mean' }, { architecture: 'distilbert', pooling: 'pooler' }]) {
    const clf = await classifier(config);
    const dir = join(scratch, `web-${config.architecture}`);
    await clf.exportOnnx(dir);
    await checkOrt(clf, dir, config.architecture === 'bert', webLoad.mod);
    clf.dispose();
  }
});

test('the model file: inputs, outputs, dynamic axes, opset and IR version, weights as initializers', async () => {
  const { onnx } = require('onnx-proto');
  const clf = await classifier({ architecture: 'bert', pooling: 'pooler' });
  const dir = join(scratch, 'structure');
  await clf.exportOnnx(dir);
  const m = onnx.ModelProto.decode(readFileSync(join(dir, 'onnx', 'model.onnx')));
  assert.equal(m.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
  assert.is(Number(m.irVersion), 8);
  const dims = (v) => v.type.tensorType.shape.dim.map((d) => d.dimParam || Number(d.dimValue));
  assert.equal(m.graph.input.map((v) => [v.name, v.type.tensorType.elemType, dims(v)]), [
    ['input_ids', 7, ['batch', 'sequence']],
    ['attention_mask', 7, ['batch', 'sequence']],
    ['token_type_ids', 7, ['batch', 'sequence']],
  ]);
  assert.equal(m.graph.output.map((v) => [v.name, v.type.tensorType.elemType, dims(v)]), [['logits', 1, ['batch', LABELS.length]]]);
  const inits = new Map(m.graph.initializer.map((t) => [t.name, t]));
  const wte = inits.get('bert.embeddings.word_embeddings.weight');
  assert.equal(wte.dims.map(Number), [tokenizer.vocabSize, 32]);
  const ref = clf.model.encoder.parameters().get('bert.embeddings.word_embeddings.weight');
  const raw = wte.rawData;
  assert.equal(Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))), Array.from(ref));
  // Linear weights are stored transposed (in × out)
  assert.equal(inits.get('classifier.weight_T').dims.map(Number), [32, LABELS.length]);
  assert.ok(m.graph.node.some((n) => n.opType === 'LayerNormalization'));
  assert.ok(m.graph.node.some((n) => n.opType === 'Erf'), 'GELU in its erf form');
  clf.dispose();
});

// The official checker (Python's onnx package, e.g. Debian's python3-onnx): the graph is valid ONNX and
// strict shape inference reaches logits [batch, labels]. REQUIRE_ONNX_CHECKER=1 makes a missing one a failure.
needs(checkerLoad, 'onnx.checker (full check) and strict shape inference accept BERT and DistilBERT exports', async () => {
  const paths = [];
  for (const [config, opset] of [[{ architecture: 'bert', pooling: 'pooler' }, 13], [{ architecture: 'bert', pooling: 'mean' }, 17], [{ architecture: 'distilbert', pooling: 'pooler' }, 17], [{ architecture: 'distilbert', pooling: 'mean' }, 14]]) {
    const clf = await classifier(config);
    const dir = join(scratch, `checker-${config.architecture}-${config.pooling}`);
    await clf.exportOnnx(dir, { opset: onnxChecker.opset(opset) });
    paths.push(join(dir, 'onnx', 'model.onnx'));
    clf.dispose();
  }
  assert.equal(onnxChecker.run(paths), paths.map(() => `logits ['batch', ${LABELS.length}]`));
});

test('the directory: transformers.js layout, config.json labels and problem type, tokenizer files, nothing left over', async () => {
  const perClass = Object.fromEntries(LABELS.map((l, i) => [l, 0.3 + i / 10]));
  const clf = await classifier({ architecture: 'distilbert', pooling: 'pooler' }, { maxLength: 20, thresholds: { global: 0.45, perClass, objective: 'micro-f1', tuned: true } });
  const dir = join(scratch, 'layout');
  await clf.exportOnnx(dir);
  assert.equal(readdirSync(dir).sort(), ['config.json', 'onnx', 'special_tokens_map.json', 'thresholds.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  assert.equal(JSON.parse(readFileSync(join(dir, 'thresholds.json'), 'utf8')), clf.thresholds);
  assert.equal(readdirSync(join(dir, 'onnx')), ['model.onnx']);
  assert.equal(readdirSync(scratch).filter((n) => n.startsWith('layout.')), [], 'no temporary or set-aside siblings');
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.is(cfg.model_type, 'distilbert');
  assert.equal(cfg.architectures, ['DistilBertForSequenceClassification']);
  assert.is(cfg.problem_type, 'multi_label_classification');
  assert.equal(cfg.id2label, Object.fromEntries(LABELS.map((l, i) => [String(i), l])));
  assert.equal(cfg.label2id, Object.fromEntries(LABELS.map((l, i) => [l, i])));
  assert.is(cfg.fused_multilabel.export, 'onnx');
  assert.equal(cfg['transformers.js_config'], { dtype: 'fp32' });
  const tc = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  assert.is(tc.model_max_length, 20);
  assert.is(tc.do_lower_case, true);
  const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  assert.is(tj.model.type, 'WordPiece');
  assert.is(Object.keys(tj.model.vocab).length, tokenizer.vocabSize);
  assert.is(tj.truncation.max_length, 20);
  // exporting again replaces the previous export
  await clf.exportOnnx(dir, { opset: 14 });
  assert.is(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).fused_multilabel.opset, 14);
  clf.dispose();
});

test('tokenizer.json tokenizes as the package does (@huggingface/tokenizers), with the preprocessing as normalizers', async () => {
  const { Tokenizer: HFTokenizer } = require('@huggingface/tokenizers');
  const prep = { lowercase: true, stripUrls: true, stripDigits: true, stripPunctuation: true };
  const texts = [...TEXTS, 'see https://example.com/a?b=1 or WWW.Example.org now', 'Ticket 42: the printer!!! (again)', '\u00e9t\u00e9 \u0000 tab\there'];
  for (const p of [undefined, prep]) {
    const clf = await classifier({ architecture: 'bert' }, { preprocess: p });
    const dir = join(scratch, p ? 'tok-prep' : 'tok');
    await clf.exportOnnx(dir);
    const hf = new HFTokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
    for (const t of texts) {
      const ours = tokenizer.encode(p ? preprocess(t, p) : t, { maxLength: 512 }).ids;
      assert.equal(hf.encode(t).ids.map(Number), ours, JSON.stringify(t));
    }
    clf.dispose();
  }
});

async function pipelineScores(dir, texts) {
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = scratch;
  // no dtype option: config.json's transformers.js_config names fp32 (onnx/model.onnx)
  const pipe = await tjs.pipeline('text-classification', dir.slice(scratch.length + 1));
  const out = await pipe(texts, { top_k: null });
  await pipe.dispose();
  return out;
}

for (const c of [
  { name: 'BERT pooler', config: { architecture: 'bert', pooling: 'pooler' } },
  { name: 'DistilBERT mean, trained with preprocessing', config: { architecture: 'distilbert', pooling: 'mean' }, preprocess: { stripUrls: true, stripDigits: true } },
]) {
  needs(tjsLoad, `transformers.js pipeline('text-classification'): ${c.name}: same top labels, sigmoid scores = the package's (1e-4)`, async () => {
    const clf = await classifier({ ...c.config, maxPositions: 128 }, { maxLength: 128, preprocess: c.preprocess });
    const dir = join(scratch, `tjs-${c.config.architecture}`);
    await clf.exportOnnx(dir);
    // texts within maxLength (transformers.js truncates after adding [SEP], so longer texts lose it)
    const texts = [...TEXTS.slice(0, 7), 'printer 3 at https://intranet.example.com/x is down'];
    for (const t of texts) assert.ok(tokenizer.encode(t, { maxLength: 512 }).ids.length <= 128, 'within maxLength');
    const ours = await clf.predict(texts, { threshold: 0.5 });
    const theirs = await pipelineScores(dir, texts);
    texts.forEach((t, i) => {
      const top = Object.entries(ours[i].scores).sort((a, b) => b[1] - a[1])[0][0];
      assert.is(theirs[i][0].label, top, `top label of ${JSON.stringify(t)}`);
      assert.is(theirs[i].length, LABELS.length);
      for (const { label, score } of theirs[i]) assert.ok(Math.abs(score - ours[i].scores[label]) <= 1e-4, `${t} / ${label}: ${score} vs ${ours[i].scores[label]}`);
    });
    clf.dispose();
  });
}

test('bad input: opset, options, out directory not written by the package (left untouched), loading an export', async () => {
  const clf = await classifier({ architecture: 'bert' });
  for (const opset of [12, 22, 17.5, '17']) {
    const err = await clf.exportOnnx(join(scratch, 'never'), { opset }).then(() => null, (e) => e);
    assert.ok(err instanceof RangeError || err instanceof TypeError, String(err));
    assert.is(err.code, 'ERR_INVALID_ARG');
    assert.match(err.message, /options\.opset/);
  }
  const unknown = await clf.exportOnnx(join(scratch, 'never'), { opst: 17 }).then(() => null, (e) => e);
  assert.is(unknown?.code, 'ERR_INVALID_ARG');
  const empty = await clf.exportOnnx('').then(() => null, (e) => e);
  assert.is(empty?.code, 'ERR_INVALID_ARG');
  assert.not.ok(existsSync(join(scratch, 'never')));
  const foreign = join(scratch, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  const refused = await clf.exportOnnx(foreign).then(() => null, (e) => e);
  assert.is(refused?.code, 'ERR_INVALID_FILE');
  assert.equal(readdirSync(foreign), ['notes.txt']);
  const dir = join(scratch, 'load-export');
  await clf.exportOnnx(dir);
  const loadErr = await Classifier.load(dir).then(() => null, (e) => e);
  assert.is(loadErr?.code, 'ERR_INVALID_FILE');
  assert.match(loadErr.message, /ONNX export/);
  clf.dispose();
  const disposed = await clf.exportOnnx(join(scratch, 'never')).then(() => null, (e) => e);
  assert.is(disposed?.code, 'ERR_DISPOSED');
});

test('CLI: export --model DIR --format onnx [--out] [--opset]; usage errors exit 2, a foreign --out exits 1', async () => {
  const clf = await classifier({ architecture: 'bert', pooling: 'mean' });
  const model = join(scratch, 'cli-model');
  await saveClassifierDir(model, { model: clf.model, labels: LABELS, thresholds: clf.thresholds, training: {}, report: {} });
  const run = (...args) => spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'export', ...args], { encoding: 'utf8', env: { ...process.env, FUSED_MULTILABEL_DEVICE: 'cpu' } });
  const ok = run('--model', model, '--format', 'onnx');
  assert.is(ok.status, 0, ok.stderr);
  assert.ok(existsSync(join(`${model}-onnx`, 'onnx', 'model.onnx')), 'default --out is DIR-onnx');
  const out = join(scratch, 'cli-out');
  const ok2 = run('--model', model, '--format', 'onnx', '--out', out, '--opset', '14');
  assert.is(ok2.status, 0, ok2.stderr);
  assert.match(ok2.stdout, /opset 14/);
  if (ort) await checkOrt(clf, out, true);
  const bad = [
    [['--model', model], /--format is required/],
    [['--model', model, '--format', 'tflite'], /--format must be one of onnx/],
    [['--model', model, '--format', 'onnx', '--opset', '99'], /--opset must be an integer in \[13, 21\]/],
    [['--format', 'onnx'], /--model is required/],
  ];
  for (const [args, re] of bad) {
    const r = run(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const foreign = join(scratch, 'cli-foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'keep.txt'), 'x');
  const r = run('--model', model, '--format', 'onnx', '--out', foreign);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /refusing to replace it/);
  assert.equal(readdirSync(foreign), ['keep.txt']);
  // the model directory itself is never replaced by its export
  const before = readdirSync(model).sort();
  const self = run('--model', model, '--format', 'onnx', '--out', model);
  assert.is(self.status, 1, self.stderr);
  assert.match(self.stderr, /is a fused-multilabel model directory, not an ONNX export/);
  assert.equal(readdirSync(model).sort(), before);
  assert.ok(existsSync(join(model, 'model.safetensors')));
  clf.dispose();
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
