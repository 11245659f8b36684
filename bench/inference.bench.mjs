// Encoder inference (forward only, evaluation mode) on the CPU: this package against onnxruntime-node on
// the same weights, at BERT L4 H256 B32 T128, the `tiny` preset (B32 T128) and BERT-base shape L12 H768
// B8 T128, with random weights (seeded), each batch with 1/8 of its tokens padded (the second half of its rows
// over their last quarter) and the two BERT shapes also unpadded. Our encoder is saved, exported to ONNX by bench/torch_encoder.py
// (torch.onnx.export; skipped with the reason when torch is not importable), and each engine runs in its
// own child process (bench/inference_worker.mjs) so that each process's peak resident memory is its own.
// Logits must agree to 1e-4. Ratios are throughput ours / onnxruntime from the same round (R rounds alternate
// the two engines, each worker a fresh process).
//   node bench/inference.bench.mjs [--iters=N] [--rounds=R] [--quick]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Encoder, deviceInfo, getThreads } from '../dist/index.js';
import { numberArg, torchEncoder } from './torch_runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const iters = numberArg('iters', quick ? 3 : 10);
const rounds = numberArg('rounds', quick ? 1 : 3);
/** median (lowest-highest) of xs */
const spread = (xs, d) => {
  const v = [...xs].sort((a, b) => a - b);
  return `${v[v.length >> 1].toFixed(d)} (${v[0].toFixed(d)}-${v[v.length - 1].toFixed(d)})`;
};
const threads = getThreads();

const bert = (L, C, NH, FF) => ({ architecture: 'bert', vocabSize: 30522, hiddenSize: C, numLayers: L, numHeads: NH, intermediateSize: FF, maxPositions: 512, numLabels: 20 });
// padded: the second half of the batch padded over its last quarter (1/8 of the tokens; our CPU forward skips
// them, onnxruntime computes them); unpadded: every token real (the same work for both engines)
const cases = [
  { name: 'BERT L4 H256', config: bert(4, 256, 4, 1024), B: 32, T: 128, pooling: 'pooler', padded: true },
  { name: 'BERT L4 H256', config: bert(4, 256, 4, 1024), B: 32, T: 128, pooling: 'pooler', padded: false },
  // the trainer's `tiny` preset (lib/trainer.ts MODEL_PRESETS.tiny)
  { name: 'tiny (L2 H64, mean)', config: { ...bert(2, 64, 4, 256), pooling: 'mean' }, B: 32, T: 128, pooling: 'mean', padded: true },
  { name: 'BERT-base L12 H768', config: bert(12, 768, 12, 3072), B: 8, T: 128, pooling: 'pooler', padded: true },
  { name: 'BERT-base L12 H768', config: bert(12, 768, 12, 3072), B: 8, T: 128, pooling: 'pooler', padded: false },
];
if (quick) cases.splice(3);

function worker(engine, dir, c) {
  const r = spawnSync(process.execPath, [join(here, 'inference_worker.mjs'), engine, dir, c.B, c.T, iters, threads, c.padded ? 1 : 0], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

console.log(`inference, ${threads} threads, SGEMM ${deviceInfo().sgemm}, attention ${deviceInfo().attention}; ${rounds} rounds alternating the engines, each the median of ${iters} forwards in a fresh process; median (lowest-highest) over the rounds; peak RSS per process (VmHWM)`);
const rows = [];
const work = mkdtempSync(join(tmpdir(), 'fml-infer-'));
try {
  for (const c of cases) {
    const dir = join(work, `${c.name.replace(/\W+/g, '_')}_${c.padded ? 'padded' : 'full'}`);
    const enc = await Encoder.create(c.config, { device: 'cpu', seed: 7 });
    await enc.save(dir);
    enc.dispose();
    const exp = torchEncoder(['onnx', dir, join(dir, 'model.onnx'), c.pooling]);
    const row = { model: `${c.name} B${c.B} T${c.T} ${c.padded ? 'padded 1/8' : 'unpadded'}` };
    const ours = [], ort = [];
    for (let r = 0; r < rounds; r++) {  // alternating, so that both engines are timed in the same minutes
      ours.push(worker('ours', dir, c));
      ort.push(exp.error ? { error: `export skipped: ${exp.error}` } : worker('ort', dir, c));
    }
    const failed = ours.find((o) => o.error);
    if (failed) {
      rows.push({ ...row, 'ours s/batch': `failed: ${failed.error}` });
      continue;
    }
    const s = (xs) => xs.map((x) => x.seconds);
    row['ours s/batch'] = spread(s(ours), 4);
    row['ours peak RSS MB'] = Math.round(Math.max(...ours.map((o) => o.maxRssMb)));
    if (ort.some((o) => o.error)) {
      row['onnxruntime'] = ort.find((o) => o.error).error;
    } else {
      let diff = 0;
      for (let i = 0; i < ours[0].logits.length; i++) diff = Math.max(diff, Math.abs(ours[0].logits[i] - ort[0].logits[i]));
      row['ort s/batch'] = spread(s(ort), 4);
      row['ort peak RSS MB'] = Math.round(Math.max(...ort.map((o) => o.maxRssMb)));
      row['speed ours/ort (rounds)'] = spread(ours.map((o, r) => ort[r].seconds / o.seconds), 2) + '×';
      row['RSS ours/ort'] = (Math.max(...ours.map((o) => o.maxRssMb)) / Math.max(...ort.map((o) => o.maxRssMb))).toFixed(2);
      row['max |Δlogit|'] = diff.toExponential(1) + (diff <= 1e-4 ? ' ok' : ' > 1e-4 MISMATCH');
    }
    row.load = loadavg()[0].toFixed(1);
    rows.push(row);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.table(rows);
