#!/usr/bin/env node
/*
 * `npm run bench -- train`: end-to-end training speed on the bundled data (examples/tickets.csv,
 * iterative 60/20/20 split, partial rows masked). The tiny model (2 layers, hidden 64, 4 heads, FFN 256,
 * mean pooling), BCE, AdamW, clipping, warm-up + linear decay, batch 8, trained by this package's
 * Trainer and by the same model in PyTorch eager (bench/torch_train.py, when torch imports) on the same
 * token ids, batched the same way (texts of similar length together, `--bucket`) and the same thread count. Reports examples/s per epoch (tokenisation and batching included
 * on both sides; validation excluded) and the wall time each needs to first reach a validation macro-F1
 * (at threshold 0.5) that both reach.
 *
 *   npm run bench -- train                 5 epochs
 *   EPOCHS=8 npm run bench -- train
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset, iterativeStratifiedSplit, encodeTargets, Tokenizer, Trainer, MODEL_PRESETS, getThreads, deviceInfo } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const EPOCHS = Number(process.env.EPOCHS || 5);
const BATCH = 8;
const LR = 2e-3;
const MAX_LEN = 128;
const threads = getThreads();

const ds = readDataset(join(root, 'examples', 'tickets.csv'), { partial: true });
for (const r of ds.rows) if (r.negatives.length === 0) delete r.negatives;
const split = iterativeStratifiedSplit(ds.rows, { seed: 42 });
const labelSet = ds.labelSet;
const info = deviceInfo();
console.log(`training benchmark: ${split.train.length} training rows, ${labelSet.length} labels, tiny model, batch ${BATCH}, ${EPOCHS} epochs, ${threads} threads (${info.threads.backend}, BLAS ${info.blas})`);

// ---- this package
const t0 = Date.now();
const ours = [];
const trainer = new Trainer({
  model: 'tiny', loss: 'bce', epochs: EPOCHS, batchSize: BATCH, lr: LR, maxLength: MAX_LEN, seed: 42, earlyStopping: false, device: 'cpu',
  onProgress: (p) => {
    if (p.phase === 'validate') ours.push({ epoch: p.epoch, elapsed: (Date.now() - t0) / 1000, macroF1: p.valMacroF1, microF1: p.valMicroF1 });
  },
});
const hist = await trainer.fit({ rows: split.train, labelSet }, { rows: split.val, labelSet });
const loadOurs = loadavg()[0];
hist.epochs.forEach((e, i) => Object.assign(ours[i], { seconds: e.seconds, examplesPerSec: e.examplesPerSec, trainLoss: e.trainLoss }));

// ---- PyTorch on the same token ids
function findTorchPython() {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { py, version: r.stdout.trim() };
  }
  return null;
}
const torch = findTorchPython();
let theirs = null;
if (torch) {
  const tok = Tokenizer.train(split.train.map((r) => r.text), { vocabSize: 8000 });
  const pack = (rows) => {
    const b = tok.encodeBatch(rows.map((r) => r.text), { maxLength: MAX_LEN, padding: 'longest', truncation: true });
    const ids = [];
    for (let i = 0; i < b.batchSize; i++) {
      const row = [];
      for (let j = 0; j < b.seqLen; j++) if (b.attentionMask[i * b.seqLen + j]) row.push(b.inputIds[i * b.seqLen + j]);
      ids.push(row);
    }
    const t = encodeTargets(rows, labelSet);
    const targets = [];
    for (let i = 0; i < rows.length; i++) targets.push(Array.from(t.subarray(i * labelSet.length, (i + 1) * labelSet.length)));
    return { ids, targets };
  };
  const cfg = { ...MODEL_PRESETS.tiny, vocabSize: tok.vocabSize, numLabels: labelSet.length };
  const dir = mkdtempSync(join(tmpdir(), 'fml-bench-'));
  const file = join(dir, 'data.json');
  writeFileSync(file, JSON.stringify({ config: cfg, train: pack(split.train), val: pack(split.val) }));
  const r = spawnSync(
    torch.py,
    [join(root, 'bench', 'torch_train.py'), '--data', file, '--threads', String(threads), '--epochs', String(EPOCHS), '--batch-size', String(BATCH), '--lr', String(LR), '--seed', '42', '--bucket'],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  rmSync(dir, { recursive: true, force: true });
  var loadTorch = loadavg()[0];
  if (r.status !== 0) console.log(`PyTorch run failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
  else theirs = JSON.parse(r.stdout.trim().split('\n').pop());
} else console.log('PyTorch: not importable (install python3-torch); comparison skipped');

// ---- report
const fmt = (x, d = 1) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));
console.log('\nepoch | fused-multilabel ex/s  val macro-F1 | PyTorch ex/s  val macro-F1');
for (let i = 0; i < EPOCHS; i++) {
  const a = ours[i];
  const b = theirs?.epochs[i];
  console.log(`${String(i + 1).padStart(5)} | ${fmt(a?.examplesPerSec, 0).padStart(21)}  ${fmt(a?.macroF1, 3).padStart(12)} | ${fmt(b?.examplesPerSec, 0).padStart(12)}  ${fmt(b?.val?.macroF1, 3).padStart(12)}`);
}
const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
// steady state: epochs after the first (allocation, caches)
const oursEps = mean(ours.slice(1).map((e) => e.examplesPerSec));
const summary = { threads, epochs: EPOCHS, trainRows: split.train.length, ours: { examplesPerSec: oursEps, finalValMacroF1: ours[EPOCHS - 1].macroF1, seconds: hist.seconds } };
console.log(`\nfused-multilabel: ${oursEps.toFixed(0)} examples/s (epochs 2..${EPOCHS}), final val macro-F1 ${ours[EPOCHS - 1].macroF1.toFixed(3)} (1-min load average after the run: ${loadOurs.toFixed(2)})`);
if (theirs) {
  const theirEps = mean(theirs.epochs.slice(1).map((e) => e.examplesPerSec));
  const target = Math.min(Math.max(...ours.map((e) => e.macroF1)), Math.max(...theirs.epochs.map((e) => e.val.macroF1)));
  const firstOurs = ours.find((e) => e.macroF1 >= target - 1e-9);
  const firstTheirs = theirs.epochs.find((e) => e.val.macroF1 >= target - 1e-9);
  // our elapsed includes validation; PyTorch's 'elapsed' does not, so compare training seconds only
  const oursTrainTime = ours.slice(0, firstOurs.epoch).reduce((s, e) => s + e.seconds, 0);
  const theirsTrainTime = theirs.epochs.slice(0, firstTheirs.epoch).reduce((s, e) => s + e.seconds, 0);
  console.log(`PyTorch ${torch.version}: ${theirEps.toFixed(0)} examples/s, final val macro-F1 ${theirs.epochs[EPOCHS - 1].val.macroF1.toFixed(3)} (load average after the run: ${loadTorch.toFixed(2)})`);
  if (loadOurs > threads + 0.5 || loadTorch > threads + 0.5) console.log(`note: the machine was busy (load average above ${threads} threads): both figures are pessimistic, PyTorch's OpenMP most`);
  console.log(`speed ratio (fused-multilabel / PyTorch): ${(oursEps / theirEps).toFixed(2)}x`);
  console.log(
    `time to val macro-F1 >= ${target.toFixed(3)} (training time only): fused-multilabel ${oursTrainTime.toFixed(1)} s (epoch ${firstOurs.epoch}), PyTorch ${theirsTrainTime.toFixed(1)} s (epoch ${firstTheirs.epoch})`,
  );
  Object.assign(summary, { loadAverage: { ours: loadOurs, torch: loadTorch }, torch: { version: torch.version, examplesPerSec: theirEps, finalValMacroF1: theirs.epochs[EPOCHS - 1].val.macroF1 }, ratio: oursEps / theirEps, target, timeToTarget: { ours: oursTrainTime, torch: theirsTrainTime } });
}
console.log(JSON.stringify(summary));
trainer.dispose();
