/**
 * Central finite differences of a scalar function f: R^n → R, in float64: the oracle for
 * gradient checks.
 *
 * Step size. The central difference (f(x + h) − f(x − h)) / 2h has truncation error
 * ~ h² |f'''| / 6 and rounding error ~ ε |f| / h (ε = 2^-52), minimized near h ~ ε^(1/3).
 * The 5-point stencil (−f(x+2h) + 8 f(x+h) − 8 f(x−h) + f(x−2h)) / 12h has truncation error
 * ~ h⁴ and an optimal h ~ ε^(1/5). Both scale with the argument, h = step · max(|x|, 1), so that
 * x ± h differs from x in the same relative digits whatever its magnitude. The step actually
 * taken is (x + h) − x, which is exactly representable, so the division uses the true spacing.
 *
 * Directional derivatives (JAX's `check_grads` idea): instead of n coordinate differences,
 * compare ⟨∇f(x), v⟩ with (f(x + h v) − f(x − h v)) / 2h for a few random unit directions v.
 * One direction costs two evaluations whatever n, and a wrong gradient almost surely fails.
 *
 * The rounding error scales with |f|, not with the variation of f along x_i: when f is much
 * larger than what one coordinate contributes (f = 1e9 + x_0³, say), coordinate differences
 * lose digits, and a larger `step` or the 5-point stencil helps.
 *
 * f must be smooth near x: at kinks (|p − q| in TVD, |d| = β in SmoothL1, a change of AKL's
 * head/tail split) finite differences do not estimate a gradient.
 */

/** ε^(1/3): the default relative step of the 3-point stencil (≈ 6.06e-6). */
export const STEP_3 = Math.cbrt(Number.EPSILON);
/** ε^(1/5): the default relative step of the 5-point stencil (≈ 7.40e-4). */
export const STEP_5 = Number.EPSILON ** 0.2;

export interface FiniteDifferenceOptions {
  /** 3 (default) or 5 points. */
  readonly stencil?: 3 | 5;
  /** Relative step; default ε^(1/3) for 3 points, ε^(1/5) for 5. */
  readonly step?: number;
}

function settings(options: FiniteDifferenceOptions | undefined): { stencil: 3 | 5; step: number } {
  const stencil = options?.stencil ?? 3;
  const step = options?.step ?? (stencil === 3 ? STEP_3 : STEP_5);
  if (!(step > 0)) throw new RangeError(`finite differences: step ${step} is not > 0`);
  return { stencil, step };
}

/** The derivative at 0 of g: R → R, sampled at multiples of the step h > 0. */
function derivative1D(g: (t: number) => number, h: number, stencil: 3 | 5): number {
  if (stencil === 3) return (g(h) - g(-h)) / (2 * h);
  return (-g(2 * h) + 8 * g(h) - 8 * g(-h) + g(-2 * h)) / (12 * h);
}

/**
 * ∇f(x) by central differences, one coordinate at a time (2n or 4n evaluations of f, so keep
 * n small). `x` is not modified; f receives a fresh copy on each call.
 */
export function gradient(f: (x: Float64Array) => number, x: ArrayLike<number>, options?: FiniteDifferenceOptions): Float64Array {
  const { stencil, step } = settings(options);
  const base = Float64Array.from(x);
  const out = new Float64Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const xi = base[i]!;
    const h = xi + step * Math.max(Math.abs(xi), 1) - xi; // exactly representable spacing
    out[i] = derivative1D(
      (t) => {
        const y = Float64Array.from(base);
        y[i] = xi + t;
        return f(y);
      },
      h,
      stencil,
    );
  }
  return out;
}

/**
 * The derivative of f at x along `direction`, d/dt f(x + t v) at t = 0, by central
 * differences. The step is h = step · max(‖x‖∞, 1) / ‖v‖∞, so the largest coordinate moves by
 * the same relative amount as in `gradient`.
 */
export function directionalDerivative(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  direction: ArrayLike<number>,
  options?: FiniteDifferenceOptions,
): number {
  if (direction.length !== x.length) throw new RangeError(`direction has ${direction.length} entries, x has ${x.length}`);
  const { stencil, step } = settings(options);
  const base = Float64Array.from(x);
  let xMax = 1;
  let vMax = 0;
  for (let i = 0; i < base.length; i++) {
    xMax = Math.max(xMax, Math.abs(base[i]!));
    vMax = Math.max(vMax, Math.abs(direction[i]!));
  }
  if (vMax === 0) return 0;
  const h = (step * xMax) / vMax;
  return derivative1D(
    (t) => {
      const y = new Float64Array(base.length);
      for (let i = 0; i < y.length; i++) y[i] = base[i]! + t * direction[i]!;
      return f(y);
    },
    h,
    stencil,
  );
}

/**
 * A deterministic pseudo-random unit vector in R^n (Gaussian entries, normalized), so that a
 * failing gradient check can be replayed from its seed. (A zero vector when n = 0.)
 */
export function randomDirection(n: number, seed: number): Float64Array {
  // splitmix32: a small, well-mixed 32-bit generator; uniform in (0, 1].
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return (z + 1) / 4294967296;
  };
  const v = new Float64Array(n);
  let norm = 0;
  for (let i = 0; i < n; i++) {
    // Box–Muller
    v[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    norm += v[i]! ** 2;
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < n; i++) v[i] = v[i]! / norm;
  return v;
}

/**
 * The relative step for `directionalDerivative` at x when f reads only some rows of x (rows of
 * `width` entries picked by `reads`): `step` rescaled so that h follows the largest entry f reads
 * rather than the largest anywhere. A large entry in a row f never reads would otherwise make
 * the step coarse for the rows it does, and the stencil's truncation error can then beat a
 * gradient allowance where the true derivative is near 0 (a relation-loss law failed so in CI).
 */
export function stepOverRows(x: ArrayLike<number>, width: number, reads: (row: number) => boolean, step = STEP_5): number {
  let read = 1;
  let all = 1;
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]!);
    all = Math.max(all, v);
    if (reads(Math.floor(i / width))) read = Math.max(read, v);
  }
  return (step * read) / all;
}

export interface DirectionalCheck {
  /** ⟨gradient, v_k⟩ for each direction k. */
  readonly analytic: Float64Array;
  /** The finite-difference derivative of f along v_k. */
  readonly numeric: Float64Array;
  /** The directions v_k (unit vectors). */
  readonly directions: readonly Float64Array[];
}

/**
 * Compares a claimed gradient of f at x (e.g. from tfjs autograd) with finite differences of f
 * along `count` random directions (default 3) drawn from `seed` (default 0). Feed the two arrays
 * to `expectClose` with a gradient tolerance.
 */
export function directionalCheck(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  claimedGradient: ArrayLike<number>,
  options?: FiniteDifferenceOptions & { readonly count?: number; readonly seed?: number },
): DirectionalCheck {
  if (claimedGradient.length !== x.length) throw new RangeError(`gradient has ${claimedGradient.length} entries, x has ${x.length}`);
  const count = options?.count ?? 3;
  const seed = options?.seed ?? 0;
  const analytic = new Float64Array(count);
  const numeric = new Float64Array(count);
  const directions: Float64Array[] = [];
  for (let k = 0; k < count; k++) {
    const v = randomDirection(x.length, seed + k * 0x632be5ab);
    directions.push(v);
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += claimedGradient[i]! * v[i]!;
    analytic[k] = dot;
    numeric[k] = directionalDerivative(f, x, v, options);
  }
  return { analytic, numeric, directions };
}
