/**
 * Exact minimum-cost (or maximum-gain) rectangular assignment, with a dual certificate.
 *
 * Problem. Given an n×m cost matrix C (row-major, `cost[i * m + j]`), pair each of the
 * k = min(n, m) items of the smaller side with a distinct item of the larger side so that the
 * sum of the chosen C_ij is minimal (maximal with `maximize`). +Infinity marks a forbidden pair
 * (−Infinity under `maximize`, which is exactly minimizing −C).
 *
 * Dual convention (minimization). Row potentials u (length n) and column potentials v
 * (length m) returned with the pairs satisfy, up to float rounding,
 *   1. feasibility:            u_i + v_j ≤ C_ij            for every cell (trivially where C_ij = +∞);
 *   2. tightness:              u_i + v_j = C_ij            on every chosen pair;
 *   3. larger side, if n ≠ m:  p_t ≤ 0 for every item t of the larger side (v_j when n < m,
 *                              u_i when n > m), with p_t = 0 on each of its unmatched items.
 * Together they prove optimality: the potentials are a feasible solution of the LP dual
 * max Σu + Σv s.t. (1), (3), whose value Σu + Σv equals `total` by (2) and (3). With n = m there
 * is no sign condition. Under `maximize` every sign flips: u_i + v_j ≥ C_ij, equality on the
 * pairs, larger-side potentials ≥ 0 and = 0 when unmatched. `certifyAssignment` checks exactly
 * this.
 *
 * Algorithm. Shortest augmenting paths in the Jonker–Volgenant family on the r×c orientation
 * with r = min(n, m) rows: a tall input is read transposed through strides rather than copied
 * (scipy copies), unless it is nearly square. Phases:
 *   1. start (one pass over the matrix, which also validates it): for r < c, each row's three
 *      smallest costs and a greedy matching on row minima (`lsap-least3.ts`, `lsap-init.ts`);
 *      for r = c, JV column reduction and reduction transfer;
 *   2. JV augmenting row reduction, where a displaced row usually finds its next choice in its
 *      cached top three, and a row with tied minima takes a free one (`lsap-arr.ts`);
 *   3. Dijkstra shortest augmenting paths for the rows still free (`lsap-augment.ts`).
 * On the EM-KD shape (576×144) with random costs, phases 2–3 read only a few rows, so a solve
 * costs little more than one read of the matrix. Worst case O(r²·c) time; O(r + c) scratch, reused
 * across calls, plus one r×c float64 copy for float32 input, `maximize`, or a nearly square
 * tall input. The input is never modified.
 *
 * Errors (`AssignmentError`): a bad shape; NaN or −∞ (+∞ under `maximize`), naming the first
 * such cell in row-major order; an infeasible matrix, naming the row or column that could not
 * be matched. NaN/∞ detection rides on the first pass over the matrix, so valid input pays
 * nothing extra. A partial answer is never returned.
 *
 * References: R. Jonker, A. Volgenant, Computing 38 (1987) 325–340; D. F. Crouse, IEEE TAES
 * 52(4) 2016 (the rectangular SAP that scipy.optimize.linear_sum_assignment implements).
 */

import { badCellMessage, checkShape } from './check-input.js';
import { AssignmentError } from './error.js';
import { augmentingRowReduction } from './lsap-arr.js';
import { augmentRow } from './lsap-augment.js';
import { Infeasible } from './lsap-infeasible.js';
import { columnReduction, greedyRows, reductionTransfer } from './lsap-init.js';
import { rowLeast3 } from './lsap-least3.js';
import { copyBuffer, emptyWorkspace, fitWorkspace, type Workspace } from './lsap-workspace.js';
import type { AssignmentResult, CostArray, SolveOptions } from './types.js';

// Scratch reused across calls of this thread (each worker has its own). It is a cache, not
// configuration: results never alias it, and solves are synchronous, so calls cannot interleave.
let workspace: Workspace = emptyWorkspace();

/**
 * Solves the n×m assignment problem `cost` (row-major; +∞ forbids a pair) exactly: the pairs,
 * their total and the dual potentials that certify optimality (see the module comment). Throws an
 * `AssignmentError` naming the cell for NaN or −∞, or the row when no feasible assignment exists.
 */
