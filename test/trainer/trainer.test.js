// End-to-end Trainer and Classifier on the bundled data (tiny model, CPU, a few epochs):
// training lowers the loss and beats the label priors; distribution-balanced loss with per-label tuned
// thresholds beats plain BCE at 0.5 on macro-F1 (seed article 002); partially annotated rows train
// through the masked loss; save -> load -> predict gives identical scores; the best epoch is kept;
// a failed save leaves the previous model readable; loading names disagreeing pieces.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readDataset, iterativeStratifiedSplit, Trainer, Classifier, encodeTargets } from '../../dist/index.js';
import { assertClose, assertRejectsCode } from '../helpers/assert.js';

const csv = new URL('../../examples/tickets.csv', import.meta.url).pathname;
const ds = readDataset(csv, { partial: true });
// an empty negatives cell means a fully annotated row (the CLI's --partial rule)
for (const r of ds.rows) if (r.negatives.length === 0) delete r.negatives;
const split = iterativeStratifiedSplit(ds.rows, { seed: 42 });
const labelSet = ds.labelSet;
const train = { rows: split.train, labelSet };
const val = { rows: split.val, labelSet };
const testSet = { rows: split.test, labelSet };
const K = labelSet.length;
const scratch = mkdtempSync(join(tmpdir(), 'fml-trainer-'));

const common = { model: 'tiny', epochs: 4, batchSize: 8, lr: 2e-3, seed: 7, earlyStopping: false };

/** Mean masked log loss of probabilities against targets (-1 skipped). */
function logLoss(targets, probs) {
  let s = 0;
  let n = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] < 0) continue;
    const p = Math.min(Math.max(probs[i], 1e-7), 1 - 1e-7);
    s -= targets[i] === 1 ? Math.log(p) : Math.log(1 - p);
    n++;
  }
  return s / n;
}

function scoresOf(preds, labels) {
  const out = new Float32Array(preds.length * labels.length);
  preds.forEach((p, i) => labels.forEach((l, j) => (out[i * labels.length + j] = p.scores[l])));
  return out;
}

let bce; // the BCE run, shared by the tests below
let bceHistory;
const progress = [];

test('BCE: the loss falls, the partial rows are masked, and the model beats the label priors', async () => {
  bce = new Trainer({ ...common, loss: 'bce', onProgress: (p) => progress.push(p) });
  bceHistory = await bce.fit(train, val);
  const e = bceHistory.epochs;
  assert.is(e.length, 4);
  assert.ok(e[3].trainLoss < e[0].trainLoss * 0.7, `train loss ${e.map((x) => x.trainLoss.toFixed(4)).join(' -> ')}`);
  assert.ok(e[3].valLoss < e[0].valLoss, `val loss ${e.map((x) => x.valLoss.toFixed(4)).join(' -> ')}`);
  // partially annotated rows: their unknown targets are counted and left out of the loss
  assert.ok(bceHistory.data.partialRows.train > 100, `${bceHistory.data.partialRows.train} partial rows`);
  assert.ok(bceHistory.data.unknownTargets.train > 1000, `${bceHistory.data.unknownTargets.train} unknown targets`);
  // onProgress: every step, monotone, with speed and ETA
  const steps = progress.filter((p) => p.phase === 'train');
  assert.is(steps.length, e.length * Math.ceil(train.rows.length / 8));
  assert.ok(steps.every((p, i) => p.step === i + 1 && p.examplesPerSec > 0 && p.etaSec >= 0 && Number.isFinite(p.loss)));
  assert.is(steps[steps.length - 1].etaSec, 0);
  assert.is(progress.filter((p) => p.phase === 'validate').length, 4);

  // trivial baseline: every text gets the training prior of each label
  const tt = encodeTargets(testSet.rows, labelSet);
  const prior = new Float32Array(tt.length);
  for (let i = 0; i < testSet.rows.length; i++)
    for (let j = 0; j < K; j++) prior[i * K + j] = Math.max(1, bceHistory.data.trainCounts[labelSet[j]]) / train.rows.length;
  const preds = await bce.predict(testSet.rows.map((r) => r.text));
  const model = scoresOf(preds, labelSet);
  const lm = logLoss(tt, model);
  const lp = logLoss(tt, prior);
  console.log(`  test log loss ${lm.toFixed(4)} vs label priors ${lp.toFixed(4)}`);
  assert.ok(lm < 0.75 * lp, `test log loss ${lm.toFixed(4)} vs priors ${lp.toFixed(4)}`);
  const report = await bce.evaluate(testSet);
  assert.ok(report.metrics.micro.f1 > 0.6, `micro F1 ${report.metrics.micro.f1}`);
  assert.ok(report.metrics.rocAuc.macro > 0.8, `macro ROC-AUC ${report.metrics.rocAuc.macro}`);
  assert.ok(report.unknownTargets > 0, 'the test split has unknown targets, reported');
  assert.ok(report.metrics.groups, 'HEAD/MEDIUM/TAIL/ZERO groups are reported');
});

