/**
 * Jonker–Volgenant augmenting row reduction: cheap single-row moves that place most free rows
 * before any shortest path is grown.
 *
 * A free row i finds its two smallest reduced costs a(i, j) − v_j: u1 at j1 and u2 at j2.
 * - If u1 < u2, it takes j1 and lowers v_{j1} by u2 − u1, so that j1 and j2 both become tight
 *   for it; j1's previous owner, if any, is retried at once (its column just got dearer).
 * - If u1 = u2 (a tie), it takes a free column among its minima when there is one, else j2, and
 *   j2's previous owner is retried in the next pass.
 * Potentials only decrease, and only on the column being matched, so the invariant of
 * `lsap-init.ts` holds after every move, and when v starts at 0 every column keeps v_j ≤ 0, with
 * v_j = 0 while it is unmatched.
 *
 * Two shortcuts avoid most O(c) scans of a row:
 * - Early exit. Every reduced cost of row i is ≥ `floor(i)` (see `ArrFloor`), so a free column
 *   whose reduced cost equals it is a minimum the row takes at once, with no price change: with
 *   small-integer costs a row usually finds such a zero within a few cells.
 * - Cached top three (only when v ≤ 0). With a1 ≤ a2 ≤ a3 the three smallest raw costs of the
 *   row (from `rowLeast3`), every other column has a(i, j) − v_j ≥ a(i, j) ≥ a3. So if the two
 *   smallest of the three cached reduced costs are ≤ a3, they are the row's u1 and u2, found in
 *   O(1). Rows displaced in a rectangular problem usually fall back on their second choice this
 *   way, without touching the matrix.
 *
 * Two passes, as in JV; each pass is capped at `STEPS_PER_ROW · r` moves because float rounding
 * can make the decrements arbitrarily small and chains of displacements long, and the rows still
 * free are left to the shortest-path phase, which is faster on them. O(c) per scanned move.
 *
 * Reference: R. Jonker, A. Volgenant, "A shortest augmenting path algorithm for dense and sparse
 * linear assignment problems", Computing 38 (1987) 325–340.
 */
import { Infeasible } from './lsap-infeasible.js';

const PASSES = 2;
const STEPS_PER_ROW = 1;

/**
 * What bounds a row's reduced costs from below: `zero` after JV column reduction (v_j starts at
 * the column minimum and only decreases, so a(i, j) − v_j ≥ 0), `rowMin` after the greedy start
 * (v ≤ 0, so a(i, j) − v_j ≥ min_j a(i, j) = top[3i]), which also enables the cached top three.
 */
export type ArrFloor = 'zero' | 'rowMin';

