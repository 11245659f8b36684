// Finite-difference checks of the backward pass on a tiny random encoder (every pooling mode, both
// architectures), for a few entries of each kind of parameter. Loss = Σ w ⊙ logits, so dlogits = w.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder } from '../../dist/index.js';
import { mulberry32 } from '../../dist/random.js';

function tinyBatch(B, T, V, r) {
  const inputIds = new Int32Array(B * T);
  const attentionMask = new Uint8Array(B * T);
  for (let b = 0; b < B; b++) {
    const len = T - b;  // some padding
    for (let t = 0; t < T; t++) {
      inputIds[b * T + t] = t < len ? 1 + Math.floor(r() * (V - 1)) : 0;
      attentionMask[b * T + t] = t < len ? 1 : 0;
    }
  }
  return { inputIds, attentionMask, batchSize: B, seqLen: T };
}

async function gradcheck(arch, pooling) {
  const r = mulberry32(7);
  const config = {
    architecture: arch, vocabSize: 20, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 12,
    maxPositions: 6, numLabels: 3, pooling, hiddenDropout: 0, attentionDropout: 0, classifierDropout: 0,
  };
  const enc = await Encoder.create(config, { device: 'cpu', seed: 3 });
  // Larger weights than the 0.02 init, so every path carries signal.
  const params = enc.parameters();
  for (const [name, p] of params) for (let i = 0; i < p.length; i++) p[i] = name.includes('LayerNorm') || name.includes('layer_norm') ? 1 + 0.3 * (r() - 0.5) : 0.6 * (r() - 0.5);
  enc.setParameters(params);
  const batch = tinyBatch(3, 5, 20, r);
  if (arch === 'bert') batch.tokenTypeIds = Int32Array.from({ length: 15 }, (_, i) => (i % 5 > 2 ? 1 : 0));
  const w = Float32Array.from({ length: 9 }, () => r() - 0.5);
  const lossOf = async () => {
    const z = await enc.forward(batch);
    let s = 0;
    for (let i = 0; i < z.length; i++) s += w[i] * z[i];
    return s;
  };
  await lossOf();
  enc.zeroGrad();
  await enc.backward(w);
  const grads = enc.gradients();
  const base = enc.parameters();
  const eps = 1e-2;
  let checked = 0;
  for (const [name, p] of base) {
    const g = grads.get(name);
    // a few entries per tensor: the largest-gradient one and two random ones
    let imax = 0;
    for (let i = 0; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[imax])) imax = i;
    for (const i of [imax, Math.floor(r() * p.length), Math.floor(r() * p.length)]) {
      const orig = p[i];
      p[i] = orig + eps;
      enc.setParameters(new Map([[name, p]]));
      const up = await lossOf();
      p[i] = orig - eps;
      enc.setParameters(new Map([[name, p]]));
      const down = await lossOf();
      p[i] = orig;
      enc.setParameters(new Map([[name, p]]));
      const fd = (up - down) / (2 * eps);
      const tol = 3e-3 + 3e-2 * Math.abs(fd);
      assert.ok(Math.abs(fd - g[i]) <= tol, `${arch}/${pooling} ${name}[${i}]: analytic ${g[i]} vs finite difference ${fd}`);
      checked++;
    }
  }
  assert.ok(checked > 40);
  enc.dispose();
}

for (const arch of ['bert', 'distilbert'])
  for (const pooling of ['pooler', 'cls', 'mean']) test(`${arch} with pooling '${pooling}': gradients match finite differences`, () => gradcheck(arch, pooling));

test.run();
