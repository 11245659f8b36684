/**
 * The n-gram model's inference forward (ngram_model.ts) as an ONNX graph. Hashing has no ONNX (or
 * tokenizer.json) form, so the graph starts from the hashed feature ids (ngram_features.ts's
 * `paddedFeatures`, Classifier.featurize):
 *
 *   input_ids      int64 [batch, features]  bucket ids, a row's padding any id in range (0)
 *   attention_mask int64 [batch, features]  1 for a feature, 0 for padding
 *   n      = Σ_f mask                        (features of the text, repeats counted)
 *   pooled = scale(n) · Σ_f mask·E[input_ids]   scale 1/max(n,1) (mean) or 1/√max(n,1) (sqrt-n):
 *                                            a text without features pools to 0, as the kernel does
 *   act    = ReLU(pooled·Hᵀ + h)             (only with a hidden layer)
 *   logits = act·Wᵀ + b                     float32 [batch, numLabels]
 *          + scale(n) · Σ_f mask·D[input_ids mod direct]   (only with a direct path, D (direct, numLabels))
 *
 * Linear weights (PyTorch layout out×in) are stored transposed (GraphBuilder.linear).
 */
import type { NgramConfig } from '../ngram_model.js';
import { GraphBuilder, int, type ModelGraph, type ValueSpec } from './graph.js';

/**
 * Builds the graph of an n-gram model from its config, label count and parameters (by the names of
 * model.safetensors: embedding.weight, [hidden.weight, hidden.bias], classifier.weight, classifier.bias).
 */
export function ngramGraph(c: NgramConfig, numLabels: number, params: ReadonlyMap<string, Float32Array>, opset: number): ModelGraph {
  const g = new GraphBuilder(opset);
  const param = (name: string): Float32Array => {
    const p = params.get(name);
    if (!p) throw new Error(`ngramGraph: no parameter "${name}"`);
    return p;
  };
  const linear = (x: string, prefix: string, inDim: number, outDim: number) => g.linear(x, prefix, param(`${prefix}.weight`), param(`${prefix}.bias`), inDim, outDim);
  const inputs: ValueSpec[] = [
    { name: 'input_ids', type: 'int64', dims: ['batch', 'features'] },
    { name: 'attention_mask', type: 'int64', dims: ['batch', 'features'] },
  ];

  const rows = g.op('Gather', [g.init('embedding.weight', [c.buckets, c.dim], param('embedding.weight')), 'input_ids'], { axis: int(0) });
  const mask = g.op('Cast', ['attention_mask'], { to: int(1) /* FLOAT */ });
  const maskedSum = (gathered: string) => g.op('ReduceSum', [g.op('Mul', [gathered, g.op('Unsqueeze', [mask, g.i64([2])])]), g.i64([1])], { keepdims: int(0) });
  const n = g.op('Max', [g.op('ReduceSum', [mask, g.i64([1])], { keepdims: int(1) }), g.f32(1)]);
  const denom = c.pooling === 'mean' ? n : g.op('Sqrt', [n]);
  let act = g.op('Div', [maskedSum(rows), denom]);
  let width = c.dim;
  if (c.hidden > 0) {
    act = g.op('Relu', [linear(act, 'hidden', c.dim, c.hidden)]);
    width = c.hidden;
  }
  let logits = linear(act, 'classifier', width, numLabels);
  if (c.direct > 0) {
    const drows = g.op('Gather', [g.init('direct.weight', [c.direct, numLabels], param('direct.weight')), g.op('Mod', ['input_ids', g.i64([c.direct])])], { axis: int(0) });
    logits = g.op('Add', [logits, g.op('Div', [maskedSum(drows), denom])]);
  }
  g.op('Identity', [logits], {}, 'logits');
  const outputs: ValueSpec[] = [{ name: 'logits', type: 'float32', dims: ['batch', numLabels] }];
  const doc = `fused-multilabel hashed n-gram model (${c.buckets} buckets × ${c.dim}, ${c.pooling} pooling${c.hidden ? `, hidden ${c.hidden}` : ''}${c.direct ? `, direct path ${c.direct} rows` : ''}), ${numLabels} multi-label logits; inputs are hashed feature ids (config.json "featurizer")`;
  return { model: g.encode('ngram_multilabel', inputs, outputs, doc), inputs, outputs };
}
