// Real-data quality: the default `train` recipe (no model or loss options) on GoEmotions' official split,
// and in the same run the classic TF-IDF + logistic-regression baseline (bench/tfidf_baseline.py, Debian's
// python3-sklearn; skipped with the reason when it is missing), both scored on the test split.
//   npm run bench -- quality [--data=DIR]   DIR holds train.jsonl, validation.jsonl, test.jsonl
// Default DIR: $FUSED_MULTILABEL_GOEMOTIONS, else ../shared/data/goemotions from the repository root.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Trainer, readDataset } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = process.argv.slice(2).find((a) => a.startsWith('--data='));
const dir = resolve(arg ? arg.slice('--data='.length) : process.env.FUSED_MULTILABEL_GOEMOTIONS ?? join(root, '../shared/data/goemotions'));
const files = ['train.jsonl', 'validation.jsonl', 'test.jsonl'].map((f) => join(dir, f));
if (!files.every(existsSync)) {
  console.log(`skipped: no GoEmotions split in ${dir} (give --data=DIR holding train.jsonl, validation.jsonl, test.jsonl)`);
  process.exit(0);
}
const [train, val, test] = files.map((f) => readDataset(f));
console.log(`data from ${dir}: train ${train.rows.length}, validation ${val.rows.length}, test ${test.rows.length} rows, ${train.labelSet.length} labels`);

const start = Date.now();
const trainer = new Trainer({});
// labels only the test file holds are kept (training count 0), as `train --test` does, so evaluate() knows them
const history = await trainer.fit(train, val, { labels: test.labelSet });
const seconds = (Date.now() - start) / 1000;
const rep = await trainer.evaluate(test);
const ours = { micro: rep.metrics.micro.f1, macro: rep.metrics.macro.f1 };
console.log(`default train (${trainer.options.modelAuto?.reason ?? JSON.stringify(trainer.options.model)}):`);
console.log(`  test micro-F1 ${ours.micro.toFixed(4)}  macro-F1 ${ours.macro.toFixed(4)}  training ${seconds.toFixed(1)} s  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
for (const m of history.members ?? [])
  console.log(`  member ${m.name}: weight ${m.weight}, best epoch ${m.bestEpoch} of ${m.epochs.length}, ${m.seconds.toFixed(1)} s, alone on validation micro-F1 ${m.validation?.microF1.toFixed(4)} macro-F1 ${m.validation?.macroF1.toFixed(4)}`);
trainer.dispose();

// Debian's interpreter first (python3-sklearn installs there), then the one on the PATH
let py;
const failures = [];
for (const exe of ['/usr/bin/python3', 'python3']) {
  py = spawnSync(exe, [join(root, 'bench/tfidf_baseline.py'), ...files], { encoding: 'utf8' });
  if (!py.error && py.status === 0) break;
  if (!py.error && !/No module named '(sklearn|numpy)'/.test(py.stderr)) failures.push(`${exe}: ${py.stderr.trim().split('\n').pop()}`);
}
if (py.error || py.status !== 0) {
  const why = failures.length > 0 ? failures.join('; ') : 'python3-sklearn is not installed (apt-get install -y python3-sklearn)';
  console.log(`TF-IDF + logistic regression baseline: skipped: ${why}`);
} else {
  const b = JSON.parse(py.stdout.trim().split('\n').pop());
  console.log(`TF-IDF word 1-2-grams + logistic regression (balanced, per-label thresholds on validation; scikit-learn ${b.sklearn}):`);
  console.log(`  test micro-F1 ${b.micro_f1.toFixed(4)}  macro-F1 ${b.macro_f1.toFixed(4)}  ${b.seconds.toFixed(1)} s`);
  console.log(`default train minus baseline: micro-F1 ${(ours.micro - b.micro_f1).toFixed(4)}, macro-F1 ${(ours.macro - b.macro_f1).toFixed(4)}`);
}
