/**
 * Scratch buffers of the shortest-augmenting-path solver, reused across calls so that a solve
 * allocates only its result. Vectors are sized by capacity: a workspace built for r rows and c
 * columns serves every smaller problem. Memory is O(r + c) plus, when the input has to be
 * converted (float32, maximize), one r×c float64 copy kept only up to `MAX_KEPT_COPY` cells.
 */
export interface Workspace {
  /** Per larger-side item (column): potential, predecessor row, owner row. */
  readonly v: Float64Array;
  readonly pred: Int32Array;
  readonly colRow: Int32Array;
  /** The shortest-path column list, with distances and potentials aligned to it. */
  readonly list: Int32Array;
  readonly listD: Float64Array;
  readonly listV: Float64Array;
  /** Per smaller-side item (row): matched column, free-row list, a counter. */
  readonly rowCol: Int32Array;
  readonly free: Int32Array;
  readonly rowCount: Int32Array;
  /** Per row, its three smallest costs and their columns (3 entries per row). */
  readonly top: Float64Array;
  readonly topCol: Int32Array;
  /** Float64 copy of a converted input, in the solver's orientation. */
  readonly copy: Float64Array;
}

/** Larger copies are allocated per call and dropped, so one huge solve does not pin memory. */
export const MAX_KEPT_COPY = 1 << 22;

const EMPTY: Workspace = {
  v: new Float64Array(0),
  pred: new Int32Array(0),
  colRow: new Int32Array(0),
  list: new Int32Array(0),
  listD: new Float64Array(0),
  listV: new Float64Array(0),
  rowCol: new Int32Array(0),
  free: new Int32Array(0),
  rowCount: new Int32Array(0),
  top: new Float64Array(0),
  topCol: new Int32Array(0),
  copy: new Float64Array(0),
};

export const emptyWorkspace = (): Workspace => EMPTY;

/** Returns `ws` itself when it is large enough for r rows and c columns, else a grown one. */
export function fitWorkspace(ws: Workspace, r: number, c: number): Workspace {
  if (ws.v.length >= c && ws.rowCol.length >= r) return ws;
  const cc = Math.max(c, ws.v.length);
  const rr = Math.max(r, ws.rowCol.length);
  return {
    v: new Float64Array(cc),
    pred: new Int32Array(cc),
    colRow: new Int32Array(cc),
    list: new Int32Array(cc),
    listD: new Float64Array(cc),
    listV: new Float64Array(cc),
    rowCol: new Int32Array(rr),
    free: new Int32Array(rr),
    rowCount: new Int32Array(rr),
    top: new Float64Array(3 * rr),
    topCol: new Int32Array(3 * rr),
    copy: ws.copy,
  };
}

/** A float64 buffer of at least `cells` entries: the kept copy, grown if allowed, or a fresh one. */
export function copyBuffer(ws: Workspace, cells: number): { readonly ws: Workspace; readonly buf: Float64Array } {
  if (ws.copy.length >= cells) return { ws, buf: ws.copy };
  const buf = new Float64Array(cells);
  return cells <= MAX_KEPT_COPY ? { ws: { ...ws, copy: buf }, buf } : { ws, buf };
}
