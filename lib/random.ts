/** Small seeded generators for the TypeScript side (splits, shuffles): deterministic for a seed. */

/** mulberry32: a 32-bit state generator returning floats in [0, 1); fast and good enough for shuffles and tie-breaks. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
