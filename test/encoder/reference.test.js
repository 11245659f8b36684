// The tiny BERT and DistilBERT against PyTorch reference states (test/fixtures/gen_encoder.py):
// logits, loss, every parameter gradient by Hugging Face name, and a 10-step AdamW trajectory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Encoder, bceWithLogits, readSafetensors } from '../../dist/index.js';
import { assertClose } from '../helpers/assert.js';
import { cudaTest } from '../helpers/cuda.js';

const FIX = new URL('../fixtures/encoder/', import.meta.url).pathname;

function load(arch) {
  const dir = FIX + arch;
  const ref = JSON.parse(readFileSync(dir + '/reference.json', 'utf8'));
  const batch = {
    inputIds: Int32Array.from(ref.inputIds),
    attentionMask: Uint8Array.from(ref.attentionMask),
    batchSize: ref.batchSize,
    seqLen: ref.seqLen,
  };
  if (arch === 'bert') batch.tokenTypeIds = Int32Array.from(ref.tokenTypeIds);
  return { dir, ref, batch, targets: Float32Array.from(ref.targets) };
}

async function checkLogitsAndGrads(arch, device) {
  const { dir, ref, batch, targets } = load(arch);
  const enc = await Encoder.fromPretrained(dir, { device });
  assert.is(enc.config.architecture, arch);
  assert.is(enc.config.numLabels, 7);
  assert.equal(enc.labels, Array.from({ length: 7 }, (_, i) => `label_${i}`));
  const logits = await enc.forward(batch);
  assertClose(logits, Float32Array.from(ref.logits), { atol: 1e-5, rtol: 0, label: `${arch} logits` });
  const { loss, grad } = bceWithLogits(logits, targets, { grad: true, shape: [ref.batchSize, ref.numLabels] });
  assertClose(loss, ref.loss, { atol: 1e-6, rtol: 1e-6, label: `${arch} loss` });
  await enc.backward(grad);
  const grads = enc.gradients();
  const { tensors } = readSafetensors(dir + '/grads.safetensors');
  assert.is(grads.size, tensors.size, 'every parameter has a reference gradient');
  for (const [name, t] of tensors) {
    assert.ok(grads.has(name), `gradient ${name}`);
    assertClose(grads.get(name), t.data, { atol: 1e-5, rtol: 1e-4, label: name });
  }
  // backward accumulates: a second pass doubles every gradient; zeroGrad clears
  await enc.backward(grad);
  const twice = enc.gradients().get('classifier.weight');
  assertClose(twice, grads.get('classifier.weight').map((x) => 2 * x), { atol: 1e-6, rtol: 1e-5, label: 'accumulated' });
  enc.zeroGrad();
  assert.ok(enc.gradients().get('classifier.weight').every((x) => x === 0));
  enc.dispose();
}

async function checkTrajectory(arch, device) {
  const { dir, ref, batch, targets } = load(arch);
  const enc = await Encoder.fromPretrained(dir, { device });
  const losses = [];
  const norms = [];
  for (let i = 0; i < ref.trajectory.length; i++) {
    const r = await enc.trainStep(batch, targets, undefined, ref.optimizer);
    losses.push(r.loss);
    norms.push(r.gradNorm);
  }
  assertClose(Float64Array.from(losses), Float64Array.from(ref.trajectory), { atol: 2e-5, rtol: 1e-4, label: `${arch} losses` });
  assertClose(Float64Array.from(norms), Float64Array.from(ref.gradNorms), { atol: 1e-4, rtol: 1e-3, label: `${arch} grad norms` });
  assert.ok(losses[9] < losses[0] - 0.2, 'the loss goes down');
  enc.dispose();
}

for (const arch of ['bert', 'distilbert']) {
  test(`${arch}: logits, loss and every gradient match PyTorch`, () => checkLogitsAndGrads(arch, 'cpu'));
  test(`${arch}: 10 AdamW steps with clipping match PyTorch`, () => checkTrajectory(arch, 'cpu'));
  cudaTest(test, `${arch} on CUDA: logits, loss and every gradient match PyTorch`, () => checkLogitsAndGrads(arch, 'cuda'));
  cudaTest(test, `${arch} on CUDA: 10 AdamW steps match PyTorch`, () => checkTrajectory(arch, 'cuda'));
}

test.run();
