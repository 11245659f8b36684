// Encoder inference (forward only, evaluation mode) on the CPU: this package against onnxruntime-node on
// the same weights, at BERT L4 H256 B32 T128, the `tiny` preset (B32 T128) and BERT-base shape L12 H768
// B8 T128, with random weights (seeded). Our encoder is saved, exported to ONNX by bench/torch_encoder.py
// (torch.onnx.export; skipped with the reason when torch is not importable), and each engine runs in its
// own child process (bench/inference_worker.mjs) so that each process's peak resident memory is its own.
// Logits must agree to 1e-4. Ratios are throughput ours / onnxruntime from the same run.
//   node bench/inference.bench.mjs [--iters=N] [--quick]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Encoder, deviceInfo, getThreads } from '../dist/index.js';
import { numberArg, torchEncoder } from './torch_runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const iters = numberArg('iters', quick ? 3 : 10);
const threads = getThreads();

const bert = (L, C, NH, FF) => ({ architecture: 'bert', vocabSize: 30522, hiddenSize: C, numLayers: L, numHeads: NH, intermediateSize: FF, maxPositions: 512, numLabels: 20 });
const cases = [
  { name: 'BERT L4 H256', config: bert(4, 256, 4, 1024), B: 32, T: 128, pooling: 'pooler' },
  // the trainer's `tiny` preset (lib/trainer.ts MODEL_PRESETS.tiny)
  { name: 'tiny (L2 H64, mean)', config: { ...bert(2, 64, 4, 256), pooling: 'mean' }, B: 32, T: 128, pooling: 'mean' },
  { name: 'BERT-base L12 H768', config: bert(12, 768, 12, 3072), B: 8, T: 128, pooling: 'pooler' },
];
if (quick) cases.splice(2);

function worker(engine, dir, c) {
  const r = spawnSync(process.execPath, [join(here, 'inference_worker.mjs'), engine, dir, c.B, c.T, iters, threads], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

console.log(`inference, ${threads} threads, SGEMM ${deviceInfo().sgemm}; median of ${iters} forwards; peak RSS per process`);
const rows = [];
const work = mkdtempSync(join(tmpdir(), 'fml-infer-'));
try {
  for (const c of cases) {
    const dir = join(work, c.name.replace(/\W+/g, '_'));
    const enc = await Encoder.create(c.config, { device: 'cpu', seed: 7 });
    await enc.save(dir);
    enc.dispose();
    const ours = worker('ours', dir, c);
    const exp = torchEncoder(['onnx', dir, join(dir, 'model.onnx'), c.pooling]);
    const ort = exp.error ? { error: `export skipped: ${exp.error}` } : worker('ort', dir, c);
    const row = { model: `${c.name} B${c.B} T${c.T}` };
    if (ours.error) {
      rows.push({ ...row, 'ours s/batch': `failed: ${ours.error}` });
      continue;
    }
    row['ours s/batch'] = ours.seconds.toFixed(4);
    row['ours seq/s'] = Math.round(c.B / ours.seconds);
    row['ours peak RSS MB'] = Math.round(ours.maxRssMb);
    if (ort.error) {
      row['onnxruntime'] = ort.error;
    } else {
      let diff = 0;
      for (let i = 0; i < ours.logits.length; i++) diff = Math.max(diff, Math.abs(ours.logits[i] - ort.logits[i]));
      row['ort s/batch'] = ort.seconds.toFixed(4);
      row['ort peak RSS MB'] = Math.round(ort.maxRssMb);
      row['speed ours/ort'] = (ort.seconds / ours.seconds).toFixed(2) + '×';
      row['RSS ours/ort'] = (ours.maxRssMb / ort.maxRssMb).toFixed(2);
      row['max |Δlogit|'] = diff.toExponential(1) + (diff <= 1e-4 ? ' ok' : ' > 1e-4 MISMATCH');
    }
    rows.push(row);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.table(rows);