/** @returns the number of rows still free, listed in `free`. */
export function augmentingRowReduction(
  a: Float64Array,
  r: number,
  c: number,
  rs: number,
  cs: number,
  v: Float64Array,
  rowCol: Int32Array,
  colRow: Int32Array,
  free: Int32Array,
  nf: number,
  top: Float64Array,
  topCol: Int32Array,
  floorKind: ArrFloor,
): number {
  const cached = floorKind === 'rowMin' && c >= 3;
  for (let pass = 0; pass < PASSES && nf > 0; pass++) {
    const listed = nf;
    let budget = STEPS_PER_ROW * r;
    let k = 0;
    nf = 0;
    while (k < listed) {
      const i = free[k++]!;
      let u1 = Infinity;
      let j1 = -1;
      let u2 = Infinity;
      let j2 = -1;
      let jf = -1;
      let known = false;
      if (cached) {
        // Order the three cached reduced costs; valid as the row's top two if u2 ≤ a3.
        const t = 3 * i;
        const a3 = top[t + 2]!;
        for (let q = 0; q < 3; q++) {
          const j = topCol[t + q]!;
          const h = top[t + q]! - v[j]!;
          if (h < u1 || (h === u1 && j1 >= 0 && colRow[j]! < 0 && colRow[j1]! >= 0)) {
            u2 = u1;
            j2 = j1;
            u1 = h;
            j1 = j;
          } else if (h < u2) {
            u2 = h;
            j2 = j;
          }
        }
        if (u2 <= a3) {
          if (u1 < u2) known = true;
          else if (u1 < Infinity && colRow[j1]! < 0) jf = j1; // a free column among tied minima
        }
      }
      if (!known && jf < 0) {
        const floor = floorKind === 'zero' ? 0 : top[3 * i]!;
        const base = i * rs;
        scanU[0] = Infinity;
        scanU[1] = Infinity;
        scanJ[0] = -1;
        scanJ[1] = -1;
        // After the greedy start, rows with equal costs (small integers) lost their first
        // minima to one another: starting each row at its own column keeps them from all
        // walking through the same taken columns before a free one. JV rows start at 0.
        const j0 = floorKind === 'zero' ? 0 : (Math.imul(i, 0x9e3779b1) >>> 0) % c;
        if (!scanRange(a, base, cs, j0, c, v, colRow, floor) && j0 > 0) scanRange(a, base, cs, 0, j0, v, colRow, floor);
        u1 = scanU[0]!;
        u2 = scanU[1]!;
        j1 = scanJ[0]!;
        j2 = scanJ[1]!;
        jf = scanJ[2]!;
      }
      if (jf >= 0) {
        rowCol[i] = jf;
        colRow[jf] = i;
        continue;
      }
      if (u1 === Infinity) throw new Infeasible('row', i);
      let i0 = colRow[j1]!;
      if (u1 < u2) {
        if (u2 === Infinity) {
          // j1 is the row's only finite column: no price to move to; let a shortest path decide.
          if (i0 >= 0) {
            free[nf++] = i;
            continue;
          }
        } else v[j1] = v[j1]! - (u2 - u1);
      } else if (i0 >= 0) {
        j1 = j2;
        i0 = colRow[j2]!;
      }
      rowCol[i] = j1;
      colRow[j1] = i;
      if (i0 >= 0) {
        rowCol[i0] = -1;
        if (u1 < u2 && --budget > 0) free[--k] = i0;
        else free[nf++] = i0;
      }
    }
  }
  return nf;
}

// State of a row scan, carried across the two ranges of a rotated scan: [u1, u2], [j1, j2, jf].
const scanU = new Float64Array(2);
const scanJ = new Int32Array(3);

/**
 * Scans columns [lo, hi) of the row starting at `base`, updating the two smallest reduced costs
 * in scanU/scanJ (ties resolved towards free columns). Stops at a free column whose reduced cost
 * is ≤ floor, recorded as jf. @returns whether it stopped there.
 */
function scanRange(a: Float64Array, base: number, cs: number, lo: number, hi: number, v: Float64Array, colRow: Int32Array, floor: number): boolean {
  let u1 = scanU[0]!;
  let u2 = scanU[1]!;
  let j1 = scanJ[0]!;
  let j2 = scanJ[1]!;
  let jf = -1;
  for (let j = lo, p = base + lo * cs; j < hi; j++, p += cs) {
    const h = a[p]! - v[j]!;
    if (h <= u2) {
      if (h < u1) {
        u2 = u1;
        j2 = j1;
        u1 = h;
        j1 = j;
        if (h <= floor && colRow[j]! < 0) {
          jf = j;
          break;
        }
      } else {
        u2 = h;
        j2 = j;
        // Among equal minima keep a free column in j1: it ends the move without a displacement.
        if (h === u1 && colRow[j]! < 0 && colRow[j1]! >= 0) {
          j2 = j1;
          j1 = j;
          if (h <= floor) {
            jf = j;
            break;
          }
        }
      }
    }
  }
  scanU[0] = u1;
  scanU[1] = u2;
  scanJ[0] = j1;
  scanJ[1] = j2;
  scanJ[2] = jf;
  return jf >= 0;
}
