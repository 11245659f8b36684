// The fused-multilabel command: train / evaluate / predict / info / bench / --help, and its error paths
// (one line on stderr naming the problem, a non-zero exit code).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliRunner, fails } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'fml-cli-'));
const model = join(scratch, 'model');

const run = cliRunner(scratch);

// a 900-row slice of the bundled data (with the negatives column) keeps these runs short
const all = readFileSync(join(root, 'examples', 'tickets.csv'), 'utf8').split('\n');
const data = join(scratch, 'tickets.csv');
writeFileSync(data, all.slice(0, 901).join('\n') + '\n');

test('train --json: splits 60/20/20, trains, evaluates, saves every file of the model directory', () => {
  const r = run('train', '--data', data, '--out', model, '--model', 'tiny', '--epochs', '2', '--batch-size', '8', '--loss', 'db', '--partial', '--seed', '3', '--json');
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.is(j.out, model);
  assert.is(j.history.length, 2);
  assert.ok(j.data.trainRows > 500 && j.data.trainRows < 580, `${j.data.trainRows} training rows`);
  assert.ok(j.data.unknownTargets.train > 0, 'partial rows give unknown targets');
  assert.ok(j.report.micro.f1 > 0.3, `micro F1 ${j.report.micro.f1}`);
  assert.ok(j.report.groups.head.labels.length > 0);
  assert.equal(readdirSync(model).sort(), [
    'config.json', 'model.safetensors', 'report.html', 'report.json', 'special_tokens_map.json', 'thresholds.json', 'tokenizer_config.json', 'training.json', 'vocab.txt',
  ]);
  const training = JSON.parse(readFileSync(join(model, 'training.json'), 'utf8'));
  assert.ok(training.splitCoverage.val.present > 0, 'split coverage recorded');
  // --min-support auto (the default) records the value its cross-validation picked
  const thr = JSON.parse(readFileSync(join(model, 'thresholds.json'), 'utf8'));
  assert.ok([1, 3, 5, 10, 20, 40].includes(thr.minSupport), `minSupport ${thr.minSupport}`);
  // and the default 20 bootstrap resamples, averaged for the labels with 50+ validation positives
  assert.is(thr.bags, 20);
  assert.ok(Number.isInteger(thr.baggedLabels) && thr.baggedLabels <= Object.keys(thr.perClass).length, `baggedLabels ${thr.baggedLabels}`);
  // progress went to stderr as plain lines (stdout is not a terminal)
  assert.match(r.err, /epoch 1\/2 step \d+\/\d+: loss [\d.]+, \d+ ex\/s, ETA/);
});

