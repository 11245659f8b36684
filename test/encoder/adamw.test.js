// The CPU AdamW (native/ops/adamw_cpu.cpp: 16, 8 or 4 lanes by CPU, the element tail in scalar code) against
// the update of adamw.h emulated in float32 here (Math.fround after every operation: exact for +, −, ×, ÷ and
// √ of floats, whose double result rounds once more to the float one): every parameter's bits after two
// steps, each on the gradients of a backward pass. Vector width must not change a bit, so test/encoder/isa.test.js
// runs this file again with FUSED_MULTILABEL_NO_AVX512=1 and FUSED_MULTILABEL_NO_AVX2=1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder, deviceInfo } from '../../dist/index.js';

const f = Math.fround;
const config = {
  architecture: 'bert', vocabSize: 53, hiddenSize: 24, numLayers: 1, numHeads: 2, intermediateSize: 40,
  maxPositions: 16, numLabels: 3, hiddenDropout: 0, attentionDropout: 0, classifierDropout: 0,
};
const opt = { lr: 0.01, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

function batch(B, T, shift) {
  const inputIds = Int32Array.from({ length: B * T }, (_, i) => 1 + ((i * 7 + shift) % 52));
  const attentionMask = Uint8Array.from({ length: B * T }, (_, i) => (i % T < T - (i % 3) ? 1 : 0));
  return { inputIds, attentionMask, batchSize: B, seqLen: T };
}

test(`AdamW (${deviceInfo().sgemm} CPU) gives the float32 update's bits, tails included`, async () => {
  const enc = await Encoder.create(config, { device: 'cpu', seed: 9 });
  const state = new Map(); // name → { m, v }
  let p = enc.parameters();
  let checked = 0;
  for (let t = 1; t <= 2; t++) {
    enc.zeroGrad();
    const b = batch(4, 7, t);
    await enc.forward(b, { train: true });
    await enc.backward(Float32Array.from({ length: 4 * config.numLabels }, (_, i) => Math.sin(i + t)));
    const grads = enc.gradients();
    await enc.step(opt);
    const after = enc.parameters();
    // bias corrections in double from the float betas, then to float (as PyTorch's Python floats)
    const [b1, b2] = [f(opt.beta1), f(opt.beta2)];
    const bc1 = f(1 - b1 ** t);
    const bc2Sqrt = f(Math.sqrt(1 - b2 ** t));
    const decay = f(1 - f(f(opt.lr) * f(opt.weightDecay)));
    const step = f(f(opt.lr) / bc1);
    const [b1c, b2c] = [f(1 - b1), f(1 - b2)];
    for (const [name, p0] of p) {
      const g = grads.get(name);
      if (!state.has(name)) state.set(name, { m: new Float32Array(p0.length), v: new Float32Array(p0.length) });
      const { m, v } = state.get(name);
      const q = after.get(name);
      for (let i = 0; i < p0.length; i++) {
        const x = f(p0[i] * decay);
        m[i] = f(f(b1 * m[i]) + f(b1c * g[i]));
        v[i] = f(f(b2 * v[i]) + f(f(b2c * g[i]) * g[i]));
        const denom = f(f(f(Math.sqrt(v[i])) / bc2Sqrt) + f(opt.eps));
        const want = f(x - f(step * f(m[i] / denom)));
        if (!Object.is(q[i], want)) assert.unreachable(`step ${t}, ${name}[${i}]: ${q[i]} !== ${want}`);
      }
      checked += p0.length;
    }
    p = after;
  }
  assert.ok(checked > 2 * 3000, `${checked} parameter values checked`);
  enc.dispose();
});

test.run();
