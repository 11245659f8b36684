// evaluate() against scikit-learn fixtures (test/fixtures/gen_metrics.py), masking, groups and argument errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { evaluate } from '../../dist/index.js';
import { assertClose, assertThrowsCode } from '../helpers/assert.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/metrics.json', import.meta.url), 'utf8'));
const tol = { atol: 1e-9, rtol: 1e-9 };

function close(a, b, label) {
  assertClose(a, b, { ...tol, label });
}

for (const c of fx.cases) {
  test(`matches scikit-learn: ${c.name}`, () => {
    const targets = Int8Array.from(c.targets);
    const scores = Float32Array.from(c.scores);
    const threshold = typeof c.threshold === 'number' ? c.threshold : Float32Array.from(c.threshold);
    const r = evaluate(targets, scores, { shape: c.shape, threshold });
    const e = c.expected;
    for (const avg of ['micro', 'macro', 'weighted', 'samples'])
      for (const m of ['precision', 'recall', 'f1']) close(r[avg][m], e[avg][m], `${avg} ${m}`);
    close(r.hammingLoss, e.hammingLoss, 'hammingLoss');
    close(r.subsetAccuracy, e.subsetAccuracy, 'subsetAccuracy');
    close(r.rocAuc.micro, e.rocAuc.micro, 'rocAuc.micro');
    close(r.rocAuc.macro, e.rocAuc.macro, 'rocAuc.macro');
    assert.is(r.rocAuc.skippedLabels, e.rocAuc.skippedLabels, 'skippedLabels');
    close(r.labelRankingAveragePrecision, e.labelRankingAveragePrecision, 'LRAP');
    close(r.coverageError, e.coverageError, 'coverageError');
    assert.is(r.labelsWithPositiveF1, e.labelsWithPositiveF1);
    e.perLabel.forEach((p, j) => {
      for (const m of ['precision', 'recall', 'f1']) close(r.perLabel[j][m], p[m], `label ${j} ${m}`);
      assert.is(r.perLabel[j].support, p.support, `label ${j} support`);
      if (p.rocAuc === null) assert.is(r.perLabel[j].rocAuc, null);
      else close(r.perLabel[j].rocAuc, p.rocAuc, `label ${j} auc`);
    });
  });
}

test('the same figures from Uint8Array and Float32Array targets and Float64Array scores', () => {
  const c = fx.cases[0];
  const a = evaluate(Int8Array.from(c.targets), Float32Array.from(c.scores), { shape: c.shape });
  const b = evaluate(Uint8Array.from(c.targets), Float64Array.from(Float32Array.from(c.scores)), { shape: c.shape });
  const d = evaluate(Float32Array.from(c.targets), Float32Array.from(c.scores), { shape: c.shape });
  assert.equal(b.micro, a.micro);
  assert.equal(d.rocAuc, a.rocAuc);
  close(d.labelRankingAveragePrecision, a.labelRankingAveragePrecision, 'lrap');
});

test('ranking figures are invariant under a monotone map to negative scores (logits); -0 ties +0', () => {
  const c = fx.cases[1];
  const y = Int8Array.from(c.targets);
  const s = Float32Array.from(c.scores);
  const logits = s.map((v) => 10 * v - 5);
  const a = evaluate(y, s, { shape: c.shape });
  const b = evaluate(y, logits, { shape: c.shape, threshold: 0 });
  close(b.rocAuc.micro, a.rocAuc.micro, 'micro auc');
  close(b.rocAuc.macro, a.rocAuc.macro, 'macro auc');
  close(b.labelRankingAveragePrecision, a.labelRankingAveragePrecision, 'lrap');
  close(b.coverageError, a.coverageError, 'coverage');
  const z = evaluate(Int8Array.from([1, 0, 0, 1]), Float32Array.from([-0, -Infinity, 0, Infinity]), { shape: [2, 2] });
  close(z.perLabel[0].rocAuc, 0.5, 'tie of -0 and +0');
  close(z.perLabel[1].rocAuc, 1, 'infinities');
});

test('a fully masked matrix leaves every figure at 0 / NaN without throwing', () => {
  const r = evaluate(new Int8Array(6).fill(-1), new Float32Array(6), { shape: [2, 3] });
  assert.is(r.counts.knownElements, 0);
  assert.is(r.counts.rowsWithKnownLabels, 0);
  assert.is(r.micro.f1, 0);
  assert.ok(Number.isNaN(r.rocAuc.micro));
  assert.is(r.rocAuc.skippedLabels, 3);
});

test('a masked element changes nothing but the counts', () => {
  // Row 0 label 1 is a false positive; masking it removes that FP only.
  const y = Int8Array.from([1, 0, 0, 1]);
  const s = Float32Array.from([0.9, 0.8, 0.1, 0.7]);
  const full = evaluate(y, s, { shape: [2, 2] });
  const masked = evaluate(Int8Array.from([1, -1, 0, 1]), s, { shape: [2, 2] });
  close(full.micro.precision, 2 / 3, 'full precision');
  close(masked.micro.precision, 1, 'masked precision');
  close(masked.hammingLoss, 0, 'masked hamming');
  assert.is(masked.counts.unknownElements, 1);
});

