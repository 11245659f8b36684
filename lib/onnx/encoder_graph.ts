/**
 * The encoder's inference forward (native/model/encoder.cpp without dropout) as an ONNX graph:
 *
 *   emb     = wte[input_ids] + wpe[0..T) (+ wtt[token_type_ids], BERT), LayerNorm
 *   layer   = post-LN: x1 = LN(x + O·attn(Q x, K x, V x)), x = LN(x1 + W2·gelu(W1·x1))
 *   attn    = softmax(q·kᵀ/√HS, with the scores of padded keys replaced by the most negative float)·v
 *   gelu    = 0.5·x·(1 + erf(x/√2))
 *   pooling = first token (cls), mean over tokens with mask 1 (a row without any: 0), or the
 *             architecture's head on the first token (pooler: BERT dense + tanh, DistilBERT
 *             pre_classifier + ReLU)
 *   logits  = classifier(pooled)
 *
 * LayerNorm is the LayerNormalization op from opset 17 and ReduceMean/Sqrt arithmetic before it.
 * Linear weights (PyTorch layout out×in) are stored transposed, so every projection is one MatMul + Add.
 */
import type { EncoderConfig } from '../encoder_config.js';
import { GraphBuilder, float, int, ints, type ModelGraph, type ValueSpec } from './graph.js';

/** The most negative float32 (Hugging Face's torch.finfo(float32).min; the native kernel's mask value). */
const MASKED_SCORE = -3.4028234663852886e38;

/**
 * Builds the graph of an encoder from its config and parameters (by Hugging Face name, as
 * Encoder.parameters() returns them). Inputs input_ids, attention_mask (and token_type_ids for BERT),
 * int64 [batch, sequence]; output logits, float32 [batch, numLabels].
 */
