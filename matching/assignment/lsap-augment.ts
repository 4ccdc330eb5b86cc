/**
 * Shortest augmenting path (Dijkstra on reduced costs), the exact phase of the solver.
 *
 * From free row f, distances d_j to every column are grown over alternating paths with
 * non-negative reduced costs a(i, j) − u_i − v_j. Columns live in one list, [0, ready) settled
 * and [ready, c) the rest; their distances and potentials are kept in arrays aligned with the
 * list (`listD`, `listV`), so the hot loop reads them sequentially and gathers only the cost.
 * Each step settles the rest column of least distance; if it is free the path is found, else
 * its row is scanned, and the same pass that relaxes the rest also finds the next minimum, so
 * every step costs one pass over the rest (Crouse's loop; JV's separate minimum search would
 * double it). Among equal distances a free column is preferred, and a free column at the current
 * level ends the pass at once: with integer costs, ties are the common case and this keeps the
 * paths short.
 *
 * On reaching free column `sink` at distance μ, the settled columns get v_j += d_j − μ (≤ 0),
 * which keeps every reduced cost non-negative and makes the path tight; the path is then
 * flipped. v decreases only on settled columns, which are matched, so unmatched columns keep
 * their v. O(c) per settled column, O(r·c) per path in the worst case.
 *
 * Reference: Jonker & Volgenant (1987), procedure AUGMENT; D. F. Crouse, "On implementing 2D
 * rectangular assignment algorithms", IEEE TAES 52(4), 2016.
 */
import { Infeasible } from './lsap-infeasible.js';

/** Matches free row f, growing the matching by one. Throws `Infeasible` when no path exists. */
export function augmentRow(
  a: Float64Array,
  c: number,
  rs: number,
  cs: number,
  f: number,
  v: Float64Array,
  listD: Float64Array,
  listV: Float64Array,
  pred: Int32Array,
  list: Int32Array,
  rowCol: Int32Array,
  colRow: Int32Array,
): void {
  let min = Infinity;
  let kmin = -1;
  // Whether the current minimum is a free column (then no equal one can be better).
  let minFree = true;
  for (let j = 0, p = f * rs; j < c; j++, p += cs) {
    const vj = v[j]!;
    const h = a[p]! - vj;
    list[j] = j;
    listD[j] = h;
    listV[j] = vj;
    pred[j] = f;
    if (h <= min) {
      if (h < min) {
        min = h;
        kmin = j;
        minFree = colRow[j]! < 0;
      } else if (!minFree && colRow[j]! < 0) {
        kmin = j;
        minFree = true;
      }
    }
  }
  let ready = 0;
  let sink: number;
  for (;;) {
    if (kmin < 0) throw new Infeasible('row', f);
    // Settle the column at list position kmin: swap it to position `ready`.
    const j1 = list[kmin]!;
    const d1 = listD[kmin]!;
    const v1 = listV[kmin]!;
    list[kmin] = list[ready]!;
    listD[kmin] = listD[ready]!;
    listV[kmin] = listV[ready]!;
    list[ready] = j1;
    listD[ready] = d1;
    listV[ready] = v1;
    ready++;
    const i = colRow[j1]!;
    if (i < 0) {
      sink = j1;
      break;
    }
    // Relax the rest through row i; reduced costs of row i are measured from the level `min`.
    const level = min;
    const ib = i * rs;
    const h0 = a[ib + j1 * cs]! - v1 - level;
    min = Infinity;
    kmin = -1;
    minFree = true;
    for (let k = ready; k < c; k++) {
      const j = list[k]!;
      let dk = listD[k]!;
      const h = a[ib + j * cs]! - listV[k]! - h0;
      if (h < dk) {
        // h < level only by rounding: reduced costs are ≥ 0 in exact arithmetic.
        dk = Math.max(h, level);
        listD[k] = dk;
        pred[j] = i;
      }
      if (dk <= min) {
        if (dk < min) {
          min = dk;
          kmin = k;
          minFree = colRow[j]! < 0;
          if (minFree && dk <= level) break;
        } else if (!minFree && colRow[j]! < 0) {
          kmin = k;
          minFree = true;
          if (dk <= level) break;
        }
      }
    }
  }
  for (let k = 0; k < ready; k++) {
    const j = list[k]!;
    v[j] = v[j]! + (listD[k]! - min);
  }
  for (let j = sink; ; ) {
    const i = pred[j]!;
    colRow[j] = i;
    const next = rowCol[i]!;
    rowCol[i] = j;
    if (i === f) break;
    j = next;
  }
}
