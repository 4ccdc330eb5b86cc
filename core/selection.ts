import { ROLE_CODES, type Role } from './roles.js';

/**
 * Which positions of a [B, T] batch a view selects, computed on the host from the roles.
 * Positions are in row-major order (sample by sample, left to right), so the k-th selected
 * token of sample b on the teacher's side pairs with the k-th of sample b on the student's.
 */
export interface Selection {
  readonly batch: number;
  readonly length: number;
  /** Flat index b·T + t of each selected position. */
  readonly positions: Int32Array;
  /** Sample b of each selected position. */
  readonly samples: Int32Array;
  /** Selected positions per sample (length B). */
  readonly counts: Int32Array;
  /** Prefix sums of `counts` (length B + 1): sample b's rows are offsets[b] … offsets[b+1]−1. */
  readonly offsets: Int32Array;
}

/**
 * Positions t with role[t] in `roles` (shift 0), or with role[t + 1] in `roles` (shift 1: the
 * position whose logits predict the selected token; t + 1 must lie inside the sequence).
 */
export function selectPositions(roles: ArrayLike<number>, batch: number, length: number, wanted: readonly Role[], shift: 0 | 1): Selection {
  const codes = new Set<number>(wanted.map((r) => ROLE_CODES[r]));
  const positions: number[] = [];
  const samples: number[] = [];
  const counts = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t + shift < length; t++) {
      if (codes.has(roles[b * length + t + shift]!)) {
        positions.push(b * length + t);
        samples.push(b);
        counts[b]! += 1;
      }
    }
  }
  return fromParts(batch, length, Int32Array.from(positions), Int32Array.from(samples), counts);
}

/** Keeps the selected positions for which `keep(k)` holds (k indexes the selection). */
export function filterSelection(selection: Selection, keep: (k: number) => boolean): Selection {
  const positions: number[] = [];
  const samples: number[] = [];
  const counts = new Int32Array(selection.batch);
  for (let k = 0; k < selection.positions.length; k++) {
    if (!keep(k)) continue;
    positions.push(selection.positions[k]!);
    samples.push(selection.samples[k]!);
    counts[selection.samples[k]!]! += 1;
  }
  return fromParts(selection.batch, selection.length, Int32Array.from(positions), Int32Array.from(samples), counts);
}

function fromParts(batch: number, length: number, positions: Int32Array, samples: Int32Array, counts: Int32Array): Selection {
  const offsets = new Int32Array(batch + 1);
  for (let b = 0; b < batch; b++) offsets[b + 1] = offsets[b]! + counts[b]!;
  return { batch, length, positions, samples, counts, offsets };
}

/** How per-token losses become one number. */
export type Reduction = 'mean' | 'sum' | 'sampleMean';

export const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'sampleMean'];

/**
 * Per-token weights w such that the loss is Σ_i w_i ℓ_i:
 * - `mean`: 1/N over all selected tokens of the batch (the papers' default, PyTorch's batchmean);
 * - `sum`: 1;
 * - `sampleMean`: 1/(n_b · B′), the mean over samples of each sample's token mean, where B′
 *   counts the samples with at least one selected token.
 * An empty selection has no weights, and its loss is 0.
 */
export function reductionWeights(selection: Selection, reduction: Reduction): Float32Array {
  const n = selection.positions.length;
  const weights = new Float32Array(n);
  if (n === 0) return weights;
  if (reduction === 'sum') return weights.fill(1);
  if (reduction === 'mean') return weights.fill(1 / n);
  let nonEmpty = 0;
  for (const c of selection.counts) if (c > 0) nonEmpty++;
  for (let k = 0; k < n; k++) weights[k] = 1 / (selection.counts[selection.samples[k]!]! * nonEmpty);
  return weights;
}
