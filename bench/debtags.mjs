// Builds a real many-label data set from the Debian package index this machine already holds: each package's
// one-line description is the text, its Debtags (`Tag:` field, e.g. "implemented-in::c, role::program") are
// the labels. On Debian 12 (bookworm): 30,303 tagged packages, 28,818 distinct descriptions, 598 tags, most
// with under 50 rows: the shape of the hidden acceptance data of issue 13. Nothing is downloaded and nothing
// is committed: it reads the apt lists (decompressed by `apt-helper cat-file`, which every Debian has) and
// writes train/validation/test.jsonl into OUT_DIR (created; those three files are replaced).
//   node bench/debtags.mjs --out=OUT_DIR [--lists=/var/lib/apt/lists] [--seed=1] [--names=0]
// Rows with a description already seen are dropped (the first package by name keeps it); the rest are shuffled
// (seeded) and split 80 / 10 / 10. --names=1 puts the package name before its description.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([a-z]+)=(.*)$/.exec(a);
  if (!m) throw new RangeError(`Expected --out=DIR | --lists=DIR | --seed=N | --names=0|1 but received ${JSON.stringify(a)}`);
  return [m[1], m[2]];
}));
if (!args.out) throw new TypeError('Expected --out=DIR (where train/validation/test.jsonl go) but received none');
const seed = Number(args.seed ?? 1);
if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 31) throw new RangeError(`Expected --seed=N, an integer in [0, 2^31) but received ${JSON.stringify(args.seed)}`);
if (!['0', '1', undefined].includes(args.names)) throw new RangeError(`Expected --names=0 or --names=1 but received ${JSON.stringify(args.names)}`);
const lists = resolve(args.lists ?? '/var/lib/apt/lists');
const helper = '/usr/lib/apt/apt-helper';
const files = existsSync(lists) ? readdirSync(lists).filter((f) => /_binary-[a-z0-9]+_Packages(\.(lz4|gz|xz|bz2|zst))?$/.test(f)).sort() : [];
if (files.length === 0 || !existsSync(helper))
  throw new RangeError(`Expected a Debian apt index (…_Packages files under --lists=DIR and ${helper}) but found ${files.length} Packages files in ${lists}; run apt-get update first`);

// package name → { text, labels }; the first file listing a package wins (files in name order)
const packages = new Map();
for (const f of files) {
  const index = execFileSync(helper, ['cat-file', join(lists, f)], { maxBuffer: 1 << 30, encoding: 'utf8' });
  for (const stanza of index.split(/\n\n+/)) {
    const field = (name) => {
      const m = new RegExp(`^${name}: (.*(?:\\n[ \\t].*)*)`, 'm').exec(stanza);
      return m ? m[1].replace(/\n[ \t]+/g, ' ').trim() : undefined;
    };
    const name = field('Package'), text = field('Description'), tags = field('Tag');
    if (!name || !text || !tags || packages.has(name)) continue;
    packages.set(name, { text, labels: tags.split(',').map((t) => t.trim()).filter(Boolean) });
  }
}

const seen = new Set();
const rows = [];
for (const name of [...packages.keys()].sort()) {
  const { text, labels } = packages.get(name);
  if (seen.has(text)) continue;
  seen.add(text);
  rows.push({ id: name, text: args.names === '1' ? `${name}: ${text}` : text, labels });
}

// seeded Fisher–Yates (xorshift32)
let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
const next = () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 2 ** 32; };
for (let i = rows.length - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1));
  [rows[i], rows[j]] = [rows[j], rows[i]];
}
const a = Math.floor(rows.length * 0.8), b = Math.floor(rows.length * 0.9);
const splits = { train: rows.slice(0, a), validation: rows.slice(a, b), test: rows.slice(b) };

const out = resolve(args.out);
mkdirSync(out, { recursive: true });
for (const [name, part] of Object.entries(splits)) {
  const file = join(out, `${name}.jsonl`);
  writeFileSync(`${file}.tmp`, part.map((r) => JSON.stringify(r)).join('\n') + '\n');
  renameSync(`${file}.tmp`, file);
}
const counts = new Map();
for (const r of splits.train) for (const l of r.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
const all = new Set(rows.flatMap((r) => r.labels));
const under50 = [...all].filter((l) => (counts.get(l) ?? 0) < 50).length;
console.log(`${out}: ${rows.length} packages (${packages.size} tagged, duplicates of a description dropped), ${all.size} labels (${under50} with under 50 training rows), train ${a}, validation ${b - a}, test ${rows.length - b} rows`);
