#!/usr/bin/env node
// CUDA twin of the fused BCE loss vs a device-to-device copy of the same bytes (and PyTorch CUDA eager
// when python3 can import torch with CUDA). Prints a skip and exits 0 without a usable GPU.
//   node bench/gpu/losses_gpu.mjs            (64M elements; FML_BENCH_ELEMS to change)
import { spawnSync } from 'node:child_process';
import { deviceInfo, bceWithLogits, Tensor } from '../../dist/index.js';
import { loadBinding } from '../../dist/binding.js';
import { nativeTensor } from '../../dist/tensor.js';
import { useBenchAddon } from '../addon.mjs';

useBenchAddon();  // before the first call into ../dist: the entry points used below live only in the benchmark addon

const info = deviceInfo();
if (!info.cuda.available) {
  console.log(`skipping the GPU loss benchmark: ${info.cuda.error}`);
  process.exit(0);
}
const dev = info.cuda.devices[0];
console.log(`GPU: ${dev.name} (compute ${dev.computeCapability}), ${(dev.totalMemory / 2 ** 30).toFixed(0)} GiB`);
const total = Number(process.env.FML_BENCH_ELEMS ?? 64 * 2 ** 20);
const K = 1024;
const N = Math.floor(total / K);
const n = N * K;
const binding = loadBinding();

function timeIt(fn, iters = 20) {
  fn();
  const t = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    fn();  // every call synchronises (the loss value comes back to the host)
    t.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

const x = new Float32Array(n);
const y = new Float32Array(n);
const y8 = new Int8Array(n);
for (let i = 0; i < n; i++) {
  x[i] = ((i * 2654435761) % 1000) / 62.5 - 8;
  y[i] = i % 7 === 0 ? 1 : 0;
  y8[i] = i % 5 === 0 ? -1 : y[i];
}
const rows = [];
const report = (name, sec, bytes) => rows.push({ name, ms: sec * 1e3, gbs: (bytes * n) / sec / 1e9 });

// device copy of the same bytes: logits + targets -> a scratch buffer (read and written)
{
  const src = Tensor.from(x, [n], { device: 'cuda' });
  const dst = Tensor.from(new Float32Array(n), [n], { device: 'cuda' });
  report('device copy (cudaMemcpy D2D, fp32)', timeIt(() => binding._copyBytes(nativeTensor(dst), nativeTensor(src))), 8);
  src.dispose();
  dst.dispose();
}

for (const [label, dtype, targets, bpe, opts] of [
  ['BCE fp32 logits, fp32 targets', 'float32', y, 12, {}],
  ['BCE fp32 logits, int8 targets (masked -1)', 'float32', y8, 9, {}],
  ['BCE bf16 logits, int8 targets', 'bfloat16', y8, 5, {}],
  ['focal fp32, fp32 targets', 'float32', y, 12, { focal: { gamma: 2, alpha: 0.25 } }],
  ['DB fp32, fp32 targets', 'float32', y, 12, { distributionBalanced: { classCounts: Float32Array.from({ length: K }, (_, k) => k % 300), trainSize: 40000 } }],
]) {
  const lt = Tensor.from(x, [N, K], { device: 'cuda', dtype });
  const tt = Tensor.from(targets, [N, K], { device: 'cuda' });
  const gt = Tensor.from(new Float32Array(n), [N, K], { device: 'cuda', dtype });
  report(`${label} (gradOut: +targets pre-pass)`, timeIt(() => bceWithLogits(lt, tt, { ...opts, gradOut: gt })), bpe);
  report(`${label} (loss only)`, timeIt(() => bceWithLogits(lt, tt, { ...opts, grad: false })), bpe - (dtype === 'float32' ? 4 : 2));
  for (const t of [lt, tt, gt]) t.dispose();
}

const torch = spawnSync('python3', ['-c', `
import torch, time, torch.nn.functional as F
if not torch.cuda.is_available(): raise SystemExit('no cuda in torch')
x = (torch.rand(${N}, ${K}, device='cuda') * 16 - 8).requires_grad_(True)
y = (torch.rand(${N}, ${K}, device='cuda') < 0.15).float()
def step():
    F.binary_cross_entropy_with_logits(x, y).backward(); x.grad = None
step(); torch.cuda.synchronize()
ts = []
for _ in range(20):
    t0 = time.perf_counter(); step(); torch.cuda.synchronize(); ts.append(time.perf_counter() - t0)
ts.sort(); print(ts[10])
`], { encoding: 'utf8' });
if (torch.status === 0) report('PyTorch CUDA eager BCE fp32 (fwd+bwd)', Number(torch.stdout.trim()), 12);
else console.log(`PyTorch CUDA: not measured (${(torch.stderr || torch.error?.message || '').trim().split('\n').pop()})`);

const copy = rows[0].gbs;
console.log(`\n${n} elements (${N}×${K})\n`);
console.log('| kernel | time | GB/s | % of copy |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.name} | ${r.ms.toFixed(3)} ms | ${r.gbs.toFixed(0)} | ${((100 * r.gbs) / copy).toFixed(0)}% |`);
console.log('\nGB/s counts logits + targets read and the gradient written once; the copy counts 4 B read + 4 B written per element.');