export function encoderGraph(c: Required<EncoderConfig>, params: ReadonlyMap<string, Float32Array>, opset: number): ModelGraph {
  const g = new GraphBuilder(opset);
  const C = c.hiddenSize, NH = c.numHeads, HS = C / NH;
  const bert = c.architecture === 'bert';
  const param = (name: string): Float32Array => {
    const p = params.get(name);
    if (!p) throw new Error(`encoderGraph: no parameter "${name}"`);
    return p;
  };
  const vector = (name: string) => g.init(name, [param(name).length], param(name));
  // Linear layer: x·Wᵀ + b with W (out, in) stored as Wᵀ (in, out).
  const linear = (x: string, prefix: string, inDim: number, outDim: number) => g.linear(x, prefix, param(`${prefix}.weight`), param(`${prefix}.bias`), inDim, outDim);
  const layerNorm = (x: string, prefix: string) => {
    const w = vector(`${prefix}.weight`), b = vector(`${prefix}.bias`);
    if (opset >= 17) return g.op('LayerNormalization', [x, w, b], { axis: int(-1), epsilon: float(c.layerNormEps) });
    const d = g.op('Sub', [x, g.op('ReduceMean', [x], { axes: ints([-1]), keepdims: int(1) })]);
    const variance = g.op('ReduceMean', [g.op('Mul', [d, d])], { axes: ints([-1]), keepdims: int(1) });
    const norm = g.op('Div', [d, g.op('Sqrt', [g.op('Add', [variance, g.f32(c.layerNormEps)])])]);
    return g.op('Add', [g.op('Mul', [norm, w]), b]);
  };

  const P = bert ? 'bert.' : 'distilbert.';
  const inputs: ValueSpec[] = [
    { name: 'input_ids', type: 'int64', dims: ['batch', 'sequence'] },
    { name: 'attention_mask', type: 'int64', dims: ['batch', 'sequence'] },
  ];
  if (bert) inputs.push({ name: 'token_type_ids', type: 'int64', dims: ['batch', 'sequence'] });

  // embeddings
  const emb = (name: string, rows: number) => g.init(`${P}embeddings.${name}.weight`, [rows, C], param(`${P}embeddings.${name}.weight`));
  const seqLen = g.op('Slice', [g.op('Shape', ['input_ids']), g.i64([1]), g.i64([2]), g.i64([0])]);
  const positions = g.op('Slice', [emb('position_embeddings', c.maxPositions), g.i64([0]), seqLen, g.i64([0])]);
  let x = g.op('Add', [g.op('Gather', [emb('word_embeddings', c.vocabSize), 'input_ids'], { axis: int(0) }), positions]);
  if (bert) x = g.op('Add', [x, g.op('Gather', [emb('token_type_embeddings', c.typeVocabSize), 'token_type_ids'], { axis: int(0) })]);
  x = layerNorm(x, `${P}embeddings.LayerNorm`);

  // key-padding mask, broadcast over heads and query positions: [batch, 1, 1, sequence]
  const keep = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: int(9) /* BOOL */ }), g.i64([1, 2])]);
  const heads = (t: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [t, g.i64([0, 0, NH, HS])])], { perm: ints(perm) });
  for (let l = 0; l < c.numLayers; l++) {
    const L = bert ? `${P}encoder.layer.${l}.` : `${P}transformer.layer.${l}.`;
    const names = bert
      ? { q: 'attention.self.query', k: 'attention.self.key', v: 'attention.self.value', o: 'attention.output.dense', ln1: 'attention.output.LayerNorm', f1: 'intermediate.dense', f2: 'output.dense', ln2: 'output.LayerNorm' }
      : { q: 'attention.q_lin', k: 'attention.k_lin', v: 'attention.v_lin', o: 'attention.out_lin', ln1: 'sa_layer_norm', f1: 'ffn.lin1', f2: 'ffn.lin2', ln2: 'output_layer_norm' };
    const q = heads(linear(x, L + names.q, C, C), [0, 2, 1, 3]);
    const kT = heads(linear(x, L + names.k, C, C), [0, 2, 3, 1]);
    const v = heads(linear(x, L + names.v, C, C), [0, 2, 1, 3]);
    const scores = g.op('Where', [keep, g.op('Mul', [g.op('MatMul', [q, kT]), g.f32(1 / Math.sqrt(HS))]), g.f32(MASKED_SCORE)]);
    const probs = g.op('Softmax', [scores], { axis: int(-1) });
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: ints([0, 2, 1, 3]) }), g.i64([0, 0, C])]);
    const x1 = layerNorm(g.op('Add', [x, linear(ctx, L + names.o, C, C)]), L + names.ln1);
    const h = linear(x1, L + names.f1, C, c.intermediateSize);
    const gelu = g.op('Mul', [g.op('Mul', [h, g.f32(0.5)]), g.op('Add', [g.op('Erf', [g.op('Mul', [h, g.f32(Math.SQRT1_2)])]), g.f32(1)])]);
    x = layerNorm(g.op('Add', [x1, linear(gelu, L + names.f2, c.intermediateSize, C)]), L + names.ln2);
  }

  // pooling and the head
  let pooled: string;
  if (c.pooling === 'mean') {
    const m = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: int(1) /* FLOAT */ }), g.i64([2])]);
    const sum = g.op('ReduceSum', [g.op('Mul', [x, m]), g.i64([1])], { keepdims: int(0) });
    const count = g.op('ReduceSum', [m, g.i64([1])], { keepdims: int(0) });
    pooled = g.op('Div', [sum, g.op('Max', [count, g.f32(1)])]);
  } else {
    pooled = g.op('Gather', [x, g.scalarI64(0)], { axis: int(1) });
  }
  if (c.pooling === 'pooler') {
    const dense = linear(pooled, bert ? 'bert.pooler.dense' : 'pre_classifier', C, C);
    pooled = g.op(bert ? 'Tanh' : 'Relu', [dense]);
  }
  const head = linear(pooled, 'classifier', C, c.numLabels);
  g.op('Identity', [head], {}, 'logits');
  const outputs: ValueSpec[] = [{ name: 'logits', type: 'float32', dims: ['batch', c.numLabels] }];
  const doc = `fused-multilabel ${c.architecture} encoder (${c.numLayers} layers, hidden ${C}, ${c.pooling} pooling), ${c.numLabels} multi-label logits`;
  return { model: g.encode(`${c.architecture}_multilabel`, inputs, outputs, doc), inputs, outputs };
}
