// The masked-LM head (BertForMaskedLM / DistilBertForMaskedLM) against PyTorch reference states
// (test/fixtures/gen_mlm.py): the loss, every gradient by Hugging Face name (the tied word embeddings get
// the lookup's and the decoder's), a 5-step AdamW trajectory; loading, saving and the rejections.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder, readSafetensors } from '../../dist/index.js';
import { assertClose, assertRejectsCode } from '../helpers/assert.js';
import { cudaTest } from '../helpers/cuda.js';

const FIX = new URL('../fixtures/encoder/', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'fml-mlm-'));

function load(arch) {
  const dir = FIX + arch + '_mlm';
  const ref = JSON.parse(readFileSync(dir + '/reference.json', 'utf8'));
  const batch = { inputIds: Int32Array.from(ref.inputIds), attentionMask: Uint8Array.from(ref.attentionMask), batchSize: ref.batchSize, seqLen: ref.seqLen };
  if (arch === 'bert') batch.tokenTypeIds = Int32Array.from(ref.tokenTypeIds);
  return { dir, ref, batch, labels: Int32Array.from(ref.labels) };
}

for (const arch of ['bert', 'distilbert']) {
  const wte = `${arch}.embeddings.word_embeddings.weight`;

  const lossAndGrads = async (device) => {
    const { dir, ref, batch, labels } = load(arch);
    const enc = await Encoder.fromPretrained(dir, { device, head: 'masked-lm' });
    assert.is(enc.config.head, 'masked-lm');
    const { tensors: weights } = readSafetensors(dir + '/model.safetensors');
    assert.equal([...enc.parameters().keys()].sort(), [...weights.keys()].sort(), 'the parameter names are the checkpoint\'s');
    const r = await enc.mlmStep(batch, labels);
    assert.is(r.count, ref.count);
    assertClose(r.loss, ref.loss, { atol: 1e-5, rtol: 1e-5, label: 'loss' });
    const grads = enc.gradients();
    const { tensors } = readSafetensors(dir + '/grads.safetensors');
    for (const [name, t] of tensors) assertClose(grads.get(name), t.data, { atol: 1e-5, rtol: 1e-4, label: name });
    // the [PAD] row (a label in the fixture) gets the decoder's gradient though the lookup skips it
    const C = enc.config.hiddenSize;
    assert.ok(grads.get(wte).subarray(0, C).some((x) => x !== 0), '[PAD] row has the decoder gradient');
    // no optimizer: nothing changed
    assert.equal(enc.parameters().get(wte), weights.get(wte).data);
    enc.dispose();
  };
  const trajectory = async (device) => {
    const { dir, ref, batch, labels } = load(arch);
    const enc = await Encoder.fromPretrained(dir, { device, head: 'masked-lm' });
    for (let i = 0; i < ref.trajectory.length; i++) {
      const r = await enc.mlmStep(batch, labels, ref.optimizer);
      assertClose(r.loss, ref.trajectory[i], { atol: 1e-4, rtol: 1e-4, label: `loss at step ${i}` });
      assertClose(r.gradNorm, ref.gradNorms[i], { atol: 1e-4, rtol: 1e-4, label: `grad norm at step ${i}` });
    }
    enc.dispose();
  };
  test(`${arch}: masked-LM loss and every gradient match PyTorch`, () => lossAndGrads('cpu'));
  test(`${arch}: 5 masked-LM AdamW steps with clipping follow PyTorch`, () => trajectory('cpu'));
  cudaTest(test, `${arch} on CUDA: masked-LM loss and every gradient match PyTorch`, () => lossAndGrads('cuda'));
  cudaTest(test, `${arch} on CUDA: 5 masked-LM AdamW steps follow PyTorch`, () => trajectory('cuda'));

  test(`${arch}: a masked-LM checkpoint saves with Hugging Face names and loads as a classifier`, async () => {
    const { dir } = load(arch);
    const enc = await Encoder.fromPretrained(dir, { device: 'cpu', head: 'masked-lm' });
    const out = join(scratch, arch);
    await enc.save(out);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.equal(cfg.architectures, [arch === 'bert' ? 'BertForMaskedLM' : 'DistilBertForMaskedLM']);
    assert.is(cfg.tie_word_embeddings, true);
    assert.is(cfg.id2label, undefined);
    const saved = readSafetensors(join(out, 'model.safetensors')).tensors;
    const orig = readSafetensors(dir + '/model.safetensors').tensors;
    assert.equal([...saved.keys()].sort(), [...orig.keys()].sort(), 'the same names (no decoder.weight: tied)');
    for (const [name, t] of orig) assert.equal(saved.get(name).data, t.data, name);
    // {pretrained} loads it as a classifier: the encoder's weights, the MLM head skipped, a fresh classifier
    const cls = await Encoder.fromPretrained(out, { device: 'cpu', numLabels: 3 });
    assert.is(cls.config.head, 'classification');
    const p = cls.parameters();
    assert.ok(![...p.keys()].some((n) => n.startsWith('cls.') || n.startsWith('vocab_')), 'no MLM head');
    assert.equal(p.get(wte), orig.get(wte).data);
    assert.is(p.get('classifier.weight').length, 3 * enc.config.hiddenSize);
    // a classification checkpoint loads with a fresh masked-LM head
    const back = await Encoder.fromPretrained(FIX + arch, { device: 'cpu', head: 'masked-lm' });
    assert.ok(back.parameters().has(arch === 'bert' ? 'cls.predictions.bias' : 'vocab_projector.bias'));
    for (const e of [enc, cls, back]) e.dispose();
  });
}

test('masked-LM rejections: wrong head, labels, no labelled position', async () => {
  const { dir, batch, labels } = load('bert');
  const mlm = await Encoder.fromPretrained(dir, { device: 'cpu', head: 'masked-lm' });
  const cls = await Encoder.fromPretrained(FIX + 'bert', { device: 'cpu' });
  await assertRejects(() => cls.mlmStep(batch, labels), RangeError, /head 'masked-lm'/);
  await assertRejects(() => mlm.mlmStep(batch, labels.subarray(1)), TypeError, /labels/);
  await assertRejects(() => mlm.mlmStep(batch, Int32Array.from(labels, (x, i) => (i === 3 ? 100 : x))), RangeError, /labels\[3\] is 100/);
  await assertRejects(() => mlm.forward(batch), RangeError, /masked-LM head/);
  await assertRejects(() => Encoder.fromPretrained(dir, { head: 'lm' }), TypeError, /options\.head/);
  const before = mlm.parameters();
  const none = await mlm.mlmStep(batch, new Int32Array(labels.length).fill(-100), { lr: 1e-2 });
  assert.equal([none.loss, none.count], [0, 0]);
  assert.equal(mlm.parameters(), before, 'nothing to predict: no update');
  mlm.dispose();
  cls.dispose();
});

const assertRejects = (fn, Ctor, re) => assertRejectsCode(fn, 'ERR_INVALID_ARG', Ctor, re);

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
