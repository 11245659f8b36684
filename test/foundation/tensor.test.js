import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../dist/index.js';
import { assertClose, assertThrowsCode } from '../helpers/assert.js';
import { cudaTest } from '../helpers/cuda.js';

const floats = new Float32Array([0, 1, -1, 0.1, 3.14159, -2.5e-3, 65504, 1e-7, 123456.789, -0.33333334]);

test('float32 round-trips exactly on the CPU', () => {
  const t = Tensor.from(floats, [2, 5], { device: 'cpu' });
  assert.equal(t.shape, [2, 5]);
  assert.is(t.dtype, 'float32');
  assert.is(t.device, 'cpu');
  assert.is(t.size, 10);
  const back = t.toArray();
  assert.instance(back, Float32Array);
  assert.equal(Array.from(back), Array.from(floats));
  t.dispose();
});

test('float16 round-trips within its rounding (relative 2^-11), with overflow to Infinity', () => {
  const data = new Float32Array([...floats.slice(0, 8), 70000, -1e-8]);
  const t = Tensor.from(data, [10], { device: 'cpu', dtype: 'float16' });
  assert.is(t.dtype, 'float16');
  const back = t.toArray();
  assert.instance(back, Float32Array);
  for (let i = 0; i < 8; i++) {
    const x = data[i];
    const tol = Math.abs(x) >= 6.1e-5 ? Math.abs(x) * 2 ** -11 : 2 ** -25;  // normal vs subnormal spacing/2
    assert.ok(Math.abs(back[i] - x) <= tol, `fp16 ${x} -> ${back[i]}`);
  }
  assert.is(back[0], 0);
  assert.is(back[1], 1);
  assert.is(back[6], 65504, 'largest half is exact');
  assert.is(back[8], Infinity, '70000 overflows to +Inf');
  assert.ok(Object.is(back[9], -0), 'tiny negatives flush to -0');
  t.dispose();
});

test('float16 rounds ties to even and keeps subnormals', () => {
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even gives 1.
  const t = Tensor.from(new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 3 * 2 ** -25]), [4], {
    device: 'cpu',
    dtype: 'float16',
  });
  const b = t.toArray();
  assert.is(b[0], 1);
  assert.is(b[1], 1 + 2 ** -9);
  assert.is(b[2], 2 ** -24, 'smallest subnormal');
  assert.is(b[3], 2 ** -23, '1.5 ulp rounds to even (2 ulp)');
});

test('bfloat16 round-trips within its rounding (relative 2^-8) and keeps the fp32 range', () => {
  const data = new Float32Array([...floats, 3e38, -1e-30, NaN, -Infinity]);
  const t = Tensor.from(data, [14], { device: 'cpu', dtype: 'bfloat16' });
  const back = t.toArray();
  for (let i = 0; i < 12; i++) {
    assert.ok(Math.abs(back[i] - data[i]) <= Math.abs(data[i]) * 2 ** -8, `bf16 ${data[i]} -> ${back[i]}`);
  }
  assert.ok(Number.isNaN(back[12]));
  assert.is(back[13], -Infinity);
});

test('int8, uint8 and int32 round-trip exactly and come back as their own array types', () => {
  const i8 = new Int8Array([-128, -1, 0, 1, 127, -1]);
  const t8 = Tensor.from(i8, [3, 2], { device: 'cpu' });
  assert.is(t8.dtype, 'int8');
  assert.instance(t8.toArray(), Int8Array);
  assert.equal(Array.from(t8.toArray()), Array.from(i8));
  const u8 = Tensor.from(new Uint8Array([0, 255, 7]), [3], { device: 'cpu' });
  assert.equal(Array.from(u8.toArray()), [0, 255, 7]);
  const i32 = Tensor.from(new Int32Array([-(2 ** 31), 2 ** 31 - 1]), [2], { device: 'cpu' });
  assert.instance(i32.toArray(), Int32Array);
  assert.equal(Array.from(i32.toArray()), [-(2 ** 31), 2 ** 31 - 1]);
});

test('number arrays are accepted and converted to the dtype; empty shapes work', () => {
  const t = Tensor.from([1, 2, 3], [3], { device: 'cpu', dtype: 'int32' });
  assert.instance(t.toArray(), Int32Array);
  const e = Tensor.from(new Float32Array(0), [0, 4], { device: 'cpu' });
  assert.equal(e.shape, [0, 4]);
  assert.is(e.toArray().length, 0);
  const s = Tensor.from(new Float32Array([5]), [], { device: 'cpu' });
  assert.equal(s.shape, []);
  assertClose(s.toArray(), new Float32Array([5]));
});

test('dispose() frees the tensor; later use gives ERR_DISPOSED; dispose is idempotent; Symbol.dispose works', () => {
  const t = Tensor.from(new Float32Array(4), [4], { device: 'cpu' });
  t.dispose();
  t.dispose();
  assert.ok(t.disposed);
  assertThrowsCode(() => t.toArray(), 'ERR_DISPOSED', Error, /disposed/);
  assertThrowsCode(() => t.shape, 'ERR_DISPOSED');
  const u = Tensor.from(new Float32Array(4), [4], { device: 'cpu' });
  u[Symbol.dispose]();
  assert.ok(u.disposed);
});

