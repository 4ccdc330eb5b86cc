/**
 * Internal signal thrown by the kernels when an item of the solver's row side (or, in a square
 * problem, a column) has no finite-cost partner left. The kernels only know their own
 * orientation; `solve.ts` catches this and names the item in the caller's terms.
 */
export class Infeasible {
  constructor(
    readonly side: 'row' | 'col',
    readonly index: number,
  ) {}
}