export function solveAssignment(cost: CostArray, n: number, m: number, options?: SolveOptions): AssignmentResult {
  checkShape(cost, n, m);
  const maximize = options?.maximize === true;
  const k = Math.min(n, m);
  if (k === 0) return emptyResult(n, m);

  const transposed = n > m;
  const r = k;
  const c = transposed ? n : m;
  let ws = fitWorkspace(workspace, r, c);
  let a: Float64Array;
  let rs: number;
  let cs: number;
  // Read a tall matrix through strides, except when it is nearly square: then the shortest-path
  // phase dominates and runs ~1.6× faster on contiguous rows than one transposed copy costs
  // (measured crossover: c ≈ 1.1·r).
  if (cost instanceof Float64Array && !maximize && !(transposed && 10 * c < 11 * r)) {
    a = cost;
    rs = transposed ? 1 : m;
    cs = transposed ? m : 1;
  } else {
    const fitted = copyBuffer(ws, r * c);
    ws = fitted.ws;
    a = fitted.buf;
    copyOriented(cost, n, m, transposed, maximize ? -1 : 1, a);
    rs = c;
    cs = 1;
  }
  workspace = ws;

  try {
    const nf = startView(a, r, c, rs, cs, ws);
    if (nf < 0) {
      throw new AssignmentError(badCellMessage(cost, n, m, maximize) ?? 'cost contains NaN or an infinity of the wrong sign');
    }
    if (cs !== 1 && nf > STRIDED_PATHS_MAX) {
      // Many shortest paths to grow (structured costs): they run far faster on contiguous rows
      // than through strides, so pay for one transposed copy now.
      const fitted = copyBuffer(ws, r * c);
      workspace = ws = fitted.ws;
      a = fitted.buf;
      copyOriented(cost, n, m, true, 1, a);
      rs = c;
      cs = 1;
    }
    const { v, listD, listV, pred, list, rowCol, colRow, free } = ws;
    for (let q = 0; q < nf; q++) augmentRow(a, c, rs, cs, free[q]!, v, listD, listV, pred, list, rowCol, colRow);
  } catch (e) {
    if (!(e instanceof Infeasible)) throw e;
    const item = e.side === 'col' || transposed ? `column ${e.index}` : `row ${e.index}`;
    const partner = item.startsWith('row') ? 'column' : 'row';
    throw new AssignmentError(
      `infeasible cost matrix: ${item} could not be matched to any ${partner} without a forbidden pair ` + `(${maximize ? '-Infinity' : '+Infinity'})`,
    );
  }
  return collect(cost, n, m, transposed, maximize, a, r, c, rs, cs, ws);
}

/**
 * Phases 1–2 on the r×c view: leaves a partial matching in ws.rowCol / ws.colRow, column
 * potentials in ws.v, and the rows still free in ws.free.
 * @returns how many rows are still free, or −1 when the input holds NaN or −∞.
 */
function startView(a: Float64Array, r: number, c: number, rs: number, cs: number, ws: Workspace): number {
  const { v, pred, colRow, rowCol, free, rowCount, top, topCol } = ws;
  let nf: number;
  const jv = r === c && cs === 1;
  if (jv) {
    if (columnReduction(a, r, rs, v, pred, rowCount, rowCol, colRow)) return -1;
    nf = reductionTransfer(a, r, rs, v, rowCount, rowCol, free);
  } else {
    if (rowLeast3(a, r, c, rs, cs, top, topCol)) return -1;
    nf = greedyRows(r, c, top, topCol, v, rowCol, colRow, free);
  }
  return augmentingRowReduction(a, r, c, rs, cs, v, rowCol, colRow, free, nf, top, topCol, jv ? 'zero' : 'rowMin');
}

/**
 * Above this many shortest paths, a strided (tall) view is first copied to contiguous rows. On
 * random costs phase 2 leaves none; on structured costs (c_ij = x_i·y_j, say) it leaves nearly
 * all, and strided paths were measured 3–4× slower than the copy plus contiguous paths.
 */
const STRIDED_PATHS_MAX = 16;

/** Copies cost (n×m) into `out` as the r×c contiguous view, times `sign`. */
function copyOriented(cost: CostArray, n: number, m: number, transposed: boolean, sign: number, out: Float64Array): void {
  if (!transposed) {
    for (let p = 0; p < n * m; p++) out[p] = sign * cost[p]!;
    return;
  }
  // Blocked transpose: reads stay sequential, writes stay within a few cache lines per block.
  const B = 32;
  for (let i0 = 0; i0 < n; i0 += B) {
    const i1 = Math.min(n, i0 + B);
    for (let j = 0; j < m; j++) {
      const o = j * n;
      for (let i = i0; i < i1; i++) out[o + i] = sign * cost[i * m + j]!;
    }
  }
}

function collect(
  cost: CostArray,
  n: number,
  m: number,
  transposed: boolean,
  maximize: boolean,
  a: Float64Array,
  r: number,
  c: number,
  rs: number,
  cs: number,
  ws: Workspace,
): AssignmentResult {
  const { v, rowCol, colRow } = ws;
  const sign = maximize ? -1 : 1;
  const rows = new Int32Array(r);
  const cols = new Int32Array(r);
  const rowPotentials = new Float64Array(n);
  const colPotentials = new Float64Array(m);
  // Smaller-side potentials are implicit in the solver: u_i = a(i, x_i) − v_{x_i}.
  const small = transposed ? colPotentials : rowPotentials;
  const large = transposed ? rowPotentials : colPotentials;
  for (let i = 0; i < r; i++) {
    const j = rowCol[i]!;
    small[i] = sign * (a[i * rs + j * cs]! - v[j]!) + 0;
  }
  for (let j = 0; j < c; j++) large[j] = sign * v[j]! + 0;
  let total = 0;
  if (!transposed) {
    for (let i = 0; i < r; i++) {
      const j = rowCol[i]!;
      rows[i] = i;
      cols[i] = j;
      total += cost[i * m + j]!;
    }
  } else {
    let q = 0;
    for (let i = 0; i < c; i++) {
      const j = colRow[i]!;
      if (j < 0) continue;
      rows[q] = i;
      cols[q] = j;
      q++;
      total += cost[i * m + j]!;
    }
  }
  return { rows, cols, total, rowPotentials, colPotentials };
}

function emptyResult(n: number, m: number): AssignmentResult {
  return {
    rows: new Int32Array(0),
    cols: new Int32Array(0),
    total: 0,
    rowPotentials: new Float64Array(n),
    colPotentials: new Float64Array(m),
  };
}