test('labelSet names, trainCounts and HEAD/MEDIUM/TAIL/ZERO groups', () => {
  const n = 50;
  const k = 4;
  const y = new Int8Array(n * k);
  const s = new Float32Array(n * k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      const pos = (i + j) % 3 === 0 ? 1 : 0;
      y[i * k + j] = pos;
      s[i * k + j] = j === 3 ? 0.1 : pos ? 0.8 : 0.2; // label d is never predicted
    }
  const r = evaluate(y, s, {
    shape: [n, k],
    labelSet: ['a', 'b', 'c', 'd'],
    trainCounts: [500, 60, 20, 2],
    groups: { zeroBelow: 5, tailBelow: 50, mediumBelow: 100 },
  });
  assert.equal(r.groups.head.labels, ['a']);
  assert.equal(r.groups.medium.labels, ['b']);
  assert.equal(r.groups.tail.labels, ['c']);
  assert.equal(r.groups.zero.labels, ['d']);
  close(r.groups.head.micro.f1, 1, 'head f1');
  close(r.groups.zero.micro.f1, 0, 'zero f1');
  assert.is(r.groups.zero.meanSupport, r.perLabel[3].support);
  assert.is(r.perLabel[2].label, 'c');
  assert.is(r.perLabel[2].trainCount, 20);
  assert.is(r.labelsWithPositiveF1, 3);
  // default boundaries are quantiles of the non-ZERO counts and are reported
  const d = evaluate(y, s, { shape: [n, k], trainCounts: Int32Array.from([500, 60, 20, 2]) });
  assert.is(d.groups.boundaries.zeroBelow, 5);
  assert.equal(d.groups.zero.labels, ['3']);
  assert.is(d.groups.head.labels.length + d.groups.medium.labels.length + d.groups.tail.labels.length, 3);
});

test('argument errors name the argument and what was received', () => {
  const y = new Int8Array(6);
  const s = new Float32Array(6);
  assertThrowsCode(() => evaluate(y, s, { shape: [2, 2] }), 'ERR_INVALID_ARG', RangeError, /targets of length N\*K = 2\*2 = 4/);
  assertThrowsCode(() => evaluate([0, 1], s, { shape: [2, 3] }), 'ERR_INVALID_ARG', TypeError, /Int8Array/);
  assertThrowsCode(() => evaluate(y, new Int32Array(6), { shape: [2, 3] }), 'ERR_INVALID_ARG', TypeError, /Float32Array/);
  assertThrowsCode(() => evaluate(Int8Array.from([0, 2, 0, 0, 0, 0]), s, { shape: [2, 3] }), 'ERR_INVALID_ARG', RangeError, /element 1/);
  assertThrowsCode(() => evaluate(y, Float32Array.from([0, NaN, 0, 0, 0, 0]), { shape: [2, 3] }), 'ERR_INVALID_ARG', RangeError, /NaN/);
  assertThrowsCode(() => evaluate(y, s, { shape: [2, 3], treshold: 0.4 }), 'ERR_INVALID_ARG', TypeError, /did you mean "threshold"/);
  assertThrowsCode(() => evaluate(y, s, { shape: [2, 3], threshold: new Float32Array(2) }), 'ERR_INVALID_ARG', RangeError, /K = 3/);
  assertThrowsCode(() => evaluate(y, s, { shape: [2, 3], labelSet: ['a'] }), 'ERR_INVALID_ARG', RangeError, /labelSet/);
  assertThrowsCode(() => evaluate(y, s, { shape: [2, 3], groups: {} }), 'ERR_INVALID_ARG', TypeError, /trainCounts/);
  assertThrowsCode(() => evaluate(y, s, {}), 'ERR_INVALID_ARG', TypeError, /shape/);
  assertThrowsCode(() => evaluate(Float32Array.from([0, 1, 0.5, 0, 0, 0]), s, { shape: [2, 3] }), 'ERR_INVALID_ARG', RangeError, /element 2 \(row 0, label 2\) is 0.5/);
  assertThrowsCode(() => evaluate(Int8Array.from([1, 0, 0, 0, 0, 0]), Float32Array.from([NaN, 0, 0, 0, 0, 0]), { shape: [2, 3] }), 'ERR_INVALID_ARG', RangeError, /element 0 .* is NaN/);
  // scores under unknown targets are never read
  assert.is(evaluate(Int8Array.from([-1, 0, 0, 0, 0, 0]), Float32Array.from([NaN, 0, 0, 0, 0, 0]), { shape: [2, 3] }).counts.unknownElements, 1);
});

test.run();
