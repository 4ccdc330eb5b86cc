/**
 * The second study's analysis (RESULTS.md, "Design of the second study"): paired differences
 * between two recipes, seed by seed and question by question, with a two-way bootstrap
 * confidence interval over seeds and questions, overall and per question type.
 */

/** Which held-out questions a run answered correctly, in evaluation order. */
export interface QuestionResults {
  /** Sample ids, the same for every run scored on the same data. */
  readonly ids: readonly string[];
  /** Question type of each. */
  readonly kinds: readonly string[];
  /** One character per question: '1' answered exactly, '0' not. */
  readonly correct: string;
}

/** Packs per-question correctness (the order of `ids`). */
export function questionResults(ids: readonly string[], kinds: readonly string[], correct: readonly boolean[]): QuestionResults {
  if (ids.length !== kinds.length || ids.length !== correct.length) {
    throw new Error(`questionResults: ${ids.length} ids, ${kinds.length} kinds and ${correct.length} results must agree`);
  }
  return { ids: [...ids], kinds: [...kinds], correct: correct.map((c) => (c ? '1' : '0')).join('') };
}

/** A difference with its interval, in accuracy units (1 = 100 points). */
export interface Interval {
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

export interface PairedDifference extends Interval {
  /** Per question type: the difference of that type's accuracy, from the same replicates. */
  readonly perKind: Readonly<Record<string, Interval>>;
  /** Each seed's own difference (mean over types), in the order given. */
  readonly perSeed: readonly number[];
  readonly seeds: number;
  readonly questions: number;
  readonly replicates: number;
}

export interface BootstrapOptions {
  /** Bootstrap replicates (default 10 000, as the design fixes). */
  readonly replicates?: number;
  /** Seed of the bootstrap's own random numbers, so an interval is reproducible to the digit (default 0). */
  readonly seed?: number;
  /** Coverage of the interval (default 0.95). */
  readonly level?: number;
}

/**
 * Paired two-way bootstrap of the difference A − B in mean-over-types exact match.
 *
 * Input: for each of S seeds, the per-question correctness of A and of B on the same Q questions
 * (`kinds[q]` their types). With d(s, q) = A(s, q) − B(s, q), the estimate is
 *   Δ = mean over types k of ( mean over s and over the questions q of type k of d(s, q) ).
 * Each replicate draws S seeds with replacement and, independently, within each type k as many
 * questions as k holds, with replacement; the drawn questions are the same for every drawn seed
 * and for A and B (paired by seed and by question); the replicate's value is Δ on that draw.
 * The interval is the (1 − level)/2 and (1 + level)/2 quantiles of the replicates (linear
 * interpolation between order statistics). Per type, the same replicates give that type's term.
 * With S = 1 the seed draw is trivial and the interval covers question sampling only.
 */
export function pairedBootstrap(
  kinds: readonly string[],
  a: readonly (string | readonly boolean[])[],
  b: readonly (string | readonly boolean[])[],
  options: BootstrapOptions = {},
): PairedDifference {
  const replicates = options.replicates ?? 10_000;
  const level = options.level ?? 0.95;
  const seeds = a.length;
  const questions = kinds.length;
  if (seeds === 0 || b.length !== seeds) throw new Error(`pairedBootstrap: ${a.length} seeds of A and ${b.length} of B (need the same number, at least 1)`);
  if (questions === 0) throw new Error('pairedBootstrap: no questions');
  if (!Number.isSafeInteger(replicates) || replicates < 1) throw new Error(`pairedBootstrap: replicates must be a positive integer, got ${replicates}`);
  if (!(level > 0 && level < 1)) throw new Error(`pairedBootstrap: level must lie in (0, 1), got ${level}`);
  const bit = (x: string | readonly boolean[], q: number): number => (typeof x === 'string' ? (x.charCodeAt(q) === 49 ? 1 : 0) : x[q] ? 1 : 0);
  const d: Int8Array[] = [];
  for (let s = 0; s < seeds; s++) {
    const [as, bs] = [a[s]!, b[s]!];
    if (as.length !== questions || bs.length !== questions) {
      throw new Error(`pairedBootstrap: seed ${s} has ${as.length} results of A and ${bs.length} of B for ${questions} questions`);
    }
    const row = new Int8Array(questions);
    for (let q = 0; q < questions; q++) row[q] = bit(as, q) - bit(bs, q);
    d.push(row);
  }
  const typeNames = [...new Set(kinds)].sort();
  const members = typeNames.map((k) => Int32Array.from(kinds.flatMap((kk, q) => (kk === k ? [q] : []))));

  // The statistic for seed weights w (how often each seed was drawn) and question weights per type.
  const seedMean = (weights: ArrayLike<number>, total: number): Float64Array => {
    const out = new Float64Array(questions);
    for (let s = 0; s < seeds; s++) {
      const w = weights[s]!;
      if (w === 0) continue;
      const row = d[s]!;
      for (let q = 0; q < questions; q++) out[q]! += (w * row[q]!) / total;
    }
    return out;
  };
  const typeMeans = (perQuestion: Float64Array): number[] =>
    members.map((m) => {
      let sum = 0;
      for (const q of m) sum += perQuestion[q]!;
      return sum / m.length;
    });
  const mean = (xs: readonly number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;

  const point = typeMeans(seedMean(new Array(seeds).fill(1), seeds));
  const perSeed = d.map((_, s) =>
    mean(
      typeMeans(
        seedMean(
          Array.from({ length: seeds }, (_, t) => (t === s ? 1 : 0)),
          1,
        ),
      ),
    ),
  );

  const random = mulberry32(options.seed ?? 0);
  const draws = typeNames.map(() => new Float64Array(replicates));
  const overall = new Float64Array(replicates);
  // The per-question mean over drawn seeds depends only on how often each seed was drawn: cached.
  const cache = new Map<string, Float64Array>();
  const counts = new Int32Array(seeds);
  for (let r = 0; r < replicates; r++) {
    counts.fill(0);
    for (let i = 0; i < seeds; i++) counts[Math.floor(random() * seeds)]!++;
    const key = counts.join(',');
    let perQuestion = cache.get(key);
    if (perQuestion === undefined) {
      perQuestion = seedMean(counts, seeds);
      if (cache.size < 4096) cache.set(key, perQuestion);
    }
    const byType = members.map((m) => {
      let sum = 0;
      for (let i = 0; i < m.length; i++) sum += perQuestion[m[Math.floor(random() * m.length)]!]!;
      return sum / m.length;
    });
    byType.forEach((v, k) => {
      draws[k]![r] = v;
    });
    overall[r] = mean(byType);
  }
  const interval = (estimate: number, values: Float64Array): Interval => {
    const sorted = Float64Array.from(values).sort();
    return { estimate, low: quantile(sorted, (1 - level) / 2), high: quantile(sorted, (1 + level) / 2) };
  };
  return {
    ...interval(mean(point), overall),
    perKind: Object.fromEntries(typeNames.map((k, i) => [k, interval(point[i]!, draws[i]!)])),
    perSeed,
    seeds,
    questions,
    replicates,
  };
}

/** The p-quantile of sorted values, interpolating linearly between order statistics (R's type 7). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantile: no values');
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** A small, fast, seeded generator of uniform numbers in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A difference in points with its interval: `+3.1 [+0.4, +5.9]`. */
export function formatInterval(x: Interval): string {
  const f = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(1)}`;
  return `${f(x.estimate)} [${f(x.low)}, ${f(x.high)}]`;
}

/** What an interval says about a difference: above 0, below 0, or not resolved. */
export function verdict(x: Interval): 'above 0' | 'below 0' | 'not resolved' {
  return x.low > 0 ? 'above 0' : x.high < 0 ? 'below 0' : 'not resolved';
}
