/**
 * Optimality certificate for an assignment: checks the result of `solveAssignment` against the
 * cost matrix alone, without trusting the solver.
 *
 * Minimization form (under `maximize`, negate the costs and both potential vectors first):
 *   - the pairs are a one-to-one matching of all k = min(n, m) items of the smaller side, rows
 *     strictly ascending, every pair of finite cost, and `total` is their sum;
 *   - feasibility  u_i + v_j ≤ C_ij + tol for every cell;
 *   - tightness    |u_i + v_j − C_ij| ≤ tol on every pair;
 *   - if n ≠ m, every larger-side potential is ≤ tol, and |p| ≤ tol on its unmatched items.
 * By LP duality these prove that no other matching is cheaper than `total` by more than about
 * (k + 1)·tol. The default tolerance is 1e-9 · max(1, max |C_ij| over finite cells), generous
 * for the rounding of float64 potentials on any practical size. O(n·m) time, O(max(n, m)) memory.
 */
import type { AssignmentResult, CostArray } from './types.js';

export type Certificate = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface CertifyOptions {
  readonly maximize?: boolean;
  /** Absolute tolerance on every (in)equality; default 1e-9 · max(1, max |finite cost|). */
  readonly tolerance?: number;
}

const fail = (reason: string): Certificate => ({ ok: false, reason });

/**
 * Checks a `solveAssignment` result against the cost matrix alone (see the module comment):
 * `{ ok: true }` when the pairs, total and dual potentials prove optimality, else the reason.
 */
export function certifyAssignment(cost: CostArray, n: number, m: number, result: AssignmentResult, options?: CertifyOptions): Certificate {
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(m) || n < 0 || m < 0) return fail(`bad shape ${n}×${m}`);
  if (cost.length !== n * m) return fail(`cost has ${cost.length} entries, expected ${n * m}`);
  const s = options?.maximize === true ? -1 : 1;
  const k = Math.min(n, m);
  const { rows, cols, rowPotentials: u, colPotentials: v } = result;
  if (rows.length !== k || cols.length !== k) return fail(`expected ${k} pairs, got ${rows.length} rows and ${cols.length} cols`);
  if (u.length !== n) return fail(`rowPotentials has length ${u.length}, expected ${n}`);
  if (v.length !== m) return fail(`colPotentials has length ${v.length}, expected ${m}`);
  for (let i = 0; i < n; i++) if (!Number.isFinite(u[i]!)) return fail(`rowPotentials[${i}] is ${u[i]}`);
  for (let j = 0; j < m; j++) if (!Number.isFinite(v[j]!)) return fail(`colPotentials[${j}] is ${v[j]}`);

  let scale = 1;
  for (let p = 0; p < n * m; p++) {
    const x = Math.abs(cost[p]!);
    if (x > scale && x !== Infinity) scale = x;
  }
  const tol = options?.tolerance ?? 1e-9 * scale;

  // One-to-one, in range, rows ascending.
  const rowUsed = new Uint8Array(n);
  const colUsed = new Uint8Array(m);
  let sum = 0;
  for (let q = 0; q < k; q++) {
    const i = rows[q]!;
    const j = cols[q]!;
    if (!(i >= 0 && i < n) || !(j >= 0 && j < m)) return fail(`pair ${q} = (${i}, ${j}) is out of range`);
    if (q > 0 && i <= rows[q - 1]!) return fail(`rows are not strictly ascending at pair ${q}`);
    if (colUsed[j] === 1) return fail(`column ${j} is used twice`);
    rowUsed[i] = 1;
    colUsed[j] = 1;
    const c = s * cost[i * m + j]!;
    if (!(c < Infinity)) return fail(`pair (${i}, ${j}) has cost ${cost[i * m + j]}, which is forbidden or invalid`);
    const slack = c - s * u[i]! - s * v[j]!;
    if (Math.abs(slack) > tol) return fail(`pair (${i}, ${j}) is not tight: reduced cost ${slack}`);
    sum += cost[i * m + j]!;
  }
  if (!(Math.abs(sum - result.total) <= tol * Math.max(1, k))) return fail(`total ${result.total} differs from the pairs' sum ${sum}`);

  // Dual feasibility on every cell.
  for (let i = 0; i < n; i++) {
    const ui = s * u[i]!;
    for (let j = 0; j < m; j++) {
      const c = s * cost[i * m + j]!;
      if (c !== c) return fail(`cost[${i}, ${j}] is NaN`);
      if (ui + s * v[j]! > c + tol) return fail(`dual infeasible at (${i}, ${j}): u + v − cost = ${ui + s * v[j]! - c}`);
    }
  }

  // The larger side: non-positive potentials, zero where unmatched.
  if (n !== m) {
    const large = n > m ? u : v;
    const used = n > m ? rowUsed : colUsed;
    const name = n > m ? 'row' : 'column';
    for (let t = 0; t < large.length; t++) {
      const p = s * large[t]!;
      if (p > tol) return fail(`${name} ${t} of the larger side has potential ${large[t]} of the wrong sign`);
      if (used[t] === 0 && Math.abs(p) > tol) return fail(`unmatched ${name} ${t} has potential ${large[t]}, expected 0`);
    }
  }
  return { ok: true };
}
