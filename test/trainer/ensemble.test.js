// The ensemble model (model 'ensemble', and what 'auto' picks for up to 100,000 training rows): the n-gram model and the tiny encoder trained in turn, their logits averaged. Checks the
// combination against each member loaded alone, the save -> load round trip, concurrent calls, the
// ONNX export (each member's graph run by onnxruntime and combined by config.json's weights), what
// 'auto' picks and the loader's rejections.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { Classifier, Trainer } from '../../dist/index.js';
import { autoModelFor, AUTO_ENSEMBLE, ensembleMembers, ngramEpochsFor } from '../../dist/trainer_options.js';
import { mulberry32 } from '../../dist/random.js';
import { chooseWeights, combineLogits } from '../../dist/ensemble_model.js';
import { needs, ort, ortLoad } from '../helpers/onnx.js';
import { assertRejectsCode } from '../helpers/assert.js';

const scratch = mkdtempSync(join(tmpdir(), 'fml-ensemble-'));
const WORDS = {
  billing: ['invoice', 'charged', 'refund', 'payment', 'card'],
  login: ['password', 'sign', 'locked', 'reset', 'account'],
  crash: ['crash', 'freeze', 'error', 'bug', 'broken'],
};
const FILLER = ['the', 'my', 'please', 'help', 'today', 'again', 'since', 'app', 'still', 'thanks'];

/** n rows of 1-2 labels, each text a few of its labels' words among filler words. */
function rowsOf(n, seed) {
  const r = mulberry32(seed);
  const names = Object.keys(WORDS);
  const pick = (a) => a[Math.floor(r() * a.length)];
  return Array.from({ length: n }, () => {
    const labels = [pick(names)];
    if (r() < 0.3) labels.push(pick(names.filter((l) => l !== labels[0])));
    const words = [];
    for (const l of labels) for (let i = 0; i < 2; i++) words.push(pick(WORDS[l]));
    for (let i = 0; i < 4; i++) words.splice(Math.floor(r() * (words.length + 1)), 0, pick(FILLER));
    return { text: words.join(' '), labels };
  });
}

const train = rowsOf(300, 1);
const val = rowsOf(80, 2);
const probe = ['refund my card payment please', 'password reset locked again', 'the app crash error', 'help'];
const sigmoid = (z) => 1 / (1 + Math.exp(-z));
const logit = (p) => Math.log(p / (1 - p));

