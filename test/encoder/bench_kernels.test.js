// _benchEncoderKernels (native/addon/bench_binding.cpp), the GPU kernel benchmark entry: without a usable
// CUDA device it throws ERR_CUDA (never crashes); bad options are named; on a GPU a tiny-size run returns
// one row per kernel and per matrix product with finite, positive figures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deviceInfo } from '../../dist/index.js';
import { loadBinding } from '../../dist/binding.js';
import { assertThrowsCode } from '../helpers/assert.js';
import { cudaTest, cudaAvailable } from '../helpers/cuda.js';

const bench = loadBinding()._benchEncoderKernels;
const tiny = {
  batch: 2, seqLen: 8, hidden: 32, heads: 4, ffn: 64, layers: 1, vocab: 50, numLabels: 3,
  reps: 1, warmup: 1, bceRows: 4, bceCols: 8, bceLargeElements: 2048,
};

test('_benchEncoderKernels is registered', () => {
  assert.type(bench, 'function');
});

test('without a usable CUDA device it throws ERR_CUDA', () => {
  if (cudaAvailable) return;  // covered by the CUDA test below
  const info = deviceInfo();
  assert.ok(!info.cuda.available);
  assertThrowsCode(() => bench(tiny), 'ERR_CUDA', Error);
  assertThrowsCode(() => bench(), 'ERR_CUDA', Error);
});

test('bad options are named before anything runs', () => {
  assertThrowsCode(() => bench({ batchSize: 2 }), 'ERR_INVALID_ARG', RangeError, /batchSize/);
  assertThrowsCode(() => bench({ batch: 0 }), 'ERR_INVALID_ARG', RangeError, /batch/);
  assertThrowsCode(() => bench({ hidden: 30, heads: 4 }), 'ERR_INVALID_ARG', RangeError, /divisible/);
  assertThrowsCode(() => bench(7), 'ERR_INVALID_ARG', TypeError, /options/);
});

cudaTest(test, 'CUDA: a tiny-size run returns a row per kernel and per product', () => {
  const r = bench(tiny);
  assert.type(r.device, 'string');
  assert.is(r.config.batch, 2);
  assert.ok(r.config.parameters > 0);
  assert.ok(r.kernels.length >= 15, `${r.kernels.length} kernel rows`);
  // Event timings of tiny kernels are a few microseconds; a 0 reading is tolerated (gbps is then 0).
  for (const k of r.kernels) {
    for (const f of ['kernel', 'shape']) assert.type(k[f], 'string');
    assert.ok(k.bytes > 0, `${k.kernel}.bytes = ${k.bytes}`);
    for (const f of ['ms', 'gbps', 'copyGbps', 'pctOfCopy']) assert.ok(Number.isFinite(k[f]) && k[f] >= 0, `${k.kernel}.${f} = ${k[f]}`);
    if (k.ms > 0) assert.ok(Math.abs(k.gbps - k.bytes / (k.ms * 1e-3) / 1e9) <= 1e-6 * k.gbps, `${k.kernel}: gbps from bytes and ms`);
  }
  assert.ok(r.kernels.some((k) => k.ms > 0 && k.copyGbps > 0), 'some kernel took measurable time');
  const names = r.kernels.map((k) => k.kernel).join('\n');
  for (const w of ['embedding forward', 'embedding backward', 'layernorm forward', 'layernorm backward', 'gelu forward', 'gelu backward',
    'attention forward', 'attention backward', 'dropout', 'AdamW', 'gradient norm', 'BCE'])
    assert.ok(names.includes(w), `missing ${w}`);
  assert.is(r.gemms.length, 12);
  for (const g of r.gemms) {
    assert.type(g.gemm, 'string');
    assert.ok(g.M > 0 && g.N > 0 && g.K > 0 && g.ms >= 0 && g.tflops >= 0, JSON.stringify(g));
    assert.type(g.transA, 'boolean');
  }
  // rows = batch·seqLen = 16: q/k/v forward is 16×32×32 (N·hidden·hidden), FFN1 forward 16×64×32, and
  // the FFN2 weight gradient (ffn × hidden, reduced over the 16 rows) 32×64×16 with op(A) transposed.
  assert.equal(r.gemms[0], { ...r.gemms[0], M: 16, N: 32, K: 32, transA: false, transB: true });
  assert.equal(r.gemms[6], { ...r.gemms[6], M: 16, N: 64, K: 32 });
  assert.equal(r.gemms[11], { ...r.gemms[11], M: 32, N: 64, K: 16, transA: true, transB: false });
});

test.run();
