// CUDA twin vs the CPU twin (skipped without a GPU; fails under REQUIRE_CUDA=1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bceWithLogits, bceWithLogitsAsync, Tensor } from '../../dist/index.js';
import { assertClose, assertThrowsCode } from '../helpers/assert.js';
import { cudaTest } from '../helpers/cuda.js';
import { caseArgs, inputs, loadFixture, maskOf, weights } from './inputs.js';

const close = { atol: 2e-6, rtol: 2e-5 };

cudaTest(test, 'CUDA matches the CPU twin on every fixture case (float32 logits)', () => {
  for (const c of loadFixture().cases) {
    const { x, targets, opts } = caseArgs(c);
    const { shape, ...rest } = opts;
    const lt = Tensor.from(x, shape, { device: 'cuda' });
    const tt = Tensor.from(targets, shape, { device: 'cuda' });
    for (const reduction of ['mean', 'sum', 'none']) {
      const cpu = bceWithLogits(x, targets, { ...opts, reduction });
      const gpu = bceWithLogits(lt, tt, { ...rest, reduction });
      assert.is(gpu.count, cpu.count, `${c.name} count`);
      if (reduction === 'none') assertClose(gpu.loss, cpu.loss, { ...close, label: `${c.name} loss` });
      else assertClose(gpu.loss, cpu.loss, { atol: 1e-6, rtol: 1e-5, label: `${c.name} ${reduction}` });
      assert.instance(gpu.grad, Tensor);
      assert.is(gpu.grad.device, 'cuda');
      assertClose(gpu.grad.toArray(), cpu.grad, { ...close, label: `${c.name} grad` });
      gpu.grad.dispose();
    }
    lt.dispose();
    tt.dispose();
  }
});

cudaTest(test, 'CUDA: float16/bfloat16 logits (fp32 math, one rounding at the store)', () => {
  const N = 300;
  const K = 77;
  const { x, y } = inputs(N, K, true);
  for (const dtype of ['float16', 'bfloat16']) {
    const lt = Tensor.from(x, [N, K], { device: 'cuda', dtype });
    const xr = lt.toArray();  // the rounded logits
    const cpu = bceWithLogits(xr, y, { shape: [N, K], reduction: 'sum' });
    const gpu = bceWithLogits(lt, Tensor.from(Int8Array.from(y), [N, K], { device: 'cuda' }), { reduction: 'sum' });
    assert.is(gpu.grad.dtype, dtype);
    assertClose(gpu.loss, cpu.loss, { atol: 1e-4, rtol: 1e-5 });
    const rel = dtype === 'float16' ? 2 ** -10 : 2 ** -7;
    assertClose(gpu.grad.toArray(), cpu.grad, { atol: 1e-6, rtol: rel });
  }
});

cudaTest(test, 'CUDA: masking, bad targets, gradOut untouched, async, inPlace', async () => {
  const N = 64;
  const K = 33;
  const { x, y } = inputs(N, K, true);
  const mask = maskOf(N * K);
  const lt = Tensor.from(x, [N, K], { device: 'cuda' });
  const yt = Tensor.from(y, [N, K], { device: 'cuda' });
  const cpu = bceWithLogits(x, y, { shape: [N, K], mask, posWeight: weights(K, 6) });
  const gpu = await bceWithLogitsAsync(lt, yt, { mask, posWeight: weights(K, 6) });
  assertClose(gpu.loss, cpu.loss, { atol: 1e-6, rtol: 1e-5 });
  assert.is(gpu.count, cpu.count);
  const yb = y.slice();
  yb[100] = 3;
  const ybt = Tensor.from(yb, [N, K], { device: 'cuda' });
  const out = Tensor.from(new Float32Array(N * K).fill(7), [N, K], { device: 'cuda' });
  assertThrowsCode(() => bceWithLogits(lt, ybt, { gradOut: out }), 'ERR_INVALID_ARG', RangeError, /targets/);
  assert.ok(out.toArray().every((v) => v === 7));
  assertThrowsCode(() => bceWithLogits(lt, ybt), 'ERR_INVALID_ARG', RangeError, /targets/);
  const ip = bceWithLogits(lt, yt, { inPlace: true, mask, posWeight: weights(K, 6) });
  assert.ok(ip.grad === lt);
  assertClose(lt.toArray(), cpu.grad, close);
});

test.run();
