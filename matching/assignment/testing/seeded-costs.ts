/**
 * Seeded cost matrices for tests and benchmarks: the same (kind, n, m, seed) gives the same
 * bytes on every machine, so every solver in a comparison sees identical input.
 */

export type CostKind = 'float' | 'int';

/** SplitMix32 (a 32-bit variant of Steele et al.'s SplitMix): tiny, fast, well mixed. */
export function splitMix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Uniform doubles in [0, 1) with 53 random bits. */
export function uniform01(seed: number): () => number {
  const next = splitMix32(seed);
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}

/**
 * An n×m row-major matrix: `float` = uniform [0, 1), `int` = integers 0–9 (many ties).
 * `out` lets the caller place it in a buffer of its choice (a SharedArrayBuffer, say).
 */
export function seededCosts(kind: CostKind, n: number, m: number, seed: number, out: Float64Array = new Float64Array(n * m)): Float64Array {
  const u = uniform01(seed);
  if (kind === 'float') for (let p = 0; p < n * m; p++) out[p] = u();
  else for (let p = 0; p < n * m; p++) out[p] = Math.floor(u() * 10);
  return out;
}
