import { IGNORE_LABEL } from '../core/roles.js';

/**
 * Next-token targets built on the host from position-aligned labels, so a supervised loss needs
 * no gather and no comparison on the gradient path.
 *
 * The label at position t is predicted by the logits at t − 1. Returns
 * - `oneHot` [B·T·V]: row (b, t − 1) is the one-hot of labels[b, t] where that label is not
 *   IGNORE_LABEL, zeros elsewhere;
 * - `weights` [B·T]: 1 at those rows, 0 elsewhere;
 * - `count`: the number of such rows (the denominator of a token mean).
 *
 * Mean next-token cross-entropy is then −Σ_rows weights · Σ_v oneHot · logSoftmax(logits) / count.
 */
export function nextTokenTargets(
  labels: Int32Array,
  batchSize: number,
  seqLen: number,
  vocabSize: number,
): { oneHot: Float32Array; weights: Float32Array; count: number } {
  if (labels.length !== batchSize * seqLen) throw new Error(`nextTokenTargets: ${labels.length} labels for ${batchSize}·${seqLen} positions`);
  const oneHot = new Float32Array(batchSize * seqLen * vocabSize);
  const weights = new Float32Array(batchSize * seqLen);
  let count = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let t = 1; t < seqLen; t++) {
      const label = labels[b * seqLen + t] as number;
      if (label === IGNORE_LABEL) continue;
      if (!Number.isInteger(label) || label < 0 || label >= vocabSize) {
        throw new Error(`nextTokenTargets: label ${label} at row ${b}, position ${t} is outside [0, ${vocabSize})`);
      }
      const row = b * seqLen + t - 1;
      oneHot[row * vocabSize + label] = 1;
      weights[row] = 1;
      count++;
    }
  }
  return { oneHot, weights, count };
}
