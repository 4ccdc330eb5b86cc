/**
 * Shared types of the assignment solvers.
 *
 * A problem is an n×m cost matrix stored row-major: cell (i, j) is `cost[i * m + j]`. A solution
 * pairs each of the k = min(n, m) items of the smaller side with a distinct item of the larger
 * side. See `solve.ts` for the dual convention behind the potentials.
 */

/** Cost storage accepted by every solver. Float32 costs are widened to float64 exactly. */
export type CostArray = Float64Array | Float32Array;

export interface SolveOptions {
  /** Maximize the total instead of minimizing it. Default false. */
  readonly maximize?: boolean;
}

/**
 * An optimal assignment with its dual certificate. Minimizing: u_i + v_j ≤ C_ij on every cell,
 * with equality on every pair; if n ≠ m, the larger side's potentials are ≤ 0 and exactly 0 on
 * its unmatched items. Maximizing: the same with every inequality and sign flipped. See
 * `solveAssignment` for why this proves optimality, `certifyAssignment` to check it.
 */
export interface AssignmentResult {
  /** Row index of each of the k = min(n, m) pairs, ascending. */
  readonly rows: Int32Array;
  /** Matched column of each pair. */
  readonly cols: Int32Array;
  /** Sum of the original costs over the pairs (0 when k = 0). */
  readonly total: number;
  /** Dual potential u of every row (length n). */
  readonly rowPotentials: Float64Array;
  /** Dual potential v of every column (length m). */
  readonly colPotentials: Float64Array;
}

/** One assignment problem of a batch: an n×m cost matrix, row-major. */
export interface AssignmentProblem {
  readonly cost: CostArray;
  readonly n: number;
  readonly m: number;
}
