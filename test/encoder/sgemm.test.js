// The package's own SGEMM (native/ops/sgemm_cpu.cpp) against a float64 oracle: odd shapes that leave
// partial micro-tiles and cross the KC/MC/NC block edges, all four transposes, padded leading
// dimensions, alpha/beta, K = 0, and the fused epilogue (bias, GELU, residual). The same file runs once
// in this process (the best path the CPU has) and once per lower path forced by environment variable, in
// child processes (FUSED_MULTILABEL_NO_AVX512=1 → AVX2, FUSED_MULTILABEL_NO_AVX2=1 → portable).
// _sgemm is a test entry point of the benchmark addon (native/addon/bench_binding.cpp), not of the addon
// users load: test/helpers/bench_addon.js builds and loads it (without CMake the tests are skipped with
// the reason printed; REQUIRE_BENCH_ADDON=1 makes that a failure).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deviceInfo, getThreads, setThreads } from '../../dist/index.js';
import { loadBinding } from '../../dist/binding.js';
import { mulberry32 } from '../../dist/random.js';
import { useBenchAddonForTests } from '../helpers/bench_addon.js';

const ready = useBenchAddonForTests('the SGEMM tests');
const it = ready ? test : test.skip;
const b = ready ? loadBinding() : null;
const path = ready ? deviceInfo().sgemm : 'sgemm';
if (process.env.FUSED_MULTILABEL_SGEMM_CHILD) console.log(`${path}: child run`);
const rand = mulberry32(2024);
const fill = (n) => Float32Array.from({ length: n }, () => rand() * 2 - 1);

// erf in double: the Maclaurin series below 3 (terms stay under e^9, so double keeps ~1e-12), the
// asymptotic expansion of erfc above (its first omitted term is below 3e-8 there)
function erf(x) {
  const t = Math.abs(x);
  let r;
  if (t < 3) {
    let sum = 0, term = t;
    for (let n = 0; n < 120; n++) {
      sum += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    const u = 1 / (2 * t * t);
    r = 1 - (Math.exp(-t * t) / (t * Math.sqrt(Math.PI))) * (1 - u + 3 * u * u - 15 * u * u * u);
  }
  return Math.sign(x) * r;
}

// Runs one product through _sgemm and checks every element of C against the float64 result, with a
// bound proportional to Σ_k |a·b| (the float32 rounding of a K-term dot product) plus GELU's polynomial.
function check({ ta, tb, M, N, K, alpha = 1, beta = 0, pad = 0, bias = false, gelu = false, residual = false }) {
  const lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad, ldr = N + 2 * pad;
  const A = fill((ta ? K : M) * lda), B = fill((tb ? N : K) * ldb);
  const C = fill(M * ldc);
  if (beta === 0) C.fill(NaN); // beta = 0 must never read C
  const C0 = C.slice();
  const bv = bias ? fill(N) : null, rv = residual ? fill(M * ldr) : null;
  b._sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bv, gelu, rv, ldr);
  const label = `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${M}x${N}x${K} a=${alpha} b=${beta} pad=${pad}${bias ? ' bias' : ''}${gelu ? ' gelu' : ''}${residual ? ' res' : ''}`;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0, mag = 0;
      for (let k = 0; k < K; k++) {
        const p = (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
        s += p;
        mag += Math.abs(p);
      }
      let v = alpha * s + (beta === 0 ? 0 : beta * C0[i * ldc + j]);
      let tol = 5e-7 * (Math.abs(alpha) * mag + Math.abs(beta) + 1);
      if (bv) v += bv[j];
      if (gelu) {
        v = 0.5 * v * (1 + erf(v / Math.SQRT2));
        tol = tol * 1.5 + 1e-6 * (1 + Math.abs(v)); // erf_rational: 4.2e-7 absolute
      }
      if (rv) v += rv[i * ldr + j];
      const got = C[i * ldc + j];
      if (!(Math.abs(got - v) <= tol)) assert.unreachable(`${path} ${label}: C[${i},${j}] = ${got}, float64 ${v} (tol ${tol})`);
    }
    // padding columns of C are never written
    for (let j = N; j < ldc; j++) {
      if (!Object.is(C[i * ldc + j], C0[i * ldc + j])) assert.unreachable(`${path} ${label}: wrote C[${i},${j}] outside N`);
    }
  }
}

