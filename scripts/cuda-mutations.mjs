#!/usr/bin/env node
// Proof that the CUDA simulator catches real kernel bugs: each mutation below edits a COPY of one kernel
// source (native/ops/*_cuda.cu is never touched), builds the simulator test binary with the copy in its
// place, runs the cases of that op and requires them to fail with the named check ("mismatch" = a value
// differs from the CPU twin). Prints one line per mutation and exits non-zero if any bug goes unnoticed.
//
//   npm run test:mutations            all mutations (about 3-7 minutes on 2 cores)
//   npm run test:mutations -- shuffle only mutations whose name contains a word
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildCudaSim, missingCompiler } from './build-cuda-sim.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// name, kernel file, text to find (exactly once), its replacement, case filter, expected check
export const mutations = [
  ['drop a __syncthreads() in the sum-of-squares tree reduction', 'native/ops/adamw_cuda.cu',
    '    if ((int)threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];\n    __syncthreads();',
    '    if ((int)threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];', 'adamw', 'racecheck'],
  ['drop the __syncthreads() between the SGEMM tile loads and their use', 'native/ops/matmul_cuda.cu',
    '      Bs[k][j] = v;\n    }\n    __syncthreads();', '      Bs[k][j] = v;\n    }', 'sgemm M=65', 'racecheck'],
  ['drop the __syncthreads() after the SGEMM tile is used (next tile overwrites it)', 'native/ops/matmul_cuda.cu',
    '        for (int j = 0; j < TN; j++) acc[i][j] += a[i] * b[j];\n    }\n    __syncthreads();',
    '        for (int j = 0; j < TN; j++) acc[i][j] += a[i] * b[j];\n    }', 'sgemm M=65 N=63 K=17', 'racecheck'],
  ['off-by-one grid-stride bound in GELU forward (i <= N)', 'native/ops/gelu_cuda.cu',
    'threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)\n    out[i] = gelu_value(inp[i]);',
    'threadIdx.x; i <= N; i += (int64_t)gridDim.x * blockDim.x)\n    out[i] = gelu_value(inp[i]);', 'gelu', 'memcheck'],
  ['off-by-one in the loss tail loop (i <= NK)', 'native/ops/bce_cuda.cu',
    'for (int64_t i = (groups << 2) + tid; i < a.NK; i += stride) {',
    'for (int64_t i = (groups << 2) + tid; i <= a.NK; i += stride) {', 'loss bce logits=float32 targets=float32 N=5', 'memcheck'],
  ['missing partial-block guard in the LayerNorm parameter gradients', 'native/ops/layernorm_cuda.cu',
    '  if (c >= C) return;\n', '', 'layernorm N=7', 'memcheck'],
  ['missing partial-block guard in the bias gradient', 'native/ops/matmul_cuda.cu', '  if (o >= OC) return;\n', '',
    'matmul forward/backward', 'memcheck'],
  ['wrong warp-shuffle offset in warp_sum (starts at 8: half a warp)', 'native/ops/cuda_util.cuh',
    'for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync', 'for (int o = 8; o > 0; o >>= 1) v += __shfl_xor_sync',
    'layernorm N=9', 'mismatch'],
  ['wrong warp-shuffle mask in the loss pre-pass count (half a warp named)', 'native/ops/bce_cuda.cu',
    'c += __shfl_down_sync(0xffffffffu, c, o);', 'c += __shfl_down_sync(0x0000ffffu, c, o);',
    'loss bce logits=float32 targets=float32 N=5 K=7 weights', 'synccheck'],
  ['__syncthreads() inside the lane-0 branch of the loss block_sum (divergent barrier)', 'native/ops/bce_cuda.cu',
    '  if (lane == 0) sh[wid] = v;\n  __syncthreads();\n  const int nw',
    '  if (lane == 0) {\n    sh[wid] = v;\n    __syncthreads();\n  }\n  const int nw', 'loss bce logits=float32 targets=float32 N=5 K=7 mean', 'synccheck'],
  ['shared buffer one element too small in the sum of squares (part[255])', 'native/ops/adamw_cuda.cu',
    '__shared__ double part[256];', '__shared__ double part[255];', 'adamw', 'memcheck'],
  ['shared buffer one element too small in the loss finalize (sh[1023])', 'native/ops/bce_cuda.cu',
    '__shared__ double sh[1024];', '__shared__ double sh[1023];', 'loss bce logits=float32 targets=float32 N=1 K=1', 'memcheck'],
  ['idle threads skip their shared store before the reduction', 'native/ops/adamw_cuda.cu',
    '  part[threadIdx.x] = s;', '  if (s != 0.0) part[threadIdx.x] = s;', 'adamw/sum_squares/scale N=1000', 'initcheck'],
  ['vector loads without the alignment check on the targets', 'native/ops/bce_cuda.cu',
    '&& aligned(a.targets, tsz)', '', 'unaligned', 'memcheck'],
  ['plain += instead of atomicAdd in the embedding backward scatter', 'native/ops/embedding_cuda.cu',
    'if (ids[bt] != pad_id) atomicAdd(dwte + (int64_t)ids[bt] * C + c, d);',
    'if (ids[bt] != pad_id) dwte[(int64_t)ids[bt] * C + c] += d;', 'embedding B=2', 'racecheck'],
  ['plain += instead of atomicAdd for dk in the attention backward', 'native/ops/attention_cuda.cu',
    'if (d != 0.0f) atomicAdd(dk + r2, d * qi);', 'if (d != 0.0f) dk[r2] += d * qi;', 'attention B=2 T=5', 'racecheck'],
  ['attention dynamic shared memory sized T instead of 2T', 'native/ops/attention_cuda.cu',
    'const size_t shmem = 2 * (size_t)T * sizeof(float);\n  if (shmem > 48 * 1024)\n    PKG_CUDA_CALL(cudaFuncSetAttribute(attention_forward_kernel',
    'const size_t shmem = (size_t)T * sizeof(float);\n  if (shmem > 48 * 1024)\n    PKG_CUDA_CALL(cudaFuncSetAttribute(attention_forward_kernel',
    'attention B=2 T=5', 'memcheck'],
  ['drop the __syncthreads() between the softmax cross-entropy warp partials and their merge', 'native/ops/softmax_xent_cuda.cu',
    '    if (lane == 0) sm[warp] = a.m, ss[warp] = a.s;\n    __syncthreads();', '    if (lane == 0) sm[warp] = a.m, ss[warp] = a.s;',
    'softmax_xent N=5 V=33', 'racecheck'],
];

