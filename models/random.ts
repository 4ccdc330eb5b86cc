/**
 * Seeded, backend-independent randomness for weight initialization and procedural data.
 *
 * Everything random in mmkd is a pure function of explicit keys: a stream is opened from
 * `hashKey(seed, ...parts)`, so the values for one parameter (or one data sample) never depend on
 * how many others were drawn before it. Values are produced in JavaScript doubles and rounded to
 * float32 once, so cpu, wasm and any other backend receive bit-identical initial weights.
 */

/** A stream of uniform 32-bit words; each call advances the stream's own (closure) state. */
export interface Rng {
  /** Uniform in [0, 1) with 32 bits of resolution. */
  readonly uniform: () => number;
  /** Uniform integer in [0, n), n ≥ 1. */
  readonly int: (n: number) => number;
  /** Standard normal N(0, 1) (Box–Muller, one value per pair of uniforms). */
  readonly normal: () => number;
}

/** 32-bit finalizer of MurmurHash3: a bijection that spreads every input bit over the output. */
function mix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string, then mixed. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/**
 * Combines a seed and any number of integer or string parts into one 32-bit key.
 * Order matters: `hashKey(1, 'a', 2) !== hashKey(1, 2, 'a')` (with overwhelming probability).
 */
export function hashKey(seed: number, ...parts: readonly (number | string)[]): number {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  for (const part of parts) {
    const p = typeof part === 'number' ? mix32((part >>> 0) + 0x632be5ab) : hashString(part);
    h = mix32(Math.imul(h ^ p, 0x27d4eb2d) + 0x165667b1);
  }
  return h;
}

/**
 * A small-state generator (sfc32: 128 bits of state, passes PractRand for far more output than
 * mmkd draws) whose state is seeded by splitting `key` with splitmix-style increments.
 */
export function rng(key: number): Rng {
  let a = mix32(key + 0x9e3779b9);
  let b = mix32(key + 0x3c6ef372);
  let c = mix32(key + 0xdaa66d2b);
  let d = 1;
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  // Discard a few words so nearby keys decorrelate before the first use.
  for (let i = 0; i < 12; i++) next();
  const uniform = (): number => next() / 4294967296;
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n < 1) throw new Error(`rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(uniform() * n);
  };
  const normal = (): number => {
    // 1 − u keeps the argument of the log in (0, 1].
    const u = 1 - uniform();
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return { uniform, int, normal };
}

/** `n` float32 values from N(0, std²), drawn from the stream of `key`. */
export function normalArray(key: number, n: number, std: number): Float32Array {
  const r = rng(key);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r.normal() * std;
  return out;
}

/** A uniformly random element of a non-empty list. */
export function pick<T>(r: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick: empty list');
  return items[r.int(items.length)] as T;
}

/** A uniformly random permutation of `items` (Fisher–Yates on a copy). */
export function shuffled<T>(r: Rng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}
