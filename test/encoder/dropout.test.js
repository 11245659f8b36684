// Dropout masks follow the documented Philox4x32-10 definition (native/core/philox.h), checked against
// an independent JavaScript implementation: element i of a site keeps when word i%4 of counter i/4,
// shifted right by 8 and scaled by 2^-24, is >= p. The CUDA twin evaluates the same function.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder } from '../../dist/index.js';

const M = (1n << 32n) - 1n;
function philox4x32(seed, offset, ctr) {
  let c = [ctr & M, (ctr >> 32n) & M, offset & M, (offset >> 32n) & M];
  let k0 = seed & M, k1 = (seed >> 32n) & M;
  for (let r = 0; r < 10; r++) {
    const p0 = 0xd2511f53n * c[0], p1 = 0xcd9e8d57n * c[2];
    c = [((p1 >> 32n) ^ c[1] ^ k0) & M, p1 & M, ((p0 >> 32n) ^ c[3] ^ k1) & M, p0 & M];
    k0 = (k0 + 0x9e3779b9n) & M;
    k1 = (k1 + 0xbb67ae85n) & M;
  }
  return c;
}
const keepOf = (seed, offset, i, p) => Number(philox4x32(BigInt(seed), BigInt(offset), BigInt(i >> 2))[i & 3] >> 8n) / 2 ** 24 >= p;

test('embedding dropout of the first training step matches Philox(seed, step 1 << 8 | site 0, index)', async () => {
  const C = 16, T = 3, B = 2, p = 0.5, seed = 12345;
  const enc = await Encoder.create(
    { architecture: 'bert', vocabSize: 10, hiddenSize: C, numLayers: 0, numHeads: 2, intermediateSize: 4, maxPositions: 4, numLabels: C,
      pooling: 'cls', hiddenDropout: p, attentionDropout: 0, classifierDropout: 0 },
    { device: 'cpu', seed },
  );
  // identity classifier: the logits are the first token's (dropped) hidden state
  const eye = new Float32Array(C * C);
  for (let i = 0; i < C; i++) eye[i * C + i] = 1;
  enc.setParameters(new Map([['classifier.weight', eye]]));
  const batch = { inputIds: Int32Array.from([1, 2, 3, 4, 5, 6]), attentionMask: new Uint8Array(6).fill(1), batchSize: B, seqLen: T };
  const ev = await enc.forward(batch);
  const tr = await enc.forward(batch, { train: true });
  let kept = 0;
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      const i = b * T * C + c;  // element index of x0[b, 0, c]
      const keep = keepOf(seed, 1 << 8, i, p);
      const expected = keep ? ev[b * C + c] * 2 : 0;
      assert.ok(Math.abs(tr[b * C + c] - expected) <= 1e-6 * Math.abs(expected) + 1e-7, `[${b},${c}] keep=${keep}: ${tr[b * C + c]} vs ${expected}`);
      kept += keep ? 1 : 0;
    }
  assert.ok(kept > 4 && kept < 28, `kept ${kept} of 32`);
});

test.run();
