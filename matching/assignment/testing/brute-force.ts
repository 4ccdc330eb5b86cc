/**
 * Oracle for tests: the optimal total by enumerating every injection of the smaller side into
 * the larger one, n!/(n−k)! of them (5 040 for 7×7). Independent of the solver: no potentials,
 * no augmenting paths, just the definition. When every injection uses a forbidden cell it
 * returns that forbidden value: +Infinity, or −Infinity under `maximize`.
 */
export function bruteForceTotal(cost: ArrayLike<number>, n: number, m: number, maximize = false): number {
  const k = Math.min(n, m);
  if (k === 0) return 0;
  const tall = n > m;
  const at = (s: number, l: number): number => (tall ? cost[l * m + s]! : cost[s * m + l]!);
  const large = tall ? n : m;
  const used = new Uint8Array(large);
  const sign = maximize ? -1 : 1;
  let best = Infinity;
  const visit = (s: number, acc: number): void => {
    if (s === k) {
      if (acc < best) best = acc;
      return;
    }
    for (let l = 0; l < large; l++) {
      if (used[l]) continue;
      used[l] = 1;
      visit(s + 1, acc + sign * at(s, l));
      used[l] = 0;
    }
  };
  visit(0, 0);
  return sign * best + 0; // + 0 turns −0 into 0
}
