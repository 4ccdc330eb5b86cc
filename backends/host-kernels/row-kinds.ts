/** What a host row computes: its kind and its job (shared by rows.ts, rows-simd.ts and the threads). */

/** The divergences that have a closed-form host row, by code. */
export const ROW_KINDS = { forwardKL: 0, reverseKL: 1, jsd: 2, skewKL: 3, skewReverseKL: 4, tvd: 5, softCE: 6, zero: 7 } as const;
export type RowKind = (typeof ROW_KINDS)[keyof typeof ROW_KINDS];

/**
 * One kernel call: rows of the teacher's logits `a` [rows × widthA] and the student's `b`
 * [rows × widthB], the first `vocab` columns compared, at 1/T = `invT`. `param` is β (JSD) or
 * α (skew divergences), strictly inside (0, 1) (endpoints are resolved to other kinds before).
 * Writes ℓ_i into `rowLoss[i]` and, when `grad` is given, ∂(w_i ℓ_i)/∂b_i into grad's row i
 * (columns past `vocab` untouched); row i of a, b and grad is row `rowOf(rowsA/rowsB, i)`.
 */
export interface RowJob {
  readonly kind: RowKind;
  readonly param: number;
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly widthA: number;
  readonly widthB: number;
  readonly vocab: number;
  readonly invT: number;
  readonly weights: Float32Array;
  readonly rowLoss: Float64Array;
  readonly grad: Float32Array | null;
  /**
   * Whether rows run their WebAssembly SIMD passes (rows-simd.ts) where a kind has them. Part of
   * the job, not a per-thread setting, so that worker threads do what the caller does and a row
   * is the same bits whichever thread computes it.
   */
  readonly simd?: boolean;
  /**
   * Where job row i lies in `a` (resp. `b` and `grad`): row rowsA[i]; row i when absent or null.
   * A kernel then reads a view's selected rows inside the logits themselves and writes their
   * gradient in the logits' own shape, where gathering would copy both sides' rows and scattering
   * the gradient back would make a second [B·T × V] array.
   */
  readonly rowsA?: Int32Array | null;
  readonly rowsB?: Int32Array | null;
}

/** The row of a, b or grad holding job row i (see `RowJob.rowsA`). */
export const rowOf = (rows: Int32Array | null | undefined, i: number): number => (rows == null ? i : rows[i]!);
