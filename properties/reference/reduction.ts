/**
 * Reductions of per-token losses ℓ_i over the N selected tokens, loss = Σ_i w_i ℓ_i:
 *
 * - `mean`:       w_i = 1 / N
 * - `sum`:        w_i = 1
 * - `sampleMean`: w_i = 1 / (n_{s_i} · B′), where s_i is token i's sample, n_s the number of
 *                 selected tokens of sample s, and B′ the number of samples with at least one
 *                 (so every non-empty sample weighs the same, whatever its length)
 *
 * N = 0 gives a loss of 0.
 */
export type Reduction = 'mean' | 'sum' | 'sampleMean';

/** The weights w_i of `rows` tokens; `sample` (length `rows`) is needed for `sampleMean`. */
export function reductionWeights(reduction: Reduction, rows: number, sample?: ArrayLike<number>): Float64Array {
  const w = new Float64Array(rows);
  if (rows === 0) return w;
  switch (reduction) {
    case 'mean':
      return w.fill(1 / rows);
    case 'sum':
      return w.fill(1);
    case 'sampleMean': {
      if (sample === undefined || sample.length !== rows) {
        throw new RangeError(`sampleMean needs the sample of each of the ${rows} tokens, got ${sample?.length ?? 'none'}`);
      }
      const count = new Map<number, number>();
      for (let i = 0; i < rows; i++) count.set(sample[i]!, (count.get(sample[i]!) ?? 0) + 1);
      const nonEmpty = count.size;
      for (let i = 0; i < rows; i++) w[i] = 1 / (count.get(sample[i]!)! * nonEmpty);
      return w;
    }
  }
}

/** Σ_i w_i ℓ_i with the weights of `reduction`. */
export function reduce(perToken: ArrayLike<number>, reduction: Reduction, sample?: ArrayLike<number>): number {
  const w = reductionWeights(reduction, perToken.length, sample);
  let s = 0;
  for (let i = 0; i < perToken.length; i++) s += w[i]! * perToken[i]!;
  return s;
}
