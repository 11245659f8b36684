/**
 * How the Encoder runs concurrent inference requests as few native forwards: the rows of every waiting
 * request are sorted by length and cut into buckets (each padded only to its own longest row), then each
 * bucket's logits go back to their requests' rows. A row's logits do not depend on the bucket it lands in:
 * padding is masked out and every CPU kernel keeps a row's sums in one order whatever the batch and its
 * padded length (SGEMM sums K in fixed blocks, attention's softmax in fixed lanes where padded keys add
 * exact zeros; test/trainer/batch_identity.test.js checks this bit for bit on every CPU path). A row with
 * no real token attends uniformly over all its positions (Hugging Face's convention), so it keeps its own
 * padded length: such rows are bucketed only with rows of that same length.
 */
import type { Batch } from './encoder.js';

/**
 * A padded forward costs rows × longest tokens, plus a fixed cost per native call (the worker round trip,
 * waking the threads, per-call buffers): about 0.2 ms, measured on a 2-core Zen 4 / Xeon VM, i.e. about
 * 10 MFLOP at the ~50 GFLOP/s the encoder's matrix products reach there. In tokens of a given encoder:
 * 10 MFLOP over its FLOPs per token (2 · layers · (4·H² + 2·H·FF)): ~50 tokens for 'tiny', ~2 for 'small',
 * 1 for BERT-base, where padding costs far more than another call.
 */
export function callCostTokens(c: { numLayers: number; hiddenSize: number; intermediateSize: number }): number {
  const flopsPerToken = 2 * Math.max(1, c.numLayers) * (4 * c.hiddenSize ** 2 + 2 * c.hiddenSize * c.intermediateSize);
  return Math.min(256, Math.max(1, Math.round(1e7 / flopsPerToken)));
}

/** Tokens of row `r` that matter: up to its last unmasked position (trailing padding dropped); 0 for a row with none. */
function rowLength(b: Batch, r: number): number {
  for (let t = b.seqLen - 1; t >= 0; t--) if (b.attentionMask[r * b.seqLen + t] !== 0) return t + 1;
  return 0;
}

/**
 * Buckets over rows of lengths `lengths`: row indices sorted by length, cut (at most `maxRows` per
 * bucket) where the padded tokens (each costing `padCost`) plus `callCost` tokens per bucket are least
 * (dynamic programming over the sorted lengths, O(n · maxRows)). With `padCost` 0: the fewest buckets.
 */
export function lengthBuckets(lengths: readonly number[], maxRows: number, callCost: number, padCost = 1): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const n = order.length;
  const best = new Float64Array(n + 1).fill(Infinity);
  const cut = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    const longest = lengths[order[j - 1]];
    for (let i = Math.max(0, j - maxRows); i < j; i++) {
      const c = best[i] + (j - i) * longest * padCost + callCost;
      if (c < best[j]) {
        best[j] = c;
        cut[j] = i;
      }
    }
  }
  const buckets: number[][] = [];
  for (let j = n; j > 0; j = cut[j]) buckets.unshift(order.slice(cut[j], j));
  return buckets;
}

/** Runs the rows of `batches` as length buckets through `forward` and returns each batch's B×K logits. */
export async function forwardBucketed(
  batches: readonly Batch[],
  shape: { numLabels: number; maxRows: number; callCost: number; padCost: number },
  forward: (b: Batch) => Promise<Float32Array>,
): Promise<Float32Array[]> {
  const { numLabels, maxRows, callCost, padCost } = shape;
  const rows: { b: number; r: number; len: number }[] = [];
  const real: number[] = [];
  const empty = new Map<number, number[]>(); // rows without a real token, by their own padded length
  batches.forEach((batch, b) => {
    for (let r = 0; r < batch.batchSize; r++) {
      const len = rowLength(batch, r);
      if (len > 0) real.push(rows.length);
      else empty.set(batch.seqLen, [...(empty.get(batch.seqLen) ?? []), rows.length]);
      rows.push({ b, r, len: len || batch.seqLen });
    }
  });
  const buckets = lengthBuckets(real.map((i) => rows[i].len), maxRows, callCost, padCost).map((bk) => bk.map((k) => real[k]));
  for (const same of empty.values()) for (let i = 0; i < same.length; i += maxRows) buckets.push(same.slice(i, i + maxRows));
  const out = batches.map((batch) => new Float32Array(batch.batchSize * numLabels));
  const typed = batches.some((batch) => batch.tokenTypeIds !== undefined);
  for (const bucket of buckets) {
    const T = Math.max(...bucket.map((i) => rows[i].len));
    const B = bucket.length;
    const ids = new Int32Array(B * T);
    const mask = new Uint8Array(B * T);
    const tt = typed ? new Int32Array(B * T) : undefined;
    bucket.forEach((i, k) => {
      const { b, r, len } = rows[i];
      const src = batches[b];
      const from = r * src.seqLen;
      ids.set(src.inputIds.subarray(from, from + len), k * T);
      mask.set(src.attentionMask.subarray(from, from + len), k * T);
      if (tt && src.tokenTypeIds) tt.set(src.tokenTypeIds.subarray(from, from + len), k * T);
    });
    const logits = await forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: tt, batchSize: B, seqLen: T });
    bucket.forEach((i, k) => out[rows[i].b].set(logits.subarray(k * numLabels, (k + 1) * numLabels), rows[i].r * numLabels));
  }
  return out;
}
