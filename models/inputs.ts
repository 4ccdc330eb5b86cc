/**
 * What a model's forward pass reads: host-side arrays, so ownership is simple (nothing to
 * dispose) and masks are built from data, never from comparisons on the gradient path.
 *
 * The sequence is already laid out for the model: each row holds exactly `numVisionTokens(config)`
 * positions with role `visual` (the `<image>` placeholder expanded), where the projected vision
 * tokens are spliced in, in row-major grid order. Token ids at those positions are ignored.
 * `data/batch.ts` produces this layout; teacher and student batches of the same samples differ
 * only in the number of visual positions.
 */
export interface ModelInputs {
  readonly batchSize: number;
  /** T: positions per row, vision tokens included. */
  readonly seqLen: number;
  /** [B·T] row-major token ids. */
  readonly tokens: Int32Array;
  /** [B·T] row-major role codes (core/roles.ts). */
  readonly roles: Int32Array;
  /** [B·H·W·C] row-major pixels (HWC per image), values in [0, 1]. */
  readonly pixels: Float32Array;
}