async function main() {
  const why = missingCompiler();
  if (why) {
    console.error(`cannot run the mutations: ${why}`);
    process.exit(1);
  }
  const words = process.argv.slice(2);
  const chosen = mutations.filter(([name]) => words.length === 0 || words.some((w) => name.includes(w)));
  const dir = mkdtempSync(join(tmpdir(), 'fml-mutants-'));
  let missed = 0;
  const t0 = Date.now();
  try {
    for (const [name, file, find, repl, filter, check] of chosen) {
      const src = readFileSync(join(root, file), 'utf8');
      const at = src.indexOf(find);
      if (at < 0 || src.indexOf(find, at + 1) >= 0) {
        console.log(`BROKEN  ${name}: the text to mutate is not found exactly once in ${file} (update this script)`);
        missed++;
        continue;
      }
      const sub = join(dir, String(chosen.indexOf(chosen.find((m) => m[0] === name))));
      mkdirSync(sub);
      const mutant = join(sub, basename(file));
      writeFileSync(mutant, src.slice(0, at) + repl + src.slice(at + find.length));
      // a shared header: the kernel units that include it are copied next to the mutant (a quoted include
      // looks in the including file's directory first)
      const replace = { [file]: mutant };
      if (file.endsWith('.cuh'))
        for (const f of readdirSync(join(root, 'native/ops')).filter((n) => n.endsWith('_cuda.cu'))) {
          copyFileSync(join(root, 'native/ops', f), join(sub, f));
          replace[`native/ops/${f}`] = join(sub, f);
        }
      let bin;
      try {
        bin = await buildCudaSim({ replace, out: join(sub, 'cuda_sim_test') });
      } catch (e) {
        console.log(`BUILD   ${name}: ${e.message.split('\n')[0]}`);
        missed++;
        continue;
      }
      const r = spawnSync(bin, [filter], { encoding: 'utf8', timeout: 300_000 });
      const fails = r.stdout.split('\n').filter((l) => l.startsWith('FAIL '));
      const tag = check === 'mismatch' ? / vs CPU / : new RegExp(`\\[${check}\\]`);
      const hit = fails.find((l) => tag.test(l));
      if (hit) console.log(`caught  ${name}\n        ${hit.slice(0, 300)}`);
      else {
        missed++;
        const first = fails[0] ?? (r.status === 0 ? 'every case passed' : `exit ${r.status ?? r.signal}`);
        console.log(`MISSED  ${name}: expected ${check}, got: ${first.slice(0, 300)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${chosen.length - missed} of ${chosen.length} mutations caught (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  process.exit(missed ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
