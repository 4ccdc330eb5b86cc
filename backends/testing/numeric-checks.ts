/**
 * Named numeric checks that run on whichever tfjs backend is active and produce plain numbers, so
 * that two backends (or a browser tab and Node) can be compared value by value. Browser-safe:
 * results are JSON.
 */

/** |got − want| ≤ abs + rel·|want|, elementwise. */
export interface Tolerance {
  readonly abs: number;
  readonly rel: number;
}

/** float32 kernels that reduce in different orders agree to a few ulps of the largest terms. */
export const FLOAT32_TOLERANCE: Tolerance = { abs: 1e-5, rel: 1e-4 };

export interface NumericCheck {
  /** Unique; results are keyed by it. */
  readonly name: string;
  /** The tfjs kernels the check exercises (forward and, for gradients, backward), for reports. */
  readonly kernels: readonly string[];
  readonly tolerance?: Tolerance;
  /** Runs on the active backend, reads results asynchronously, and leaves no tensor behind. */
  run(): Promise<readonly number[]>;
}

export type CheckOutcome = { readonly ok: true; readonly values: readonly number[]; readonly ms: number } | { readonly ok: false; readonly error: string };

export type CheckResults = Readonly<Record<string, CheckOutcome>>;

/** Runs every check, catching failures per check so that one missing kernel hides no others. */
export async function runChecks(
  checks: readonly NumericCheck[],
  now: () => number = () => Date.now(),
  onCheck?: (name: string, outcome: CheckOutcome) => void,
): Promise<CheckResults> {
  const results: Record<string, CheckOutcome> = {};
  for (const check of checks) {
    const start = now();
    try {
      const values = await check.run();
      results[check.name] = { ok: true, values: [...values], ms: now() - start };
    } catch (error) {
      results[check.name] = { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
    onCheck?.(check.name, results[check.name]!);
  }
  return results;
}

export interface Comparison {
  readonly ok: boolean;
  readonly maxAbsError: number;
  /** The first element out of tolerance, or the length mismatch, in words. */
  readonly problem?: string;
}

export function compareValues(got: readonly number[], want: readonly number[], tolerance: Tolerance = FLOAT32_TOLERANCE): Comparison {
  if (got.length !== want.length) {
    return { ok: false, maxAbsError: Number.POSITIVE_INFINITY, problem: `length ${got.length}, expected ${want.length}` };
  }
  let maxAbsError = 0;
  let problem: string | undefined;
  for (let i = 0; i < got.length; i++) {
    const g = got[i] ?? Number.NaN;
    const w = want[i] ?? Number.NaN;
    const error = Math.abs(g - w);
    // NaN matches NaN and equal infinities match (their difference is NaN, not an error).
    const same = Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w));
    if (!same) {
      maxAbsError = Math.max(maxAbsError, Number.isNaN(error) ? Number.POSITIVE_INFINITY : error);
      if (problem === undefined && !(error <= tolerance.abs + tolerance.rel * Math.abs(w))) {
        problem = `index ${i}: got ${g}, expected ${w} (|error| ${error})`;
      }
    }
  }
  return problem === undefined ? { ok: true, maxAbsError } : { ok: false, maxAbsError, problem };
}

/** A small deterministic generator (xorshift32), so every backend and the browser see the same inputs. */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

/** `count` values, roughly normal with standard deviation `scale` (a sum of uniforms). */
export function seededNormals(seed: number, count: number, scale = 1): number[] {
  const next = seededUniform(seed);
  return Array.from({ length: count }, () => (next() + next() + next() + next() - 2) * Math.sqrt(3) * scale);
}