test('bad arguments give TypeError/RangeError with ERR_INVALID_ARG naming the argument', () => {
  assertThrowsCode(() => Tensor.from(new Float64Array(4), [4]), 'ERR_INVALID_ARG', TypeError, /data.*Float64Array/);
  assertThrowsCode(() => Tensor.from(new Float32Array(4), [5], { device: 'cpu' }), 'ERR_INVALID_ARG', RangeError, /length 5.*received length 4/);
  assertThrowsCode(() => Tensor.from(new Float32Array(4), [-1, -4]), 'ERR_INVALID_ARG', RangeError, /shape\[0\]/);
  assertThrowsCode(() => Tensor.from(new Float32Array(4), [2.5, 2]), 'ERR_INVALID_ARG', RangeError, /shape\[0\]/);
  assertThrowsCode(() => Tensor.from(new Float32Array(4), '4'), 'ERR_INVALID_ARG', TypeError, /shape/);
  assertThrowsCode(() => Tensor.from(new Float32Array(4), [4], { dtype: 'float64' }), 'ERR_INVALID_ARG', TypeError, /dtype/);
  assertThrowsCode(() => Tensor.from(new Int8Array(4), [4], { dtype: 'float16' }), 'ERR_INVALID_ARG', TypeError, /Float32Array.*float16/);
  assertThrowsCode(() => Tensor.from(new Float32Array(4), [4], { device: 'tpu' }), 'ERR_INVALID_ARG', TypeError, /device/);
  assertThrowsCode(() => Tensor.from(new Float32Array(4), [4], { devise: 'cpu' }), 'ERR_INVALID_ARG', TypeError, /did you mean "device"/);
});

test('the raw native constructor checks its own arguments too', async () => {
  const { loadBinding } = await import('../../dist/binding.js');
  const { NativeTensor } = loadBinding();
  assertThrowsCode(() => new NativeTensor(new Float64Array(2), [2], 'float32', 'cpu'), 'ERR_INVALID_ARG', TypeError, /Float32Array/);
  assertThrowsCode(() => new NativeTensor(new Float32Array(2), [3], 'float32', 'cpu'), 'ERR_INVALID_ARG', RangeError, /length 3/);
  assertThrowsCode(() => new NativeTensor(new Float32Array(2), [-2], 'float32', 'cpu'), 'ERR_INVALID_ARG', RangeError, /shape/);
  assertThrowsCode(() => new NativeTensor(new Float32Array(2), [2], 'f32', 'cpu'), 'ERR_INVALID_ARG', TypeError, /dtype/);
  // null data is the addon's own uninitialised allocation (for outputs a kernel fills): shape and dtype still checked.
  const u = new NativeTensor(null, [3, 2], 'int32', 'cpu');
  assert.equal(u.shape, [3, 2]);
  assert.is(u.toArray().length, 6);
  u.dispose();
  assertThrowsCode(() => new NativeTensor(null, [-1], 'float32', 'cpu'), 'ERR_INVALID_ARG', RangeError, /shape/);
  assertThrowsCode(() => new NativeTensor(undefined, [1], 'float32', 'cpu'), 'ERR_INVALID_ARG', TypeError, /data/);
});

test("device 'cuda' without a usable GPU throws ERR_CUDA with the reason; 'auto' falls back (with one: both use it)", async () => {
  const { cudaAvailable } = await import('../helpers/cuda.js');
  if (cudaAvailable) {
    for (const device of ['cuda', 'auto']) {
      const t = Tensor.from(new Float32Array([1, 2]), [2], { device });
      // FUSED_MULTILABEL_DEVICE=cpu makes 'auto' pick the CPU even with a GPU
      assert.is(t.device, device === 'auto' && process.env.FUSED_MULTILABEL_DEVICE === 'cpu' ? 'cpu' : 'cuda');
      assert.equal(Array.from(t.toArray()), [1, 2]);
      t.dispose();
    }
    return;
  }
  assertThrowsCode(() => Tensor.from(new Float32Array(2), [2], { device: 'cuda' }), 'ERR_CUDA', Error, /not available/);
  assert.is(Tensor.from(new Float32Array(2), [2], { device: 'auto' }).device, 'cpu');
});

test('tensors that are never disposed are freed by the garbage collector (memory is reported to V8)', () => {
  // 400 tensors of 4 MB = 1.6 GB allocated and dropped without dispose(), in an async loop as a training
  // loop would be (Node runs N-API finalizers between turns of the event loop): the finalizer must keep up.
  const script = `import('./dist/index.js').then(async ({ Tensor }) => {
    const data = new Float32Array(1 << 20);
    let peak = 0;
    for (let i = 0; i < 400; i++) {
      Tensor.from(data, [1 << 20], { device: 'cpu' });
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    console.log(peak);
  })`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const peakMb = Number(r.stdout.trim()) / 2 ** 20;
  assert.ok(peakMb > 0, r.stderr);
  assert.ok(peakMb < 900, `peak RSS ${peakMb.toFixed(0)} MB: undisposed tensors are not being collected`);
});

cudaTest(test, 'every dtype round-trips through GPU memory', () => {
  for (const dtype of ['float32', 'float16', 'bfloat16']) {
    const t = Tensor.from(floats, [10], { device: 'cuda', dtype });
    const cpu = Tensor.from(floats, [10], { device: 'cpu', dtype });
    assert.is(t.device, 'cuda');
    assert.equal(Array.from(t.toArray()), Array.from(cpu.toArray()));
    t.dispose();
  }
  const i8 = Tensor.from(new Int8Array([-1, 0, 1]), [3], { device: 'cuda' });
  assert.equal(Array.from(i8.toArray()), [-1, 0, 1]);
});

test.run();
