// PyTorch float64 references (test/fixtures/gen_losses.py): every option and combination at K = 1,
// N·K = 35 (not a multiple of any vector width), 3×300 and 257×129; reductions none, sum and mean.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bceWithLogits } from '../../dist/index.js';
import { assertClose } from '../helpers/assert.js';
import { caseArgs, hash32, loadFixture } from './inputs.js';

const fx = loadFixture();

test('the input hash matches the generator', () => {
  const got = [[0, 1], [1, 2], [12345, 7], [99999, 3]].map(([i, s]) => hash32(i, s));
  assert.equal(got, fx.hashCheck);
});

test('fixture covers every variant and shape', () => {
  const variants = new Set(fx.cases.map((c) => c.variant));
  assert.equal([...variants].sort(), ['asymmetric', 'bce', 'db', 'focal']);
  assert.ok(fx.cases.some((c) => c.K === 1));
  assert.ok(fx.cases.some((c) => c.N * c.K > 30000));
});

for (const c of fx.cases) {
  test(`${c.name} ${c.N}×${c.K}`, () => {
    const { x, targets, opts } = caseArgs(c);
    const none = bceWithLogits(x, targets, { ...opts, reduction: 'none' });
    assert.is(none.count, c.count, 'count');
    const idx = c.index ?? c.loss.map((_, i) => i);
    const tol = { atol: 1e-6, rtol: 2e-5 };
    assertClose(idx.map((i) => none.loss[i]), c.loss, { ...tol, label: 'loss' });
    assertClose(idx.map((i) => none.grad[i]), c.grad, { ...tol, label: 'grad' });
    const sum = bceWithLogits(x, targets, { ...opts, reduction: 'sum', grad: false });
    assertClose(sum.loss, c.sum, { atol: 1e-6 * c.N * c.K, rtol: 1e-5, label: 'sum' });
    assert.is(sum.grad, undefined);
    const mean = bceWithLogits(x, targets, opts);
    assertClose(mean.loss, c.count ? c.sum / c.count : 0, { atol: 1e-6, rtol: 1e-5, label: 'mean' });
    // the mean's gradient is the elementwise derivative divided by the count
    assertClose(idx.map((i) => mean.grad[i] * c.count), c.grad, { atol: 1e-6, rtol: 1e-4, label: 'mean grad' });
    if (c.gradSum !== undefined) {
      let gs = 0;
      let ga = 0;
      for (const g of none.grad) {
        gs += g;
        ga += Math.abs(g);
      }
      assertClose(gs, c.gradSum, { atol: 1e-6 * c.N * c.K, rtol: 1e-4, label: 'grad sum' });
      assertClose(ga, c.gradAbsSum, { atol: 1e-6 * c.N * c.K, rtol: 1e-5, label: 'grad |sum|' });
    }
  });
}

test.run();
