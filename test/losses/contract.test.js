// The loss contract (lib/loss_contract.ts): TypeScript fills every field of the native struct, the addon
// (native/addon/loss_args.cpp) requires exactly those fields and keeps no defaults, the variant and
// reduction travel by name, and the presets and the option defaults come from LOSS_DEFAULTS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bceWithLogits } from '../../dist/index.js';
import { loadBinding } from '../../dist/binding.js';
import { normalizeLossOptions } from '../../dist/losses.js';
import { inertLossArgs, LOSS_DEFAULTS, LOSS_VARIANTS, presetLossOptions } from '../../dist/loss_contract.js';
import { assertThrowsCode } from '../helpers/assert.js';

const N = 3, K = 4;
const X = Float32Array.from({ length: N * K }, (_, i) => (i % 7) - 3.2);
const Y = Float32Array.from({ length: N * K }, (_, i) => (i % 3 === 0 ? 1 : 0));
const counts = new Float32Array([5, 0, 12, 40]);
const FIELDS = Object.keys(inertLossArgs()).sort();
const every = {
  bce: {},
  focal: { focal: { gamma: 1.5, alpha: 0.3 } },
  asymmetric: { asymmetric: {} },
  distributionBalanced: { distributionBalanced: { classCounts: counts, trainSize: 100 } },
};

test('normalizeLossOptions fills every field of the struct, for every variant and targets kind', () => {
  assert.equal(Object.keys(every), [...LOSS_VARIANTS]);
  for (const [variant, opts] of Object.entries(every))
    for (const kind of ['float32', 'int8', 'uint8']) {
      const s = normalizeLossOptions(opts, N, K, kind);
      assert.equal(Object.keys(s).sort(), FIELDS, `${variant} ${kind}`);
      assert.is(s.variant, variant);
      for (const f of FIELDS) assert.ok(s[f] !== undefined, `${variant}: ${f} is undefined`);
      assert.is(s.ignoreValue, kind === 'int8' ? LOSS_DEFAULTS.int8IgnoreValue : null);
    }
});

test('omitted options take LOSS_DEFAULTS', () => {
  const a = normalizeLossOptions(every.asymmetric, N, K, 'float32');
  assert.equal([a.gammaPos, a.gammaNeg, a.clip], Object.values(LOSS_DEFAULTS.asymmetric));
  const d = normalizeLossOptions(every.distributionBalanced, N, K, 'float32');
  const db = LOSS_DEFAULTS.distributionBalanced;
  assert.equal([d.negScale, d.initBias, d.rebalance, d.rbAlpha, d.rbBeta, d.rbMu, d.dbFocal, d.gamma, d.alpha],
    [db.negScale, db.initBias, true, db.rebalance.alpha, db.rebalance.beta, db.rebalance.mu, true, db.focal.gamma, db.focal.alpha]);
  // the same loss whether the defaults are omitted or written out
  const explicit = bceWithLogits(X, Y, { shape: [N, K], distributionBalanced: { classCounts: counts, trainSize: 100, ...db } });
  const implicit = bceWithLogits(X, Y, { shape: [N, K], ...every.distributionBalanced });
  assert.is(implicit.loss, explicit.loss);
  assert.equal(Array.from(implicit.grad), Array.from(explicit.grad));
});

test('presets are built from LOSS_DEFAULTS', () => {
  assert.equal(presetLossOptions('bce', counts, 100), {});
  assert.equal(presetLossOptions('focal', counts, 100), { focal: { gamma: LOSS_DEFAULTS.focal.gamma } });
  assert.equal(presetLossOptions('asl', counts, 100), { asymmetric: { ...LOSS_DEFAULTS.asymmetric } });
  const db = presetLossOptions('db', counts, 100).distributionBalanced;
  assert.equal(Array.from(db.classCounts), [5, 1, 12, 40]);  // a label without positives counts 1
  assert.equal({ ...db, classCounts: undefined }, { ...LOSS_DEFAULTS.distributionBalanced, classCounts: undefined, trainSize: 100 });
});

test('the addon requires every field, rejects others, and names the variant', () => {
  const b = loadBinding();
  const base = inertLossArgs();
  const plain = b.bceWithLogits(X, Y, N, K, base, { grad: false, inPlace: false });
  assert.is(plain.loss, bceWithLogits(X, Y, { shape: [N, K], grad: false }).loss);
  for (const f of FIELDS) {
    const s = { ...base };
    delete s[f];
    assertThrowsCode(() => b.bceWithLogits(X, Y, N, K, s, {}), 'ERR_INVALID_ARG', TypeError, new RegExp(`field ${f}\\b`));
  }
  assertThrowsCode(() => b.bceWithLogits(X, Y, N, K, { ...base, gammaNegative: 4 }, {}), 'ERR_INVALID_ARG', TypeError, /gammaNegative/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, N, K, { ...base, variant: 'asl' }, {}), 'ERR_INVALID_ARG', TypeError, /'bce' \| 'focal' \| 'asymmetric' \| 'distributionBalanced'.*'asl'/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, N, K, { ...base, reduction: 'avg' }, {}), 'ERR_INVALID_ARG', TypeError, /reduction/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, N, K, { ...base, rebalance: 1 }, {}), 'ERR_INVALID_ARG', TypeError, /rebalance/);
  assertThrowsCode(() => b.bceWithLogits(X, Y, N, K, { ...base, variant: 'distributionBalanced', trainSize: 100 }, {}), 'ERR_INVALID_ARG', TypeError, /classCounts/);
});

test.run();
