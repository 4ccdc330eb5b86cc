/**
 * First pass over the matrix for the greedy start: the three smallest cells of every row of the
 * r×c view (cell (i, j) at `a[i * rs + j * cs]`, see `lsap-init.ts`), which also validates the
 * input (NaN, −∞). The row minimum feeds the greedy start, and all three feed the O(1) moves of
 * augmenting row reduction (`lsap-arr.ts`).
 *
 * The loops take four cells per step and leave the common case ("none of the four beats the
 * current third smallest") after four loads and four compares, with no store.
 */
/**
 * The three smallest cells of each of the r rows of the view, with their columns, in
 * `top[3i..3i+2]` (ascending; +∞ where c < 3) and `topCol[3i..3i+2]`; the first is the row
 * minimum at its first argmin. O(r·c), one read per cell, in memory order for both
 * orientations: contiguous rows (cs = 1) are reduced one at a time; a transposed view (rs = 1,
 * so each view row is a column of the stored matrix) is streamed row by stored row, keeping the
 * running top three of all view rows at once. A cell enters the slow path only if it beats the
 * current third smallest, about 3·ln(c) times per row on random data.
 * @returns true when a NaN or −∞ cell was seen.
 */
export function rowLeast3(a: Float64Array, r: number, c: number, rs: number, cs: number, top: Float64Array, topCol: Int32Array): boolean {
  top.fill(Infinity, 0, 3 * r);
  topCol.fill(0, 0, 3 * r);
  if (cs === 1) return least3AlongRows(a, r, c, rs, top, topCol);
  if (rs === 1) return least3DownColumns(a, c, r, cs, top, topCol);
  let bad = false;
  for (let i = 0; i < r; i++) {
    for (let j = 0, p = i * rs; j < c; j++, p += cs) {
      const x = a[p]!;
      if (!(x >= top[3 * i + 2]!)) bad = insert(top, topCol, 3 * i, x, j) || bad;
    }
  }
  for (let i = 0; i < r; i++) if (top[3 * i] === -Infinity) bad = true;
  return bad;
}

/**
 * Inserts x (from column j) into the ascending triple at `top[t..t+2]` if it beats the third;
 * equal values keep their earlier columns first. @returns true when x is NaN.
 */
function insert(top: Float64Array, topCol: Int32Array, t: number, x: number, j: number): boolean {
  const m3 = top[t + 2]!;
  if (!(x < m3)) return x !== x;
  const m2 = top[t + 1]!;
  if (x < m2) {
    top[t + 2] = m2;
    topCol[t + 2] = topCol[t + 1]!;
    const m1 = top[t]!;
    if (x < m1) {
      top[t + 1] = m1;
      topCol[t + 1] = topCol[t]!;
      top[t] = x;
      topCol[t] = j;
    } else {
      top[t + 1] = x;
      topCol[t + 1] = j;
    }
  } else {
    top[t + 2] = x;
    topCol[t + 2] = j;
  }
  return false;
}

/** Top three of each row of an R×C row-major block with row stride S. */
function least3AlongRows(a: Float64Array, R: number, C: number, S: number, top: Float64Array, topCol: Int32Array): boolean {
  let bad = false;
  const C4 = C - (C & 3);
  for (let i = 0; i < R; i++) {
    const b = i * S;
    const t = 3 * i;
    let m3 = Infinity;
    for (let j = 0; j < C4; j += 4) {
      const p = b + j;
      const x0 = a[p]!;
      const x1 = a[p + 1]!;
      const x2 = a[p + 2]!;
      const x3 = a[p + 3]!;
      // `x >= m3` is false for NaN, so a NaN always takes the slow path and is seen there.
      if (x0 >= m3 && x1 >= m3 && x2 >= m3 && x3 >= m3) continue;
      bad = insert(top, topCol, t, x0, j) || bad;
      bad = insert(top, topCol, t, x1, j + 1) || bad;
      bad = insert(top, topCol, t, x2, j + 2) || bad;
      bad = insert(top, topCol, t, x3, j + 3) || bad;
      m3 = top[t + 2]!;
    }
    for (let j = C4; j < C; j++) bad = insert(top, topCol, t, a[b + j]!, j) || bad;
    if (top[t] === -Infinity) bad = true;
  }
  return bad;
}

/** Top three of each column of an R×C row-major block with row stride S, streamed in memory order. */
function least3DownColumns(a: Float64Array, R: number, C: number, S: number, top: Float64Array, topCol: Int32Array): boolean {
  let bad = false;
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
      const t = 3 * j;
      const m3 = top[t + 2]!;
      if (x0 >= m3 && x1 >= m3 && x2 >= m3 && x3 >= m3) continue;
      bad = insert(top, topCol, t, x0, i) || bad;
      bad = insert(top, topCol, t, x1, i + 1) || bad;
      bad = insert(top, topCol, t, x2, i + 2) || bad;
      bad = insert(top, topCol, t, x3, i + 3) || bad;
    }
  }
  for (let i = R4; i < R; i++) {
    const b = i * S;
    for (let j = 0; j < C; j++) bad = insert(top, topCol, 3 * j, a[b + j]!, i) || bad;
  }
  for (let j = 0; j < C; j++) if (top[3 * j] === -Infinity) bad = true;
  return bad;
}
