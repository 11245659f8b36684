// Builds the many-label development set from GoEmotions (the hidden acceptance data's shape: ~600
// long-tailed labels, most with under 50 training rows). Nothing is downloaded and nothing is committed:
// it writes train/validation/test.jsonl into OUT_DIR (created; existing files there are replaced).
//   node bench/many_labels.mjs [--data=GOEMOTIONS_DIR] --out=OUT_DIR [--from=300] [--count=570] [--keep=0.6] [--seed=1]
// Labels: the 28 emotions plus one "kw:WORD" label per word ranked FROM..FROM+COUNT-1 by the number of
// training rows holding it (words: lower-cased runs of a-z and apostrophes), set on each row holding the
// word with probability KEEP (seeded; the same draw for a given row and word on every split). Same rows and
// official split as GoEmotions. With the defaults: 598 labels, 216 of them with under 50 training rows.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([a-z]+)=(.*)$/.exec(a);
  if (!m) throw new RangeError(`Expected --data=DIR | --out=DIR | --from=N | --count=N | --keep=P | --seed=N but received ${JSON.stringify(a)}`);
  return [m[1], m[2]];
}));
const num = (k, d, lo, hi) => {
  const v = args[k] === undefined ? d : Number(args[k]);
  if (!Number.isFinite(v) || v < lo || v > hi) throw new RangeError(`Expected a number in [${lo}, ${hi}] for --${k} but received ${JSON.stringify(args[k])}`);
  return v;
};
if (!args.out) throw new TypeError('Expected --out=DIR (where the derived train/validation/test.jsonl go) but received none');
const src = resolve(args.data ?? process.env.FUSED_MULTILABEL_GOEMOTIONS ?? join(root, '../shared/data/goemotions'));
const out = resolve(args.out);
const from = num('from', 300, 0, 1e6), count = num('count', 570, 1, 1e6), keep = num('keep', 0.6, 0, 1), seed = num('seed', 1, 0, 2 ** 31);

if (!['train.jsonl', 'validation.jsonl', 'test.jsonl'].every((f) => existsSync(join(src, f))))
  throw new RangeError(`Expected --data=DIR (or $FUSED_MULTILABEL_GOEMOTIONS) holding GoEmotions' train/validation/test.jsonl but received ${src}`);
const read = (f) => readFileSync(join(src, f), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const words = (text) => new Set(text.toLowerCase().match(/[a-z']+/g) ?? []);
const splits = { train: read('train.jsonl'), validation: read('validation.jsonl'), test: read('test.jsonl') };

const df = new Map();
for (const r of splits.train) for (const w of words(r.text)) df.set(w, (df.get(w) ?? 0) + 1);
const ranked = [...df].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(from, from + count).map(([w]) => w);
const chosen = new Set(ranked);

// a hash of (seed, row id, word) in [0, 1): the same draw wherever the row appears
function draw(id, word) {
  let h = 2166136261 ^ seed;
  for (const ch of `${id}\u0000${word}`) h = Math.imul(h ^ ch.codePointAt(0), 16777619);
  h ^= h >>> 15; h = Math.imul(h, 0x2c1b3c6d); h ^= h >>> 12; h = Math.imul(h, 0x297a2d39); h ^= h >>> 15;
  return (h >>> 0) / 2 ** 32;
}

mkdirSync(out, { recursive: true });
const trainCounts = new Map();
for (const [name, rows] of Object.entries(splits)) {
  const lines = rows.map((r) => {
    const kw = [...words(r.text)].filter((w) => chosen.has(w) && draw(r.id, w) < keep).map((w) => `kw:${w}`);
    if (name === 'train') for (const l of [...r.labels, ...kw]) trainCounts.set(l, (trainCounts.get(l) ?? 0) + 1);
    return JSON.stringify({ id: r.id, text: r.text, labels: [...r.labels, ...kw] });
  });
  const file = join(out, `${name}.jsonl`);
  writeFileSync(`${file}.tmp`, lines.join('\n') + '\n');
  renameSync(`${file}.tmp`, file);
}
const under50 = [...trainCounts.values()].filter((c) => c < 50).length;
console.log(`${out}: ${trainCounts.size} labels with training rows (${under50} under 50), train ${splits.train.length}, validation ${splits.validation.length}, test ${splits.test.length} rows`);
