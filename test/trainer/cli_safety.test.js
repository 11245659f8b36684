// The CLI never loses work and never stays silent: outputs checked before training (exit 2 naming the
// flag), train writes report.html and `report` redraws it without the model run or on new data, re-training
// keeps the user's files in the model directory, a FIFO weights file is refused (no hang), dropped rows
// and the real split proportions are reported, nothing unprintable reaches the terminal.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliRunner, fails } from '../helpers/cli.js';

const root = new URL('../..', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'fml-safety-'));
const model = join(scratch, 'model');

const run = cliRunner(scratch, { timeout: 120000 });

const all = readFileSync(join(root, 'examples', 'tickets.csv'), 'utf8').split('\n');
const header = all[0];
const data = join(scratch, 'tickets.csv');
// 400 rows, one of them with an empty text
const rows = all.slice(1, 401);
rows[9] = rows[9].replace(/^("[^"]*"|[^,]*)/, '""');
writeFileSync(data, [header, ...rows].join('\n') + '\n');
const base = ['--data', data, '--epochs', '1', '--batch-size', '16', '--max-length', '32', '--device', 'cpu'];

test('an unusable --out is a usage error naming it, before any data is read', () => {
  const file = join(scratch, 'afile');
  writeFileSync(file, 'x');
  const dangling = join(scratch, 'dangling');
  symlinkSync(join(scratch, 'nowhere', 'deeper'), dangling);
  for (const [out, re] of [
    [dangling, /--out .*dangling is a symbolic link to a missing target/],
    [join(file, 'model'), /--out .*afile\/model: .*afile is a file, so nothing can be created under it/],
    ['/proc/fml-model', /--out \/proc\/fml-model: cannot create files in \/proc/],
    [file, /--out .*afile: .*afile is not a folder/],
  ]) {
    const r = run('train', ...base, '--out', out);
    fails(r, 2, re);
    assert.is(r.out, '', 'nothing read or trained');
  }
});

test('an invalid Trainer option names the flag and exits 2', () => {
  fails(run('train', ...base, '--out', model, '--epochs', '200000'), 2, /^fused-multilabel: train: Expected an integer in \[1, 100000\] for --epochs but received number 200000$/);
});

test('train: dropped rows and the real split proportions are reported; report.html is written', () => {
  const r = run('train', ...base, '--out', model);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /--data .*tickets\.csv: dropped 1 row with an empty text \(line 11\)/);
  assert.match(r.out, /iterative stratified split aiming at 60\/20\/20; got \d+\/\d+\/\d+\)/);
  const html = readFileSync(join(model, 'report.html'), 'utf8');
  assert.is((html.match(/<svg /g) ?? []).length, 7);
  assert.match(html, /tickets\.csv/);
});

test('report --model DIR redraws report.html from the saved files; --data re-evaluates; --out elsewhere', () => {
  rmSync(join(model, 'report.html'));
  const r = run('report', '--model', model);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /report written to .*report\.html/);
  assert.match(readFileSync(join(model, 'report.html'), 'utf8'), /id="sweep"/);
  const out = join(scratch, 'again.html');
  const r2 = run('report', '--model', model, '--data', data, '--out', out);
  assert.is(r2.code, 0, r2.err);
  assert.match(readFileSync(out, 'utf8'), /evaluated on/);
  fails(run('report', '--model', model, '--out', join(scratch, 'no', 'such', 'r.html')), 2, /--out .*: the folder .* does not exist/);
});

test('re-training into a model directory keeps the files the package did not write', () => {
  writeFileSync(join(model, 'NOTES.md'), 'my notes\n');
  mkdirSync(join(model, 'eval-results'));
  writeFileSync(join(model, 'eval-results', 'run1.json'), '{"f1":0.5}\n');
  const before = readFileSync(join(model, 'training.json'), 'utf8');
  const r = run('train', ...base, '--out', model, '--seed', '7');
  assert.is(r.code, 0, r.err);
  assert.is(readFileSync(join(model, 'NOTES.md'), 'utf8'), 'my notes\n');
  assert.is(readFileSync(join(model, 'eval-results', 'run1.json'), 'utf8'), '{"f1":0.5}\n');
  assert.is.not(readFileSync(join(model, 'training.json'), 'utf8'), before, 'the package files were replaced');
});

test('predict with a FIFO as model.safetensors fails at once (no hang)', () => {
  const copy = join(scratch, 'fifo-model');
  cpSync(model, copy, { recursive: true });
  // the default model is the ensemble: its n-gram member's weights (a single model's at the top)
  const weights = existsSync(join(copy, 'model.safetensors')) ? join(copy, 'model.safetensors') : join(copy, 'members', 'ngram', 'model.safetensors');
  rmSync(weights);
  execFileSync('mkfifo', [weights]);
  const r = run('predict', '--model', copy, '--text', 'hello');
  assert.is(r.signal, null, 'not killed by the timeout');
  fails(r, 1, /model\.safetensors: weights file is a FIFO \(named pipe\), not a regular file/);
});

test('bad data: duplicate columns, invalid UTF-8 with --encoding latin1, binary bytes stay printable', () => {
  const dup = join(scratch, 'dup.csv');
  writeFileSync(dup, 'text,labels,text\na,b,c\n');
  fails(run('train', '--data', dup, '--out', join(scratch, 'm2')), 1, /duplicate column name "text" \(columns 1 and 3\)/);
  const lat = join(scratch, 'lat.csv');
  writeFileSync(lat, Buffer.concat([Buffer.from('text,labels\n'), Buffer.from([0x62, 0xe9]), Buffer.from(',x\n')]));
  fails(run('evaluate', '--model', model, '--data', lat), 1, /line 2: not valid UTF-8.*--encoding latin1/);
  const bin = join(scratch, 'bin.csv');
  writeFileSync(bin, Buffer.from([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x00, 0x07, 0x2c, 0x0a, 0x01, 0x02, 0x0a]));
  const r = run('train', '--data', bin, '--out', join(scratch, 'm3'));
  assert.is(r.code, 1, r.err);
  assert.not.match(r.err, /[\u0000-\u0009\u000b-\u001f\u007f]/, `printable: ${JSON.stringify(r.err)}`);
  assert.match(r.err, /\\x1b\[31m\\x00\\x07/);
});

test.run();
