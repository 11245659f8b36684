// iterativeStratifiedSplit(): coverage of rare labels, proportions, determinism, partition, errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { iterativeStratifiedSplit, splitDataset } from '../../dist/index.js';
import { assertThrowsCode } from '../helpers/assert.js';
import { mulberry32 } from '../../dist/random.js';


/** n rows, L labels, each label on between 5 and 40 random rows (most of them rare), some rows unlabeled. */
function rareData(seed, n = 2000, L = 300) {
  const R = mulberry32(seed);
  const rows = Array.from({ length: n }, (_, i) => ({ id: i, labels: [] }));
  for (let l = 0; l < L; l++) {
    const c = 5 + Math.floor(R() ** 3 * 35);
    const set = new Set();
    while (set.size < c) set.add(Math.floor(R() * n));
    for (const i of set) rows[i].labels.push(`L${l}`);
  }
  return rows;
}

test('60/20/20 on rare-label data: every label with >= 5 rows is in every split (several seeds)', () => {
  for (let seed = 1; seed <= 8; seed++) {
    const rows = rareData(seed);
    const r = iterativeStratifiedSplit(rows, { test: 0.2, val: 0.2, seed });
    assert.is(r.coverage.labels, 300);
    for (const part of ['train', 'val', 'test']) {
      assert.equal(r.coverage[part].missing, [], `seed ${seed} ${part} misses ${r.coverage[part].missing.join(',')}`);
      assert.is(r.coverage[part].present, 300);
    }
    assert.ok(Math.abs(r.train.length - 1200) <= 20, `train size ${r.train.length}`);
    assert.ok(Math.abs(r.val.length - 400) <= 20, `val size ${r.val.length}`);
    assert.ok(Math.abs(r.test.length - 400) <= 20, `test size ${r.test.length}`);
  }
});

test('the splits partition the rows; indices and rows agree; frequent labels are spread by proportion', () => {
  const R = mulberry32(11);
  const rows = Array.from({ length: 3000 }, (_, i) => {
    const labels = [];
    if (R() < 0.5) labels.push('common');
    if (R() < 0.1) labels.push('mid');
    if (R() < 0.02) labels.push('rare');
    return { id: i, labels };
  });
  const r = iterativeStratifiedSplit(rows, { seed: 5, test: 0.25, val: 0.15 });
  const seen = new Set();
  for (const part of ['train', 'val', 'test']) {
    r[part].forEach((row, p) => {
      assert.is(row, rows[r.indices[part][p]]);
      assert.not.ok(seen.has(row.id), 'row in two splits');
      seen.add(row.id);
    });
  }
  assert.is(seen.size, 3000);
  for (const label of ['common', 'mid', 'rare']) {
    const total = rows.filter((x) => x.labels.includes(label)).length;
    const inTest = r.test.filter((x) => x.labels.includes(label)).length;
    const inVal = r.val.filter((x) => x.labels.includes(label)).length;
    assert.ok(Math.abs(inTest - total * 0.25) <= 1, `${label}: ${inTest} of ${total} in test`);
    assert.ok(Math.abs(inVal - total * 0.15) <= 1, `${label}: ${inVal} of ${total} in val`);
  }
});

test('deterministic for a seed, different for another; val = 0 gives an empty validation split', () => {
  const rows = rareData(3, 500, 40);
  const a = iterativeStratifiedSplit(rows, { seed: 42 });
  const b = iterativeStratifiedSplit(rows, { seed: 42 });
  const c = iterativeStratifiedSplit(rows, { seed: 43 });
  assert.equal(Array.from(a.indices.test), Array.from(b.indices.test));
  assert.equal(Array.from(a.indices.val), Array.from(b.indices.val));
  assert.not.equal(Array.from(a.indices.test), Array.from(c.indices.test));
  const d = iterativeStratifiedSplit(rows, { seed: 1, val: 0, test: 0.3 });
  assert.is(d.val.length, 0);
  assert.equal(d.coverage.test.missing, []);
  assert.ok(Math.abs(d.test.length - 150) <= 5, `test ${d.test.length}`);
});

test('unlabeled rows go by remaining demand; an empty input gives empty splits', () => {
  const rows = Array.from({ length: 100 }, () => ({ labels: [] }));
  const r = iterativeStratifiedSplit(rows, { seed: 1 });
  assert.equal([r.train.length, r.val.length, r.test.length], [60, 20, 20]);
  const e = iterativeStratifiedSplit([], {});
  assert.equal([e.train.length, e.val.length, e.test.length, e.coverage.labels], [0, 0, 0, 0]);
});

test('argument errors', () => {
  assertThrowsCode(() => iterativeStratifiedSplit('rows'), 'ERR_INVALID_ARG', TypeError, /rows/);
  assertThrowsCode(() => iterativeStratifiedSplit([{ labels: 'a,b' }]), 'ERR_INVALID_ARG', TypeError, /rows\[0\]/);
  assertThrowsCode(() => iterativeStratifiedSplit([], { test: 0.6, val: 0.5 }), 'ERR_INVALID_ARG', RangeError, /test \+ options.val/);
  assertThrowsCode(() => iterativeStratifiedSplit([], { tset: 0.1 }), 'ERR_INVALID_ARG', TypeError, /did you mean "test"/);
  assertThrowsCode(() => iterativeStratifiedSplit([], { seed: 1.5 }), 'ERR_INVALID_ARG', RangeError, /seed/);
});

test('splitDataset: the CLI split as datasets sharing one label set, with coverage', () => {
  const rows = rareData(3, 500, 40);
  const d = splitDataset({ rows, labelSet: ['z-extra', ...new Set(rows.flatMap((r) => r.labels))] }, { seed: 42 });
  const s = iterativeStratifiedSplit(rows, { seed: 42, val: 0.2, test: 0.2 });
  assert.equal(Array.from(d.indices.test), Array.from(s.indices.test), 'the same split as iterativeStratifiedSplit 60/20/20');
  assert.equal(d.coverage, s.coverage);
  assert.is(d.labelSet[0], 'z-extra', "the dataset's label order is kept");
  for (const part of ['train', 'val', 'test']) assert.is(d[part].labelSet, d.labelSet);
  assert.is(d.train.rows.length + d.val.rows.length + d.test.rows.length, rows.length);
  // plain rows: the labels of the rows (negatives included), sorted
  const p = splitDataset([{ labels: ['b'], negatives: ['c'] }, { labels: ['a'] }], { ratios: [0.5, 0.5, 0] });
  assert.equal(p.labelSet, ['a', 'b', 'c']);
  assert.is(p.test.rows.length, 0);
  assertThrowsCode(() => splitDataset('rows'), 'ERR_INVALID_ARG', TypeError, /data/);
  assertThrowsCode(() => splitDataset(rows, { ratios: [0.5, 0.2, 0.2] }), 'ERR_INVALID_ARG', RangeError, /sum to 1/);
  assertThrowsCode(() => splitDataset(rows, { ratios: [0.5, 0.5] }), 'ERR_INVALID_ARG', TypeError, /options\.ratios/);
  assertThrowsCode(() => splitDataset(rows, { ratio: [0.5, 0.5, 0] }), 'ERR_INVALID_ARG', TypeError, /did you mean "ratios"/);
});

test.run();
