// Deterministic inputs shared with test/fixtures/gen_losses.py (the same integer hash), so the fixture
// stores only reference outputs.
import { readFileSync } from 'node:fs';

export function hash32(i, seed) {
  let h = (Math.imul(i, 2654435761 | 0) + Math.imul(seed, 97531) + 12345) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, 2246822519 | 0) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  return h;
}

export const unit = (i, seed) => (hash32(i, seed) >>> 8) / 16777216;

export function inputs(N, K, hard) {
  const n = N * K;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = i % 53 === 0 ? (hash32(i, 9) & 1 ? 25 : -25) : unit(i, 1) * 16 - 8;
    y[i] = hard ? ((hash32(i, 2) >>> 8) % 100 < 30 ? 1 : 0) : unit(i, 2);
  }
  return { x, y };
}

export const weights = (n, seed) => Float32Array.from({ length: n }, (_, i) => 0.5 + unit(i, seed));
export const maskOf = (n) => Uint8Array.from({ length: n }, (_, i) => (hash32(i, 7) % 10 < 7 ? 1 : 0));

export function loadFixture() {
  return JSON.parse(readFileSync(new URL('../fixtures/losses.json', import.meta.url), 'utf8'));
}

/** Builds bceWithLogits arguments for a fixture case. */
export function caseArgs(c) {
  const { N, K } = c;
  const { x, y } = inputs(N, K, c.hard);
  const o = c.options;
  const opts = { shape: [N, K] };
  if (o.sampleWeight) opts.sampleWeight = weights(N, 3);
  if (o.classWeight) opts.classWeight = weights(K, 4);
  if (o.elementWeight) opts.elementWeight = weights(N * K, 5);
  if (o.posWeight) opts.posWeight = weights(K, 6).map((v) => v * 2);
  if (o.mask) opts.mask = maskOf(N * K);
  if (o.labelSmoothing !== undefined) opts.labelSmoothing = o.labelSmoothing;
  if (o.focal) opts.focal = o.focal;
  if (o.asymmetric) opts.asymmetric = o.asymmetric;
  if (o.distributionBalanced) opts.distributionBalanced = o.distributionBalanced;
  let targets = y;
  if (c.targets === 'int8' || c.targets === 'uint8') {
    targets = c.targets === 'int8' ? Int8Array.from(y) : Uint8Array.from(y);
    if (c.ignore) {
      const m = maskOf(N * K);
      for (let i = 0; i < m.length; i++) if (!m[i]) targets[i] = -1;
    }
  }
  return { x, targets, opts };
}