const shapes = [
  [1, 1, 1],
  [13, 17, 5],
  [29, 33, 300], // K over one KC block (256; AVX2's is 512, see 513 below): the second block accumulates with beta = 1
  [350, 45, 31], // M over one MC block (336 rows on AVX-512)
  [37, 70, 513], // K over AVX2's KC block (512)
  [15, 1100, 9], // N over two NC blocks (512)
  [64, 128, 64], // exact multiples of no micro-tile (14×32, 6×16) but of 4×16
  [301, 129, 67], // large enough to be split over threads
];

for (const ta of [false, true]) {
  for (const tb of [false, true]) {
    it(`${path}: ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} odd shapes against float64`, () => {
      for (const [M, N, K] of shapes) check({ ta, tb, M, N, K });
      check({ ta, tb, M: 23, N: 41, K: 19, alpha: 0.5, beta: 0.75, pad: 3 });
    });
  }
}

it(`${path}: epilogues (bias, GELU, residual) on edge and full tiles, after a multi-block K`, () => {
  for (const [M, N, K] of [[45, 77, 600], [14, 32, 16], [6, 16, 8], [301, 129, 67]]) {
    check({ ta: false, tb: true, M, N, K, bias: true });
    check({ ta: false, tb: true, M, N, K, bias: true, gelu: true });
    check({ ta: false, tb: true, M, N, K, bias: true, residual: true, pad: 2 });
    check({ ta: true, tb: false, M, N, K, alpha: 2, beta: 0.5, bias: true, gelu: true, residual: true });
  }
});

it(`${path}: K = 0 gives beta·C plus the epilogue`, () => {
  check({ ta: false, tb: false, M: 5, N: 7, K: 0, beta: 0.5, bias: true, residual: true });
  check({ ta: true, tb: true, M: 3, N: 4, K: 0 });
});

it(`${path}: the result does not depend on the thread count (each element sums K in the same order)`, () => {
  const M = 333, N = 257, K = 300;
  const A = fill(M * K), B = fill(K * N);
  const run = (t) => {
    setThreads(t);
    const C = new Float32Array(M * N);
    b._sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N, null, false, null, 0);
    return C;
  };
  const before = getThreads();
  try {
    const one = run(1), three = run(3);
    assert.ok(one.every((x, i) => Object.is(x, three[i])), 'bitwise equal with 1 and 3 threads');
  } finally {
    setThreads(before);
  }
});

it(`${path}: rows read in place and rows packed give the same bits, over several K blocks`, () => {
  // K 768 (BERT-base's hidden size, rows 3 KB apart: read in place) and 1100 with a padded lda: the rows of
  // full micro-tiles are read in place, a product of one row packs its row; both sum K in the same order
  for (const [K, lda] of [[768, 768], [1100, 1103]]) {
    const M = 30, N = 70;
    const A = fill(M * lda), B = fill(N * K);
    const all = new Float32Array(M * N);
    b._sgemm(false, true, M, N, K, 1, A, lda, B, K, 0, all, N, null, false, null, 0);
    for (const r of [0, 13, 29]) {
      const one = new Float32Array(N);
      b._sgemm(false, true, 1, N, K, 1, A.slice(r * lda, (r + 1) * lda), lda, B, K, 0, one, N, null, false, null, 0);
      assert.ok(one.every((x, j) => Object.is(x, all[r * N + j])), `K ${K} row ${r}`);
    }
  }
});

if (!process.env.FUSED_MULTILABEL_SGEMM_CHILD) {
  it('deviceInfo().sgemm names the micro-kernel', () => {
    assert.match(path, /^(avx512 14x32|avx2 6x16|portable \dx8)$/);
  });
  const self = fileURLToPath(import.meta.url);
  for (const [env, want] of [['FUSED_MULTILABEL_NO_AVX512', /^(avx2 6x16|portable \dx8)$/], ['FUSED_MULTILABEL_NO_AVX2', /^portable \dx8$/]]) {
    it(`the same tests pass with ${env}=1 (${want.source})`, () => {
      const r = spawnSync(process.execPath, [self], {
        env: { ...process.env, [env]: '1', FUSED_MULTILABEL_SGEMM_CHILD: '1' },
        encoding: 'utf8',
      });
      assert.is(r.status, 0, `${env}: ${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
      const m = r.stdout.match(/^(avx512 14x32|avx2 6x16|portable \dx8): /m);
      assert.ok(m, 'the child printed its path');
      assert.match(m[1], want);
      assert.match(r.stdout, /Passed:\s+\d+/);
    });
  }
}

test.run();