test('distribution-balanced loss + per-label tuned thresholds beats BCE at 0.5 on macro-F1 (seed 002)', async () => {
  const db = new Trainer({ ...common, loss: 'db', thresholds: { objective: 'macro-f1', perClass: true } });
  const h = await db.fit(train, val);
  assert.ok(h.thresholds.tuned && h.thresholds.perClass, 'thresholds tuned per label');
  const rDb = await db.evaluate(testSet);
  const rBce = await bce.evaluate(testSet);
  const dbMacro = rDb.metrics.macro.f1;
  const bceMacro05 = rBce.at05.macro.f1;
  console.log(`  macro F1 on test: DB + tuned per-label thresholds ${dbMacro.toFixed(3)} (${rDb.metrics.labelsWithPositiveF1} labels with F1 > 0), BCE at 0.5 ${bceMacro05.toFixed(3)} (${rBce.at05.labelsWithPositiveF1})`);
  assert.ok(dbMacro > bceMacro05 + 0.1, `macro F1: DB tuned ${dbMacro.toFixed(3)} vs BCE at 0.5 ${bceMacro05.toFixed(3)}`);
  assert.ok(rDb.metrics.labelsWithPositiveF1 > rBce.at05.labelsWithPositiveF1, 'DB predicts more labels');

  // save -> load -> predict: identical scores, same labels
  const dir = join(scratch, 'db');
  await db.save(dir);
  const texts = testSet.rows.slice(0, 40).map((r) => r.text);
  const before = await db.predict(texts);
  const clf = await Classifier.load(dir, { device: 'cpu' });
  assert.equal(clf.labels, labelSet);
  const after = await clf.predict(texts);
  assert.equal(after, before, 'predictions of the loaded classifier equal the trainer\'s');
  for (let i = 0; i < texts.length; i++) for (const l of labelSet) assert.is(after[i].scores[l], before[i].scores[l]);
  // options: a global threshold and topK
  const top = await clf.predict(texts.slice(0, 5), { threshold: 0, topK: 2 });
  for (const p of top) {
    assert.is(Object.keys(p.scores).length, 2);
    assert.is(p.labels.length, 2);
    assert.ok(p.scores[p.labels[0]] >= p.scores[p.labels[1]]);
  }
  const none = await clf.predict(texts.slice(0, 5), { threshold: 1 });
  assert.ok(none.every((p) => p.labels.length === 0 || p.labels.every((l) => p.scores[l] >= 1)));
  const rLoaded = await clf.evaluate(testSet);
  assertClose(rLoaded.metrics.macro.f1, dbMacro, { atol: 1e-12, label: 'macro F1 of the loaded model' });

  // the directory's pieces
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.is(cfg.problem_type, 'multi_label_classification');
  assert.is(cfg.id2label['0'], labelSet[0]);
  assert.is(cfg.label2id[labelSet[K - 1]], K - 1);
  assert.is(cfg.model_type, 'bert');
  const training = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8'));
  assert.is(training.history.epochs.length, 4);
  assert.is(training.options.loss, 'db');
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
  assert.is(report.split, 'test');
  assert.ok(readFileSync(join(dir, 'vocab.txt'), 'utf8').startsWith('[PAD]\n'));

  // a save that fails before the swap leaves the previous model readable and unchanged
  let err;
  try {
    await bce.save(dir, { beforeSwap: () => { throw new Error('simulated crash'); } });
  } catch (e) {
    err = e;
  }
  assert.match(err?.message ?? '', /simulated crash/);
  const again = await Classifier.load(dir);
  // another set of texts in the call: other length buckets, the same scores to float rounding
  const five = await again.predict(texts.slice(0, 5));
  five.forEach((p, i) => {
    assert.equal(p.labels, before[i].labels);
    for (const l of labelSet) assertClose(p.scores[l], before[i].scores[l], { atol: 1e-6, rtol: 0, label: `text ${i} ${l}` });
  });
  again.dispose();
  clf.dispose();
  db.dispose();
});

