// Padded token batches for the encoder's batch-independence tests (test/encoder/batch_identity and
// attention_infer), one row of such a batch alone, and a bit-for-bit comparison.
import * as assert from 'uvu/assert';

/**
 * Rows padded to T: row b has lengths[b] real tokens (0: none) and a masked hole at holes[b] (-1: none);
 * every id, padding included, drawn from r in [1, V); token types 1 past the middle of the real tokens.
 */
export function paddedBatch(r, T, lengths, holes, V) {
  const B = lengths.length;
  const inputIds = new Int32Array(B * T);
  const attentionMask = new Uint8Array(B * T);
  const tokenTypeIds = new Int32Array(B * T);
  lengths.forEach((len, b) => {
    for (let t = 0; t < T; t++) {
      inputIds[b * T + t] = 1 + Math.floor(r() * (V - 1));
      attentionMask[b * T + t] = t < len && t !== holes[b] ? 1 : 0;
      tokenTypeIds[b * T + t] = t > len / 2 ? 1 : 0;
    }
  });
  return { inputIds, attentionMask, tokenTypeIds, batchSize: B, seqLen: T };
}

/** Row b of a batch as a batch of one, cut or padded (masked) to T positions; tokenTypeIds kept when present. */
export function rowOf(batch, b, T) {
  const S = batch.seqLen;
  const pick = (a, Ctor) => {
    const out = new Ctor(T);
    out.set(a.subarray(b * S, b * S + Math.min(S, T)));
    return out;
  };
  const tokenTypeIds = batch.tokenTypeIds && pick(batch.tokenTypeIds, Int32Array);
  return { inputIds: pick(batch.inputIds, Int32Array), attentionMask: pick(batch.attentionMask, Uint8Array), tokenTypeIds, batchSize: 1, seqLen: T };
}

/** Index of the first element that differs (=== on every element), or -1. */
export function firstDifference(a, b) {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!(a[i] === b[i])) return i;
  return -1;
}

export function assertBitwise(actual, expected, label) {
  const i = firstDifference(actual, expected);
  assert.ok(i < 0, `${label}: element ${i} is ${actual[i]}, a lone call gives ${expected[i]}`);
}
