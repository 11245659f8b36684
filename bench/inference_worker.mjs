// Child process of bench/inference.bench.mjs: loads one saved encoder into one engine, times forwards
// and prints {"seconds": median per batch, "maxRssMb": this process's peak resident memory, "logits": [...]}.
//   node bench/inference_worker.mjs ours|ort MODEL_DIR B T ITERS THREADS PADDED (1: the second half of the batch
//   padded over its last quarter, 1/8 of the tokens; 0: every token real)
import { peakRssMb } from './torch_runner.mjs';

const [engine, dir, B, T, iters, threads, padded] = process.argv.slice(2).map((v, i) => (i < 2 ? v : Number(v)));
const n = B * T;
const ids = Int32Array.from({ length: n }, (_, i) => (i % T === 0 ? 101 : 1 + ((i * 7919) % 30000)));
const mask = Uint8Array.from({ length: n }, (_, i) => (padded && ((i / T) | 0) >= B / 2 && i % T >= (T * 3) / 4 ? 0 : 1));

let run;
if (engine === 'ours') {
  const { Encoder, setThreads } = await import('../dist/index.js');
  setThreads(threads);
  const enc = await Encoder.fromPretrained(dir, { device: 'cpu' });
  const batch = { inputIds: ids, attentionMask: mask, batchSize: B, seqLen: T };
  run = () => enc.forward(batch);
} else {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(`${dir}/model.onnx`, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [B, T]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask, BigInt), [B, T]),
  };
  run = async () => (await session.run(feeds)).logits.data;
}

let logits = await run();
await run();
const times = [];
for (let i = 0; i < iters; i++) {
  const t0 = performance.now();
  logits = await run();
  times.push((performance.now() - t0) / 1000);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ seconds: times[times.length >> 1], maxRssMb: peakRssMb(), logits: Array.from(logits) }));
