/**
 * Initialization of the shortest-augmenting-path solver: a cheap dual-feasible partial matching
 * that leaves few rows for the expensive phases.
 *
 * Every kernel works on an r×c view (r ≤ c) whose cell (i, j) is `a[i * rs + j * cs]`; the
 * caller picks strides so that a tall input is solved transposed without copying it. Duals are
 * kept as column potentials v only; a matched row's potential is implicit,
 * u_i = a(i, x_i) − v_{x_i}, and the invariant of every phase is
 *
 *     a(i, j) − v_j ≥ a(i, x_i) − v_{x_i}   for every matched row i and every column j,
 *
 * that is, each matched row sits on a column of minimal reduced cost. The first pass over the
 * matrix (column minima here, row top-three in `lsap-least3.ts`) reads every cell once, so it
 * also detects NaN and −∞, which lets the solver validate its input without a separate pass.
 *
 * Two starts: the greedy one for r < c keeps v ≤ 0 (what a rectangular certificate needs); JV's
 * column reduction and reduction transfer, for square problems, give better initial prices.
 */
import { Infeasible } from './lsap-infeasible.js';

/** Column minima (v) and first argmin rows of an R×C row-major block, streamed in memory order. */
function minimaDownColumns(a: Float64Array, R: number, C: number, S: number, min: Float64Array, arg: Int32Array): boolean {
  let bad = false;
  min.fill(Infinity, 0, C);
  arg.fill(0, 0, C);
  const R4 = R - (R & 3);
  for (let i = 0; i < R4; i += 4) {
    const b0 = i * S;
    const b1 = b0 + S;
    const b2 = b1 + S;
    const b3 = b2 + S;
    for (let j = 0; j < C; j++) {
      const x0 = a[b0 + j]!;
      const x1 = a[b1 + j]!;
      const x2 = a[b2 + j]!;
      const x3 = a[b3 + j]!;
      let m = min[j]!;
      if (x0 >= m && x1 >= m && x2 >= m && x3 >= m) continue;
      if (x0 < m) {
        m = x0;
        min[j] = m;
        arg[j] = i;
      } else if (x0 !== x0) bad = true;
      if (x1 < m) {
        m = x1;
        min[j] = m;
        arg[j] = i + 1;
      } else if (x1 !== x1) bad = true;
      if (x2 < m) {
        m = x2;
        min[j] = m;
        arg[j] = i + 2;
      } else if (x2 !== x2) bad = true;
      if (x3 < m) {
        min[j] = x3;
        arg[j] = i + 3;
      } else if (x3 !== x3) bad = true;
    }
  }
  for (let i = R4; i < R; i++) {
    const b = i * S;
    for (let j = 0; j < C; j++) {
      const x = a[b + j]!;
      if (x < min[j]!) {
        min[j] = x;
        arg[j] = i;
      } else if (x !== x) bad = true;
    }
  }
  for (let j = 0; j < C; j++) if (min[j] === -Infinity) bad = true;
  return bad;
}

/**
 * Greedy start: each row, in order, takes the first of its cached minima (the entries of its top
 * three equal to its minimum) whose column is still free. With v = 0 and u_i = min_j a(i, j) the
 * duals are feasible and every match is tight; columns keep v_j = 0 until matched. Rows that
 * found no free minimum are left to augmenting row reduction. O(r + c), no matrix access.
 * @returns the number of rows left free, listed in `free`.
 */
export function greedyRows(
  r: number,
  c: number,
  top: Float64Array,
  topCol: Int32Array,
  v: Float64Array,
  rowCol: Int32Array,
  colRow: Int32Array,
  free: Int32Array,
): number {
  v.fill(0, 0, c);
  colRow.fill(-1, 0, c);
  let nf = 0;
  for (let i = 0; i < r; i++) {
    const t = 3 * i;
    const min = top[t]!;
    if (min === Infinity) throw new Infeasible('row', i);
    rowCol[i] = -1;
    for (let q = 0; q < 3 && top[t + q] === min; q++) {
      const j = topCol[t + q]!;
      if (colRow[j]! < 0) {
        colRow[j] = i;
        rowCol[i] = j;
        break;
      }
    }
    if (rowCol[i]! < 0) free[nf++] = i;
  }
  return nf;
}

/**
 * Jonker–Volgenant column reduction for a square contiguous problem (r = c, cs = 1):
 * v_j = min_i a(i, j), then, scanning columns from the last, each column is given to its
 * (first) argmin row if that row has none yet, or if it beats the row's current column by a
 * smaller v. Rows that won k columns are counted in `matches`. O(n²), one streaming pass.
 * @returns true when a NaN or −∞ cell was seen.
 */
export function columnReduction(
  a: Float64Array,
  n: number,
  rs: number,
  v: Float64Array,
  colArg: Int32Array,
  matches: Int32Array,
  rowCol: Int32Array,
  colRow: Int32Array,
): boolean {
  if (minimaDownColumns(a, n, n, rs, v, colArg)) return true;
  matches.fill(0, 0, n);
  rowCol.fill(-1, 0, n);
  for (let j = n - 1; j >= 0; j--) {
    const vj = v[j]!;
    if (vj === Infinity) throw new Infeasible('col', j);
    const i = colArg[j]!;
    if (++matches[i]! === 1) {
      rowCol[i] = j;
      colRow[j] = i;
    } else if (vj < v[rowCol[i]!]!) {
      const j1 = rowCol[i]!;
      rowCol[i] = j;
      colRow[j] = i;
      colRow[j1] = -1;
    } else colRow[j] = -1;
  }
  return false;
}

/**
 * Jonker–Volgenant reduction transfer, after `columnReduction`: a row that won exactly one
 * column j1 moves its slack onto that column, v_{j1} −= min_{j≠j1} (a(i, j) − v_j), so its
 * reduced costs become level and free rows see j1 as less attractive. Rows that won nothing are
 * listed as free. O(n) per row that won one column.
 * @returns the number of free rows, listed in `free`.
 */
export function reductionTransfer(a: Float64Array, n: number, rs: number, v: Float64Array, matches: Int32Array, rowCol: Int32Array, free: Int32Array): number {
  let nf = 0;
  for (let i = 0; i < n; i++) {
    const count = matches[i]!;
    if (count === 0) {
      free[nf++] = i;
      continue;
    }
    if (count !== 1) continue;
    const j1 = rowCol[i]!;
    const base = i * rs;
    let min = Infinity;
    for (let j = 0; j < n; j++) {
      const h = a[base + j]! - v[j]!;
      if (h < min && j !== j1) min = h;
    }
    if (min !== Infinity) v[j1] = v[j1]! - min;
  }
  return nf;
}
