/** The few dense float64 operations the structured losses need, on row-major flat arrays. */

/** ⟨x, y⟩ of two equal-length vectors. */
export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/** Z Zᵀ for Z: [K, W] row-major; returns [K, K]. */
export function gram(z: ArrayLike<number>, K: number, W: number): Float64Array {
  const out = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      let s = 0;
      for (let h = 0; h < W; h++) s += z[i * W + h]! * z[j * W + h]!;
      out[i * K + j] = s;
    }
  }
  return out;
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

/** Rows of `data` ([N, W]) whose `sample` is s, for each s present, in order of appearance. */
export function rowsBySample(data: ArrayLike<number>, W: number, sample: ArrayLike<number>): Map<number, Float64Array> {
  const index = new Map<number, number[]>();
  for (let i = 0; i < sample.length; i++) {
    const list = index.get(sample[i]!);
    if (list === undefined) index.set(sample[i]!, [i]);
    else list.push(i);
  }
  const out = new Map<number, Float64Array>();
  for (const [s, rows] of index) {
    const block = new Float64Array(rows.length * W);
    rows.forEach((r, k) => {
      for (let h = 0; h < W; h++) block[k * W + h] = data[r * W + h]!;
    });
    out.set(s, block);
  }
  return out;
}
