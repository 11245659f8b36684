// Dropout masks follow the documented Philox4x32-10 definition (native/core/philox.h), checked against
// an independent JavaScript implementation: element i of a site keeps when word i%4 of counter i/4,
// shifted right by 8 and scaled by 2^-24, is >= p. The CUDA twin evaluates the same function; on AVX-512 the
// CPU runs 16 counters per vector (test/encoder/isa.test.js runs this file again on the lower paths).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Encoder } from '../../dist/index.js';
import { loadBinding } from '../../dist/binding.js';
import { useBenchAddonForTests } from '../helpers/bench_addon.js';

const ready = useBenchAddonForTests('the dropout mask test');

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
const keepOfBig = (seed, offset, i, p) => Number(philox4x32(BigInt(seed), BigInt(offset), i >> 2n)[Number(i & 3n)] >> 8n) / 2 ** 24 >= p;

// B × T × C elements of the embedding site; the first token of each row is checked. T 3: one block of 96
// (24 Philox counters: a full 16-counter vector on AVX-512 and a partial one); T 50: 2400 elements over three of
// dropout_keep_cpu's blocks of 1024, the checked rows in the first and third.
for (const [B, T, p] of [[2, 3, 0.5], [3, 50, 0.3]]) test(`embedding dropout (B ${B}, T ${T}, p ${p}) of the first training step matches Philox(seed, step 1 << 8 | site 0, index)`, async () => {
  const C = 16, seed = 12345;
  const enc = await Encoder.create(
    { architecture: 'bert', vocabSize: 10, hiddenSize: C, numLayers: 0, numHeads: 2, intermediateSize: 4, maxPositions: 64, numLabels: C,
      pooling: 'cls', hiddenDropout: p, attentionDropout: 0, classifierDropout: 0 },
    { device: 'cpu', seed },
  );
  // identity classifier: the logits are the first token's (dropped) hidden state
  const eye = new Float32Array(C * C);
  for (let i = 0; i < C; i++) eye[i * C + i] = 1;
  enc.setParameters(new Map([['classifier.weight', eye]]));
  const batch = { inputIds: Int32Array.from({ length: B * T }, (_, i) => 1 + (i % 9)), attentionMask: new Uint8Array(B * T).fill(1), batchSize: B, seqLen: T };
  const ev = await enc.forward(batch);
  const tr = await enc.forward(batch, { train: true });
  let kept = 0;
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      const i = b * T * C + c;  // element index of x0[b, 0, c]
      const keep = keepOf(seed, 1 << 8, i, p);
      const expected = keep ? ev[b * C + c] / Math.fround(1 - p) : 0;
      assert.ok(Math.abs(tr[b * C + c] - expected) <= 1e-6 * Math.abs(expected) + 1e-7, `[${b},${c}] keep=${keep}: ${tr[b * C + c]} vs ${expected}`);
      kept += keep ? 1 : 0;
    }
  assert.ok(kept > B * C * (1 - p) * 0.4 && kept < B * C * (1 - p) * 1.6, `kept ${kept} of ${B * C}`);
});

// Every element of dropout_keep_cpu's masks (the benchmark addon's _dropoutKeep): a start inside a counter's 4
// words, fewer than 16 counters (a partial AVX-512 vector), several blocks of 1024, and counters whose low word
// wraps past 2^32 inside one vector (the high word carries).
if (ready) test('dropout_keep_cpu: every element equals the Philox definition', () => {
  const b = loadBinding();
  const seed = 2 ** 40 + 77, offset = (5 << 8) | 3;
  for (const [first, n, p] of [[0, 24, 0.1], [3, 37, 0.5], [1021, 3000, 0.25], [4 * (2 ** 32 - 9) + 2, 200, 0.5], [2 ** 45 + 1, 70, 0.9]]) {
    const keep = b._dropoutKeep(n, p, seed, offset, first);
    const scale = Math.fround(1 / Math.fround(1 - Math.fround(p)));
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const k = keepOfBig(seed, offset, BigInt(first) + BigInt(i), Math.fround(p));
      if (keep[i] !== (k ? scale : 0)) assert.unreachable(`first ${first} p ${p}: element ${i} is ${keep[i]}, Philox says ${k ? 'keep' : 'drop'}`);
      kept += k ? 1 : 0;
    }
    assert.ok(kept > 0 && kept < n, `first ${first}: some kept, some dropped (${kept} of ${n})`);
  }
});

test.run();