let trainer;
let dir;
test.before(async () => {
  trainer = new Trainer({ model: 'ensemble', epochs: 2, seed: 3 });
  await trainer.fit(train, val);
  dir = join(scratch, 'model');
  await trainer.save(dir);
});
test.after(() => {
  trainer?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

test("model 'ensemble': both members trained, each with its own options, recorded in the history", () => {
  const h = trainer.history;
  assert.equal(h.members.map((m) => m.name), ['ngram', 'tiny']);
  const [ng, tiny] = h.members;
  assert.is(ng.options.model, 'ngram');
  assert.is(tiny.options.model, 'tiny');
  // the caller's epochs apply to both; the tiny member's own defaults otherwise (max length 64, ASL)
  assert.is(ng.epochs.length, 2);
  assert.is(tiny.epochs.length, 2);
  assert.is(tiny.options.maxLength, 64);
  assert.is(tiny.options.loss, 'asl');
  assert.ok(h.epochs.every((e) => e.member === 'ngram' || e.member === 'tiny'));
  assert.is(h.epochs.length, 4);
  for (const m of h.members) assert.ok(m.validation.microF1 > 0.5, `${m.name} alone: ${JSON.stringify(m.validation)}`);
  assert.is(trainer.classifier.model.modelType, 'fused-ensemble');
  // each member keeps the epoch early stopping scored highest (the first of equals)
  for (const m of h.members) {
    const sel = m.epochs.map((e) => e.valSelection);
    assert.ok(sel.every((x) => typeof x === 'number'), `${m.name}: ${sel}`);
    assert.is(m.bestEpoch, sel.indexOf(Math.max(...sel)) + 1, `${m.name}: ${sel}`);
  }
  // the n-gram member by its tuned validation macro-F1; the tiny one by how its logits combine with the
  // n-gram member's: its kept epoch's score is the final weight search's best micro-F1 + macro-F1
  assert.ok(ng.epochs.every((e) => e.valSelection <= 1));
  const searched = Math.max(...tiny.weightSearch.map((s) => s.microF1 + s.macroF1));
  assert.is(tiny.epochs[tiny.bestEpoch - 1].valSelection, searched);
  assert.ok(searched > 1, `micro + macro ${searched}`);
});

test("the ensemble's logits are the weighted mean of its members' (each loaded alone from members/NAME)", async () => {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.is(cfg.model_type, 'fused-ensemble');
  // the weights chosen on validation, as the history records them
  const weights = trainer.history.members.map((m) => m.weight);
  assert.equal(cfg.ensemble.members.map((m) => [m.name, m.dir, m.weight]), [['ngram', 'members/ngram', weights[0]], ['tiny', 'members/tiny', weights[1]]]);
  assert.ok(Math.abs(weights[0] + weights[1] - 1) < 1e-12 && weights.every((w) => w > 0), String(weights));
  const ens = await trainer.classifier.scores(probe);
  const alone = [];
  for (const m of cfg.ensemble.members) {
    const c = await Classifier.load(join(dir, m.dir));
    alone.push({ w: m.weight, p: await c.scores(probe) });
    c.dispose();
  }
  for (let i = 0; i < ens.length; i++) {
    const want = sigmoid(alone.reduce((s, a) => s + a.w * logit(a.p[i]), 0));
    assert.ok(Math.abs(ens[i] - want) <= 1e-5, `[${i}] ${ens[i]} vs ${want}`);
  }
  // the members differ, so the mean is not just one of them
  assert.ok(alone[0].p.some((x, i) => Math.abs(x - alone[1].p[i]) > 1e-3));
});

test('save -> load gives the same scores and thresholds; concurrent calls equal lone ones', async () => {
  const loaded = await Classifier.load(dir);
  assert.is(loaded.model.modelType, 'fused-ensemble');
  assert.equal(loaded.thresholds, JSON.parse(JSON.stringify(trainer.thresholds)));
  const a = await trainer.classifier.scores(probe);
  const b = await loaded.scores(probe);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-6, `[${i}] ${a[i]} vs ${b[i]}`);
  const lone = [];
  for (const t of probe) lone.push(await loaded.predict([t]));
  const together = await Promise.all(probe.map((t) => loaded.predict([t])));
  assert.equal(together, lone);
  // the report draws each member's epochs as lines of their own
  const { html } = await loaded.report({ out: join(scratch, 'report.html') });
  assert.match(html, /tiny: validation loss/);
  assert.match(html, /ngram: training loss/);
  loaded.dispose();
  await assertRejectsCode(() => loaded.predict(['x']), 'ERR_DISPOSED');
});

test('the loader rejects a broken ensemble directory, naming the field or file', async () => {
  const copy = (name) => {
    const d = join(scratch, name);
    cpSync(dir, d, { recursive: true });
    return d;
  };
  const edit = (d, f) => {
    const p = join(d, 'config.json');
    const c = JSON.parse(readFileSync(p, 'utf8'));
    f(c);
    writeFileSync(p, JSON.stringify(c));
  };
  const cases = [
    ['no-members', (c) => delete c.ensemble, /ensemble\.members/],
    ['bad-weight', (c) => (c.ensemble.members[1].weight = -1), /ensemble\.members\[1\]\.weight/],
    ['bad-dir', (c) => (c.ensemble.members[0].dir = '../elsewhere'), /ensemble\.members\[0\]\.dir/],
    ['bad-name', (c) => (c.ensemble.members[0].name = '../x'), /ensemble\.members\[0\]\.name/],
  ];
  for (const [name, f, re] of cases) {
    const d = copy(name);
    edit(d, f);
    const err = await Classifier.load(d).then(() => null, (e) => e);
    assert.ok(err && err.code === 'ERR_INVALID_FILE' && re.test(err.message), `${name}: ${err?.code} ${err?.message}`);
  }
  // a member with the ensemble's labels in another order
  const d = copy('labels');
  edit(join(d, 'members', 'tiny'), (c) => {
    [c.id2label['0'], c.id2label['1']] = [c.id2label['1'], c.id2label['0']];
    c.label2id = Object.fromEntries(Object.entries(c.id2label).map(([i, l]) => [l, Number(i)]));
  });
  const err = await Classifier.load(d).then(() => null, (e) => e);
  assert.ok(err && err.code === 'ERR_INVALID_FILE' && /members\/tiny\/config\.json.*other labels/.test(err.message), `${err?.code} ${err?.message}`);
  // a missing member folder
  const m = copy('missing');
  rmSync(join(m, 'members', 'ngram'), { recursive: true });
  await assertRejectsCode(() => Classifier.load(m), 'ERR_INVALID_FILE');
});

test('the weights: the grid point with the best tuned validation score; a member that only adds noise gets 0', () => {
  const r = mulberry32(4);
  const n = 400;
  const K = 3;
  const targets = Int8Array.from({ length: n * K }, () => (r() < 0.3 ? 1 : 0));
  const truth = Float32Array.from(targets, (t) => (t ? 1 : -1) + 3 * (r() - 0.5));
  const noise = Float32Array.from(targets, () => 20 * (r() - 0.5));
  const opts = { objective: 'micro-f1', perClass: true };
  const a = chooseWeights([truth, noise], targets, [n, K], opts);
  assert.equal(a.weights, [1, 0]);
  assert.is(a.scores.length, 11);
  assert.equal(chooseWeights([noise, truth], targets, [n, K], opts).weights, [0, 1]);
  // two equally good members: the balanced pair (a tie keeps it)
  assert.equal(chooseWeights([truth, truth], targets, [n, K], opts).weights, [0.5, 0.5]);
  // the combination itself
  assert.equal(Array.from(combineLogits([Float32Array.of(1, 2), Float32Array.of(3, -2)], [0.25, 0.75])), [2.5, -1]);
});

test("options: 'ensemble' is a model option, pre-training is refused for it, bad values are named", () => {
  assert.is(new Trainer({ model: 'ensemble' }).options.model, 'ensemble');
  assert.throws(() => new Trainer({ model: 'ensemble', pretrainEpochs: 1 }), (e) => e instanceof RangeError && /options\.pretrainEpochs.*ensemble/.test(e.message));
  assert.throws(() => new Trainer({ model: 'ensembles' }), (e) => /options\.model/.test(e.message) && /'ensemble'/.test(e.message));
});

test("'auto' picks the ensemble for up to 100,000 training rows, else the n-gram model", () => {
  const { maxRows } = AUTO_ENSEMBLE;
  assert.is(autoModelFor(1, 1).picked, 'ensemble');
  assert.is(autoModelFor(maxRows, 1500).picked, 'ensemble');
  assert.is(autoModelFor(maxRows + 1, 28).picked, 'ngram');
  assert.match(autoModelFor(maxRows + 1, 28).reason, /^auto: the hashed n-gram model/);
  assert.match(autoModelFor(40000, 28).reason, /^auto: the ensemble/);
  // before fit() the options say the n-gram model; fit() decides on the data
  const t = new Trainer({});
  assert.is(t.options.model, 'ngram');
  assert.is(t.options.modelAuto.picked, 'ngram');
});

test("'auto' trains the ensemble and says so in the options and training.json", async () => {
  const t = new Trainer({ epochs: 1, seed: 5 });
  await t.fit(rowsOf(2000, 9), val);
  assert.is(t.options.model, 'ensemble');
  assert.is(t.options.modelAuto.picked, 'ensemble');
  assert.is(t.classifier.model.modelType, 'fused-ensemble');
  const d = join(scratch, 'auto');
  await t.save(d);
  const training = JSON.parse(readFileSync(join(d, 'training.json'), 'utf8'));
  assert.is(training.options.modelAuto.picked, 'ensemble');
  assert.is(training.history.members.length, 2);
  t.dispose();
});

test("the n-gram model's default epochs follow the label count: 3 up to 100 labels, 10 over; the caller's win", async () => {
  assert.equal([1, 28, 100, 101, 1500].map(ngramEpochsFor), [3, 3, 3, 10, 10]);
  const epochsOf = (opts, k) => ensembleMembers(opts, k).map((m) => [m.name, m.options.epochs]);
  assert.equal(epochsOf({}, 28), [['ngram', 3], ['tiny', 5]]);
  assert.equal(epochsOf({}, 598), [['ngram', 10], ['tiny', 5]]);
  assert.equal(epochsOf({ epochs: 2 }, 598), [['ngram', 2], ['tiny', 2]]);
  // fit() sets them for the data: 101 labels (one per row group) against the 3 of rowsOf
  const many = Array.from({ length: 202 }, (_, i) => ({ text: `item ${i % 101} word${i % 101} thing`, labels: [`l${i % 101}`] }));
  const seen = [];
  for (const [opts, rows, want] of [[{ model: 'ngram' }, many, 10], [{ model: 'ngram' }, train, 3], [{ model: 'ngram', epochs: 2 }, many, 2]]) {
    const t = new Trainer({ ...opts, seed: 1, earlyStopping: { patience: 100 } });
    await t.fit(rows);
    seen.push([t.options.epochs, t.history.epochs.length]);
    t.dispose();
  }
  assert.equal(seen, [[10, 10], [3, 3], [2, 2]]);
});

needs(ortLoad, 'ONNX export: one folder per member; onnxruntime on each, combined by config.json\'s weights, gives the package\'s logits', async () => {
  const loaded = await Classifier.load(dir);
  const out = join(scratch, 'onnx');
  const info = await loaded.exportOnnx(out);
  assert.equal(info.members.map((m) => [m.name, m.transformersJs]), [['ngram', false], ['tiny', true]]);
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.is(cfg.fused_multilabel.export, 'onnx');
  assert.ok(existsSync(join(out, 'thresholds.json')));
  const want = await loaded.model.logits(probe);
  const sum = new Float64Array(want.length);
  const members = await Promise.all(cfg.ensemble.members.map((m) => Classifier.load(join(dir, 'members', m.name))));
  for (const [i, m] of cfg.ensemble.members.entries()) {
    const f = members[i].featurize(probe);
    const feeds = { input_ids: new ort.Tensor('int64', f.inputIds, [f.batchSize, f.length]), attention_mask: new ort.Tensor('int64', f.attentionMask, [f.batchSize, f.length]) };
    if (f.tokenTypeIds) feeds.token_type_ids = new ort.Tensor('int64', f.tokenTypeIds, [f.batchSize, f.length]);
    const sess = await ort.InferenceSession.create(readFileSync(join(out, m.dir, 'onnx', 'model.onnx')));
    const z = (await sess.run(feeds)).logits.data;
    for (let j = 0; j < z.length; j++) sum[j] += m.weight * z[j];
    await sess.release();
    members[i].dispose();
  }
  for (let j = 0; j < want.length; j++) assert.ok(Math.abs(sum[j] - want[j]) <= 1e-4, `[${j}] ${sum[j]} vs ${want[j]}`);
  // the export directory is not a model directory
  await assertRejectsCode(() => Classifier.load(out), 'ERR_INVALID_FILE');
  loaded.dispose();
});

test.run();
