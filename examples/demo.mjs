#!/usr/bin/env node
/*
 * `npm run demo`: trains the tiny model on the bundled support tickets (examples/tickets.csv) on the
 * CPU with the distribution-balanced loss and per-label tuned thresholds, prints the evaluation, saves
 * the model to models/demo and predicts three new tickets with it. About two minutes on two cores.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'models', 'demo');
const args = [
  join(root, 'dist', 'cli.js'), 'train',
  '--data', join(root, 'examples', 'tickets.csv'),
  '--partial',
  '--out', out,
  '--model', 'tiny',
  '--loss', 'db',
  '--epochs', '10',
  '--batch-size', '8',
  '--lr', '2e-3',
  '--threshold-objective', 'macro-f1',
  '--device', 'cpu',
  '--seed', '42',
];
console.log(`$ fused-multilabel ${args.slice(1).map((a) => (a.startsWith(root) ? a.slice(root.length + 1) : a)).join(' ')}\n`);
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

const { Classifier } = await import('../dist/index.js');
const clf = await Classifier.load(out, { device: 'cpu' });
const texts = [
  'Hello, I was charged twice on my card this month, please refund the duplicate payment.',
  'I cannot sign in since yesterday and the reset link never arrives.',
  'The android app crashes on launch and the csv export is empty.',
];
console.log('\nPredictions of the saved model (tuned thresholds):');
for (const [i, p] of (await clf.predict(texts, { topK: 4 })).entries()) {
  const top = Object.entries(p.scores)
    .map(([l, s]) => `${l} ${s.toFixed(2)}`)
    .join(', ');
  console.log(`\n  "${texts[i]}"\n    labels: ${p.labels.join(', ') || '(none)'}\n    top scores: ${top}`);
}
clf.dispose();