test('train (text output): progress lines, the evaluation table and the output directory', () => {
  const out = join(scratch, 'model-text');
  const r = run('train', '--data', data, '--out', out, '--epochs', '1', '--batch-size', '16', '--max-length', '48', '--pos-weight', 'sqrt-neg-pos', '--min-support', '1000', '--patience', '2', '--threshold-bags', '7');
  assert.is(r.code, 0, r.err);
  for (const re of [/epoch 1\/1 step/, /micro\s+[\d.]+\s+[\d.]+\s+[\d.]+/, /macro\s+/, /Hamming loss\s+[\d.]+/, /ROC-AUC micro \/ macro/, /labels with F1 > 0\s+\d+ \/ \d+/, /HEAD\s+\d+/, /MEDIUM/, /TAIL/, /ZERO/])
    assert.match(r.out, re);
  // --min-support N: labels with fewer validation positives keep the global threshold, and the line says so
  assert.match(r.out, /tuned thresholds per label with 1000\+ validation positives \(global [\d.]+\)/);
  const thr = JSON.parse(readFileSync(join(out, 'thresholds.json'), 'utf8'));
  assert.is(thr.minSupport, 1000);
  // --threshold-bags N is recorded; no label is averaged when none may have a threshold of its own
  assert.is(thr.bags, 7);
  assert.is(thr.baggedLabels, 0);
  // --patience alone keeps each member's own early-stopping metric (the n-gram model's and the ensemble's tiny member's macro-F1)
  const training = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8'));
  assert.equal(training.history.members.map((m) => m.options.earlyStopping), [{ patience: 2, metric: 'macro-f1' }, { patience: 2, metric: 'macro-f1' }]);
  assert.ok(Object.values(thr.perClass).every((t) => t === thr.global), 'no label had 1000 validation positives');
  assert.match(r.out, new RegExp(`model saved to ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
});

test('evaluate and predict with the saved model', () => {
  const e = run('evaluate', '--model', model, '--data', data, '--partial', '--json');
  assert.is(e.code, 0, e.err);
  const rep = JSON.parse(e.out);
  assert.is(rep.rows, 900);
  assert.ok(rep.unknownTargets > 0);
  const t = run('evaluate', '--model', model, '--data', data);
  assert.is(t.code, 0, t.err);
  assert.match(t.out, /Evaluation on .*tickets\.csv: 900 rows/);

  const p = run('predict', '--model', model, '--text', 'I was charged twice on my card', '--text', 'the reset link never arrives', '--top-k', '3');
  assert.is(p.code, 0, p.err);
  const lines = p.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(lines.length, 2);
  assert.is(lines[0].text, 'I was charged twice on my card');
  assert.is(Object.keys(lines[0].scores).length, 3);
  assert.ok(Object.values(lines[0].scores).every((s) => s >= 0 && s <= 1));
  const txt = join(scratch, 'texts.txt');
  writeFileSync(txt, 'my parcel has not arrived\n\nthe api returns 500\n');
  const q = run('predict', '--model', model, '--data', txt, '--threshold', '0');
  assert.is(q.code, 0, q.err);
  const ql = q.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(ql.length, 2);
  assert.is(ql[1].labels.length, Object.keys(ql[1].scores).length, 'threshold 0: every label');
  const qc = run('predict', '--model', model, '--data', data);
  assert.is(qc.code, 0, qc.err);
  assert.is(qc.out.trim().split('\n').length, 900);
});

test('train with --val/--test holding a label the training file never has: warned by name, trained, ZERO group, out of tuning; evaluate rejects unknown labels', () => {
  const dir = join(scratch, 'unseen-label');
  const rows = all.slice(1, 901).filter((l) => l.trim());
  const trainCsv = join(scratch, 'unseen-train.csv');
  const valCsv = join(scratch, 'unseen-val.csv');
  const testCsv = join(scratch, 'unseen-test.csv');
  writeFileSync(trainCsv, [all[0], ...rows.slice(0, 600)].join('\n') + '\n');
  writeFileSync(valCsv, [all[0], ...rows.slice(600, 750), '"the teleporter ate my parcel",teleportation,'].join('\n') + '\n');
  writeFileSync(testCsv, [all[0], ...rows.slice(750), '"teleport me to the refund desk","teleportation,refund",'].join('\n') + '\n');
  const r = run('train', '--data', trainCsv, '--val', valCsv, '--test', testCsv, '--out', dir, '--epochs', '1', '--seed', '4', '--json');
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /^model: auto: /m, 'auto says what it picked');
  assert.match(r.err, /1 label never occurs in the training rows \(kept with count 0, out of threshold tuning; reported in the ZERO group\): teleportation/);
  const j = JSON.parse(r.out);
  assert.ok(j.report.groups.zero.labels.includes('teleportation'), JSON.stringify(j.report.groups.zero));
  const training = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8'));
  assert.equal(training.history.data.zeroLabels, ['teleportation']);
  assert.is(training.history.data.trainCounts.teleportation, 0);
  assert.is(training.options.modelAuto.picked, 'ensemble');
  const th = JSON.parse(readFileSync(join(dir, 'thresholds.json'), 'utf8'));
  assert.is(th.perClass.teleportation, th.global, 'no threshold searched for it');
  // the saved model knows 'teleportation' now, but not a label no file had
  assert.is(run('evaluate', '--model', dir, '--data', testCsv).code, 0);
  const unknown = join(scratch, 'unseen-unknown.csv');
  writeFileSync(unknown, 'text,labels\nbeam me up,"teleportation,warp-drive,billing,time-travel"\n');
  fails(run('evaluate', '--model', dir, '--data', unknown), 1, /labels unseen at training time: (warp-drive, time-travel|time-travel, warp-drive)/);
});

test('info, bench --help and --help for every command', () => {
  const i = run('info');
  assert.is(i.code, 0);
  assert.match(i.out, /CPU threads: \d+/);
  assert.is(JSON.parse(run('info', '--json').out).version.length > 0, true);
  for (const c of ['train', 'evaluate', 'predict', 'info', 'bench']) {
    const h = run(c, '--help');
    assert.is(h.code, 0, `${c} --help`);
    assert.match(h.out, new RegExp(`usage: fused-multilabel ${c}`));
  }
  assert.match(run('--help').out, /commands:/);
});

test('errors: one line naming the problem, non-zero exit', () => {
  fails(run('train', '--data', data, '--out', model, '--epoch', '2'), 2, /Unknown option '--epoch'/);
  fails(run('train', '--out', model), 2, /--data is required/);
  fails(run('train', '--data', data, '--out', model, '--loss', 'hinge'), 2, /--loss must be one of bce, focal, db, asl/);
  fails(run('train', '--data', data, '--out', model, '--epochs', 'two'), 2, /--epochs must be an integer/);
  fails(run('train', '--data', data, '--out', model, '--min-support', 'many'), 2, /--min-support must be an integer >= 0 or auto, got "many"/);
  fails(run('train', '--data', data, '--out', model, '--threshold-bags=-1'), 2, /--threshold-bags must be an integer >= 0, got "-1"/);
  fails(run('train', '--data', data, '--out', model, '--threshold-bags', '5000'), 2, /--threshold-bags/);
  fails(run('frobnicate'), 2, /unknown command "frobnicate"/);
  fails(run('train', '--data', join(scratch, 'nope.csv'), '--out', model), 1, /nope\.csv: --data file not found/);
  const noLabels = join(scratch, 'nolabels.csv');
  writeFileSync(noLabels, 'text,tags\nhello,billing\n');
  fails(run('train', '--data', noLabels, '--out', model), 1, /missing column "labels"/);
  const broken = join(scratch, 'broken.csv');
  writeFileSync(broken, 'text,labels\n"unterminated,billing\n');
  fails(run('evaluate', '--model', model, '--data', broken), 1, /broken\.csv/);
  const unseen = join(scratch, 'unseen.csv');
  writeFileSync(unseen, 'text,labels\nmy card was charged,"billing,teleportation"\n');
  fails(run('evaluate', '--model', model, '--data', unseen), 1, /labels unseen at training time: teleportation/);
  fails(run('predict', '--model', join(scratch, 'no-model'), '--text', 'x'), 1, /model directory not found/);
  fails(run('predict', '--model', model), 2, /give --text/);
  fails(run('predict', '--model', model, '--text', 'x', '--threshold', '2'), 2, /--threshold must be a number in \[0, 1\]/);
  // a model directory from another version
  const cfgPath = join(model, 'config.json');
  const cfg = readFileSync(cfgPath, 'utf8');
  const o = JSON.parse(cfg);
  o.fused_multilabel.format = 99;
  writeFileSync(cfgPath, JSON.stringify(o));
  fails(run('predict', '--model', model, '--text', 'x'), 1, /model directory from another version of fused-multilabel/);
  writeFileSync(cfgPath, cfg);
  // refusing to overwrite a directory that is not a model
  const precious = join(scratch, 'precious');
  writeFileSync(join(scratch, 'keep.txt'), 'x');
  fails(run('train', '--data', data, '--out', scratch, '--epochs', '1'), 1, /not a fused-multilabel model directory; refusing to replace it/);
  void precious;
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
