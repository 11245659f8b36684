// The benchmark addon (fused_multilabel_bench.node, npm run build:bench): built here (incremental) and
// loaded for this whole file through FUSED_MULTILABEL_BINARY. Its benchmark-only entry points are absent
// from the addon users load. _benchEncoderKernels (native/addon/bench_binding.cpp), the GPU kernel
// benchmark: without a usable CUDA device it throws ERR_CUDA (never crashes); bad options are named; on a
// GPU a tiny-size run returns one row per kernel and per matrix product with finite, positive figures.
// Without CMake the benchmark addon cannot be built: the file is skipped with the reason printed
// (REQUIRE_BENCH_ADDON=1 makes that a failure). A failed build with CMake present fails.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { userAddonPath } from '../../bench/addon.mjs';
import { useBenchAddonForTests } from '../helpers/bench_addon.js';

const BENCH_ONLY = ['_benchEncoderKernels', '_copyBytes', '_benchSgemm', '_fmaPeak', '_sgemm'];

if (useBenchAddonForTests('the benchmark addon tests')) await suite();
else {
  test.skip('the benchmark addon', () => {});
  test.run();
}

async function suite() {
  const { deviceInfo } = await import('../../dist/index.js');
  const { loadBinding } = await import('../../dist/binding.js');
  const { assertThrowsCode } = await import('../helpers/assert.js');
  const { cudaTest, cudaAvailable } = await import('../helpers/cuda.js');

  const binding = loadBinding();
  const bench = binding._benchEncoderKernels;
  const tiny = {
    batch: 2, seqLen: 8, hidden: 32, heads: 4, ffn: 64, layers: 1, vocab: 50, numLabels: 3,
    reps: 1, warmup: 1, bceRows: 4, bceCols: 8, bceLargeElements: 2048,
  };

  test('the benchmark addon carries the public API and the benchmark entry points', () => {
    for (const f of ['bceWithLogits', 'bceWithLogitsAsync', 'deviceInfo', 'NativeEncoder', 'NativeTensor', ...BENCH_ONLY])
      assert.type(binding[f], 'function', f);
  });

  test('the addon users load has none of the benchmark entry points', () => {
    const env = { ...process.env, FUSED_MULTILABEL_BINARY: userAddonPath };
    const r = spawnSync(process.execPath, ['--input-type=module', '-e',
      "const m = await import('./dist/binding.js'); console.log(JSON.stringify(Object.keys(m.loadBinding())))"], { env, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const keys = JSON.parse(r.stdout);
    assert.ok(keys.includes('bceWithLogits'), r.stdout);
    for (const f of BENCH_ONLY) assert.not.ok(keys.includes(f), `${f} is exported by the user addon`);
  });

  test('_copyBytes copies typed arrays byte for byte and refuses a smaller destination', () => {
    const src = Float32Array.from({ length: 37 }, (_, i) => i * 0.5 - 3);
    const dst = new Float32Array(40).fill(9);
    binding._copyBytes(dst, src);
    assert.equal([...dst.subarray(0, 37)], [...src]);
    assert.equal([...dst.subarray(37)], [9, 9, 9]);
    assertThrowsCode(() => binding._copyBytes(new Float32Array(2), src), 'ERR_INVALID_ARG', RangeError, /smaller/);
  });

  test('_benchSgemm and _fmaPeak return positive timings and rates', () => {
    const s = binding._benchSgemm(false, true, 8, 16, 32, 2, false);
    assert.ok(Number.isFinite(s.seconds) && s.seconds > 0, `seconds ${s.seconds}`);
    assert.ok(Number.isFinite(s.cpuSeconds) && s.cpuSeconds > 0, `CPU seconds ${s.cpuSeconds}`);
    const peak = binding._fmaPeak(1e5);
    assert.ok(Number.isFinite(peak) && peak > 0, `GFLOP/s ${peak}`);
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
}