test('Classifier.load names the pieces that disagree', async () => {
  const dir = join(scratch, 'bce');
  await bce.save(dir);
  const edit = (name, fn) => {
    const p = join(dir, name);
    const old = readFileSync(p, 'utf8');
    writeFileSync(p, fn(old));
    return () => writeFileSync(p, old);
  };
  let undo = edit('vocab.txt', (v) => v.split('\n').slice(0, 50).join('\n') + '\n');
  await assertRejectsCode(() => Classifier.load(dir), 'ERR_INVALID_FILE', Error, /vocab\.txt: has 50 tokens but config\.json says vocab_size/);
  undo();
  undo = edit('thresholds.json', (t) => {
    const o = JSON.parse(t);
    delete o.perClass[labelSet[0]];
    return JSON.stringify(o);
  });
  await assertRejectsCode(() => Classifier.load(dir), 'ERR_INVALID_FILE', Error, /thresholds\.json: has \d+ per-label thresholds but config\.json lists \d+ labels/);
  undo();
  undo = edit('config.json', (t) => {
    const o = JSON.parse(t);
    o.fused_multilabel.version = '9.0.0';
    return JSON.stringify(o);
  });
  await assertRejectsCode(() => Classifier.load(dir), 'ERR_INVALID_FILE', Error, /another version of fused-multilabel \(written by 9\.0\.0/);
  undo();
  undo = edit('config.json', (t) => {
    const o = JSON.parse(t);
    o.hidden_size = 128;
    return JSON.stringify(o);
  });
  await assertRejectsCode(() => Classifier.load(dir), 'ERR_INVALID_FILE', Error, /classifier\.weight has input size 64 but config\.json says hidden_size 128/);
  undo();
  undo = edit('config.json', (t) => {
    const o = JSON.parse(t);
    o.id2label[String(K)] = 'extra';
    o.label2id.extra = K;
    o.num_labels = K + 1;
    return JSON.stringify(o);
  });
  await assertRejectsCode(() => Classifier.load(dir), 'ERR_INVALID_FILE', Error, new RegExp(`thresholds\\.json: has ${K} per-label thresholds but config\\.json lists ${K + 1} labels`));
  const undoThr = edit('thresholds.json', (t) => {
    const o = JSON.parse(t);
    o.perClass.extra = 0.5;
    return JSON.stringify(o);
  });
  await assertRejectsCode(() => Classifier.load(dir), 'ERR_INVALID_FILE', Error, new RegExp(`classifier\\.weight has ${K} outputs but config\\.json lists ${K + 1} labels`));
  undoThr();
  undo();
  undo = edit('config.json', (t) => {
    const o = JSON.parse(t);
    o.model_type = 'gpt2';
    return JSON.stringify(o);
  });
  await assertRejectsCode(() => Classifier.load(dir), 'ERR_INVALID_FILE', Error, /config\.json: model_type "gpt2" is not a model this version of fused-multilabel reads/);
  undo();
  const ok = await Classifier.load(dir);
  await assertRejectsCode(() => ok.evaluate([{ text: 'x', labels: ['not-a-label'] }]), 'ERR_INVALID_ARG', RangeError, /labels unseen at training time: not-a-label/);
  ok.dispose();
  await assertRejectsCode(() => ok.predict(['x']), 'ERR_DISPOSED');
});

test('trainer.classifier is the inference path: predict/evaluate delegate to it, negatives are checked as Classifier.load\'s', async () => {
  const clf = bce.classifier;
  assert.instance(clf, Classifier);
  assert.equal(clf.labels, labelSet);
  assert.is(clf.dir, null);
  assert.equal(clf.thresholds, bce.thresholds);
  const texts = testSet.rows.slice(0, 6).map((r) => r.text);
  assert.equal(await clf.predict(texts), await bce.predict(texts));
  const scores = await clf.scores(texts);
  assert.is(scores.length, texts.length * K);
  // a negative label the model never saw is an error on both paths (Trainer.evaluate used to ignore it)
  const row = [{ text: 'x', labels: [labelSet[0]], negatives: ['never-seen'] }];
  await assertRejectsCode(() => bce.evaluate(row), 'ERR_INVALID_ARG', RangeError, /test has labels unseen at training time: never-seen/);
  await assertRejectsCode(() => clf.evaluate(row), 'ERR_INVALID_ARG', RangeError, /test has labels unseen at training time: never-seen/);
  // the same report from the trainer and from its classifier
  assert.equal(await bce.evaluate(testSet), await clf.evaluate(testSet));
  // a Classifier from parts checks them
  assert.throws(() => new Classifier({ model: clf.model, labels: ['a'], thresholds: clf.thresholds }), (e) => e.code === 'ERR_INVALID_ARG' && /parts\.labels/.test(e.message));
});

test('{ pretrained: dir }: vocab.txt and the body come from the directory, the head starts afresh for new labels', async () => {
  const dir = join(scratch, 'bce'); // saved by the previous test
  const saved = await Classifier.load(dir);
  saved.dispose();
  // relabel a few rows with labels the checkpoint never had, same count as before
  const relabel = (rows) => rows.map((r) => ({ text: r.text, labels: r.labels.map((l) => `new-${l}`) }));
  const newSet = labelSet.map((l) => `new-${l}`);
  const rows = relabel(split.train.slice(0, 64));
  const t = new Trainer({ model: { pretrained: dir }, epochs: 1, batchSize: 16, lr: 0, seed: 5, earlyStopping: false });
  const h = await t.fit({ rows, labelSet: newSet }, { rows: relabel(split.val.slice(0, 32)), labelSet: newSet });
  assert.is(h.data.vocabSize, readFileSync(join(dir, 'vocab.txt'), 'utf8').trimEnd().split('\n').length, 'the pretrained vocab.txt is used');
  const before = bce.encoder.parameters();
  const after = t.encoder.parameters();
  // lr 0: the body is exactly the checkpoint's; the head was re-initialised because the labels differ
  for (const name of ['bert.embeddings.word_embeddings.weight', 'bert.encoder.layer.1.output.dense.weight'])
    assert.ok(Buffer.from(after.get(name).buffer).equals(Buffer.from(before.get(name).buffer)), `${name} loaded unchanged`);
  assert.not.ok(Buffer.from(after.get('classifier.weight').buffer).equals(Buffer.from(before.get('classifier.weight').buffer)), 'fresh head');
  assert.ok(after.get('classifier.bias').every((x) => x === 0));
  t.dispose();
  // same labels: the head is kept (continued training)
  const t2 = new Trainer({ model: { pretrained: dir }, epochs: 1, batchSize: 16, lr: 0, seed: 5, earlyStopping: false });
  await t2.fit({ rows: split.train.slice(0, 32), labelSet }, { rows: split.val.slice(0, 32), labelSet });
  assert.ok(Buffer.from(t2.encoder.parameters().get('classifier.weight').buffer).equals(Buffer.from(before.get('classifier.weight').buffer)), 'head kept');
  t2.dispose();
});

test('early stopping keeps the best epoch: the restored model has the best validation loss', async () => {
  // 120 training rows, a high learning rate and many epochs: validation loss turns up, training stops
  const small = { rows: split.train.slice(0, 120), labelSet };
  const smallVal = { rows: split.val.slice(0, 150), labelSet };
  const t = new Trainer({ model: 'tiny', loss: 'bce', epochs: 30, batchSize: 8, lr: 5e-3, warmupRatio: 0, seed: 3, earlyStopping: { metric: 'val-loss', patience: 2 } });
  const h = await t.fit(small, smallVal);
  const losses = h.epochs.map((e) => e.valLoss);
  const best = losses.indexOf(Math.min(...losses)) + 1;
  console.log(`  val losses ${losses.map((x) => x.toFixed(4)).join(' ')}; best epoch ${h.bestEpoch}`);
  assert.is(h.bestEpoch, best, `val losses ${losses.map((x) => x.toFixed(4)).join(' ')}`);
  assert.ok(h.stoppedEarly, `stopped early (epochs run: ${h.epochs.length})`);
  assert.is(h.epochs.length, best + 2, 'patience 2: two epochs without improvement');
  // the parameters in use are the best epoch's: recompute its validation loss from the predictions
  const preds = await t.predict(smallVal.rows.map((r) => r.text));
  const vl = logLoss(encodeTargets(smallVal.rows, labelSet), scoresOf(preds, labelSet));
  assertClose(vl, losses[best - 1], { rtol: 1e-3, atol: 1e-5, label: 'validation loss of the kept parameters' });
  t.dispose();
});

test('the same seed trains the same model; another seed another one', async () => {
  const rows = { rows: split.train.slice(0, 160), labelSet };
  const v = { rows: split.val.slice(0, 40), labelSet };
  const texts = split.test.slice(0, 10).map((r) => r.text);
  const once = async (seed) => {
    const t = new Trainer({ epochs: 2, batchSize: 8, seed, earlyStopping: false });
    const h = await t.fit(rows, v);
    const p = await t.predict(texts);
    t.dispose();
    return { losses: h.epochs.map((e) => e.trainLoss), p };
  };
  const a = await once(11);
  const b = await once(11);
  const c = await once(12);
  assert.equal(b, a);
  assert.not.equal(c.losses, a.losses);
});

test('option and argument errors', async () => {
  const bad = (o, re) => {
    let err;
    try {
      new Trainer(o);
    } catch (e) {
      err = e;
    }
    assert.is(err?.code, 'ERR_INVALID_ARG', `${JSON.stringify(o)} should throw`);
    if (re) assert.match(err.message, re);
  };
  bad({ epoch: 3 }, /Unknown option "epoch" in Trainer options; did you mean "epochs"/);
  bad({ loss: 'hinge' }, /'bce' \| 'focal' \| 'db' \| 'asl'/);
  bad({ model: 'huge' }, /options\.model/);
  bad({ batchSize: 0 }, /options\.batchSize/);
  bad({ earlyStopping: { metric: 'accuracy' } }, /earlyStopping\.metric/);
  bad({ thresholds: { minSupport: 'some' } }, /an integer >= 0 or 'auto' for options\.thresholds\.minSupport but received string "some"/);
  bad({ thresholds: { minSupport: 2.5 } }, /options\.thresholds\.minSupport/);
  bad({ thresholds: { bags: 1.5 } }, /options\.thresholds\.bags/);
  bad({ thresholds: { bags: 'many' } }, /options\.thresholds\.bags/);
  const t = new Trainer({ epochs: 1 });
  assert.is(t.options.thresholds.minSupport, 'auto', 'minSupport defaults to auto');
  assert.is(t.options.thresholds.bags, 20, 'bags defaults to 20');
  assert.is(new Trainer({ thresholds: { minSupport: 7 } }).options.thresholds.minSupport, 7);
  await assertRejectsCode(() => t.fit('rows.csv'), 'ERR_INVALID_ARG', TypeError, /train/);
  // a validation label the training rows lack is kept with count 0 (test/ngram covers the rest)
  await assertRejectsCode(() => t.predict(['a']), 'ERR_INVALID_ARG', Error, /call fit\(\) first/);
  const h = await t.fit([{ text: 'a', labels: ['x'] }], [{ text: 'b', labels: ['y'] }]);
  assert.equal(h.data.zeroLabels, ['y']);
});

test.after(() => {
  bce?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

test.run();
