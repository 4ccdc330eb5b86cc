/** The few dense float64 operations the structured losses need, on row-major flat arrays. */

/** ⟨x, y⟩ of two equal-length vectors. */
export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/** X Yᵀ for X: [K, W], Y: [M, W]; returns [K, M]. */
export function matmulTransposed(x: ArrayLike<number>, K: number, y: ArrayLike<number>, M: number, W: number): Float64Array {
  const out = new Float64Array(K * M);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < M; j++) {
      let s = 0;
      for (let h = 0; h < W; h++) s += x[i * W + h]! * y[j * W + h]!;
      out[i * M + j] = s;
    }
  }
  return out;
}

/** Z Zᵀ for Z: [K, W] row-major; returns [K, K]. */
export const gram = (z: ArrayLike<number>, K: number, W: number): Float64Array => matmulTransposed(z, K, z, K, W);

/** Each row of X: [K, W] divided by its norm ‖row‖₂; a zero row stays zero. */
export function normalizeRows(x: ArrayLike<number>, K: number, W: number): Float64Array {
  const out = new Float64Array(K * W);
  for (let i = 0; i < K; i++) {
    let s = 0;
    for (let h = 0; h < W; h++) s += x[i * W + h]! ** 2;
    if (s === 0) continue;
    const d = Math.sqrt(s);
    for (let h = 0; h < W; h++) out[i * W + h] = x[i * W + h]! / d;
  }
  return out;
}

/** One sample's row pairs: teacher rows [rows, W_t] and the student rows paired with them [rows, W_s]. */
export interface SampleRows {
  readonly teacher: Float64Array;
  readonly student: Float64Array;
  readonly rows: number;
}

/**
 * Row pairs grouped by sample: for each sample s present (in order of appearance), the rows of
 * `teacher` ([N, Wt]) and of `student` ([N, Ws]) whose `sample` is s.
 */
export function pairsBySample(
  teacher: ArrayLike<number>,
  Wt: number,
  student: ArrayLike<number>,
  Ws: number,
  sample: ArrayLike<number>,
): Map<number, SampleRows> {
  const index = new Map<number, number[]>();
  for (let i = 0; i < sample.length; i++) {
    const list = index.get(sample[i]!);
    if (list === undefined) index.set(sample[i]!, [i]);
    else list.push(i);
  }
  const gather = (data: ArrayLike<number>, W: number, rows: readonly number[]) => {
    const block = new Float64Array(rows.length * W);
    rows.forEach((r, k) => {
      for (let h = 0; h < W; h++) block[k * W + h] = data[r * W + h]!;
    });
    return block;
  };
  return new Map([...index].map(([s, rows]) => [s, { teacher: gather(teacher, Wt, rows), student: gather(student, Ws, rows), rows: rows.length }]));
}
