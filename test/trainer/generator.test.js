// The bundled example data: examples/generate.mjs is deterministic and examples/tickets.csv is exactly
// what it writes; the file has the properties the README promises (long tail, co-occurrence, partial rows).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generate } from '../../examples/generate.mjs';
import { readDataset } from '../../dist/data.js';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');
const csv = join(root, 'examples', 'tickets.csv');

test('the generator script rewrites examples/tickets.csv byte for byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fml-gen-'));
  try {
    const out = join(dir, 'tickets.csv');
    const r = spawnSync(process.execPath, [join(root, 'examples', 'generate.mjs'), '--out', out], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const a = readFileSync(out);
    const b = readFileSync(csv);
    assert.ok(a.equals(b), 'examples/tickets.csv differs from what examples/generate.mjs writes: rerun `node examples/generate.mjs`');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('same seed gives the same data, another seed other data', () => {
  const a = generate({ rows: 300, seed: 5 });
  assert.is(generate({ rows: 300, seed: 5 }), a);
  assert.is.not(generate({ rows: 300, seed: 6 }), a);
});

test('the bundled data: 3,000 rows, long tail, several labels per row, ~12% partial rows', () => {
  const full = readDataset(csv);
  assert.is(full.rows.length, 3000);
  assert.ok(full.labelSet.length >= 20 && full.labelSet.length <= 30, `${full.labelSet.length} labels`);
  const counts = new Map(full.labelSet.map((l) => [l, 0]));
  let nLabels = 0;
  for (const r of full.rows) {
    nLabels += r.labels.length;
    for (const l of r.labels) counts.set(l, counts.get(l) + 1);
  }
  const sorted = [...counts.values()].sort((a, b) => b - a);
  assert.ok(sorted[0] > 500, `head label has ${sorted[0]} rows`);
  const rare = sorted.filter((c) => c < 10);
  assert.ok(rare.length >= 2, 'some labels have fewer than ten rows');
  assert.ok(rare.every((c) => c >= 5), 'every label has at least 5 rows so the 60/20/20 split can cover it');
  const mean = nLabels / full.rows.length;
  assert.ok(mean > 1.5 && mean < 2.5, `mean labels per row ${mean}`);

  const partial = readDataset(csv, { partial: true });
  const withNeg = partial.rows.filter((r) => r.negatives.length > 0).length;
  assert.ok(withNeg > 0.1 * 3000 && withNeg < 0.15 * 3000, `${withNeg} partially annotated rows`);
  // co-occurrence: refund rows carry billing far more often than billing's base rate
  const refund = full.rows.filter((r) => r.labels.includes('refund'));
  const both = refund.filter((r) => r.labels.includes('billing')).length / refund.length;
  const base = counts.get('billing') / full.rows.length;
  assert.ok(both > base + 0.15, `P(billing | refund) ${both.toFixed(2)} vs P(billing) ${base.toFixed(2)}`);
});

test.run();
