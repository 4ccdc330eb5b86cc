/** Finite differences against functions with known gradients, including the reference losses. */
import { describe, expect, it } from 'vitest';
import { smoothL1 } from './affinity.js';
import { divergenceLoss } from './divergence-loss.js';
import { directionalCheck, directionalDerivative, gradient, randomDirection } from './finite-differences.js';
import { logSumExp, softmax } from './log-softmax.js';

/** max_i |a_i − b_i| / max(|b_i|, 1) */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), 1));
  return e;
}

describe('gradient', () => {
  const cubeSum = (x: Float64Array): number => x.reduce((s, v) => s + v ** 3, 0);
  it('of Σ x³ is 3x² (3 and 5 points)', () => {
    const x = [1, -2, 0.5, 3, 0];
    const exact = x.map((v) => 3 * v * v);
    expect(relativeError(gradient(cubeSum, x), exact)).toBeLessThan(1e-9);
    expect(relativeError(gradient(cubeSum, x, { stencil: 5 }), exact)).toBeLessThan(1e-11);
  });
  it('scales the step with |x|: x³ at x = 1e-3, 1 and 1e3', () => {
    for (const x of [1e-3, 1, 1e3]) {
      expect(relativeError(gradient(cubeSum, [x]), [3 * x * x]), `x = ${x}`).toBeLessThan(1e-9);
    }
  });
  it('of logsumexp is softmax', () => {
    const y = [3, -1, 0.25, 7];
    expect(
      relativeError(
        gradient((v) => logSumExp(v), y),
        softmax(y),
      ),
    ).toBeLessThan(1e-9);
  });
  it('does not modify its argument', () => {
    const y = Float64Array.from([1, 2]);
    gradient((v) => {
      v[0] = 99;
      return v[1]!;
    }, y);
    expect(Array.from(y)).toEqual([1, 2]);
  });
});

describe('directional derivatives', () => {
  const f = (x: Float64Array): number => Math.sin(x[0]!) * Math.exp(x[1]!) + x[2]! ** 2;
  const x = [0.3, -0.7, 2];
  const grad = [Math.cos(0.3) * Math.exp(-0.7), Math.sin(0.3) * Math.exp(-0.7), 4];
  it('match ⟨∇f, v⟩', () => {
    for (let seed = 0; seed < 5; seed++) {
      const v = randomDirection(3, seed);
      const expected = grad.reduce((s, g, i) => s + g * v[i]!, 0);
      expect(directionalDerivative(f, x, v)).toBeCloseTo(expected, 9);
    }
  });
  it('random directions are unit vectors, reproducible from the seed', () => {
    const v = randomDirection(50, 7);
    expect(Math.hypot(...v)).toBeCloseTo(1, 14);
    expect(Array.from(randomDirection(50, 7))).toEqual(Array.from(v));
    expect(Array.from(randomDirection(50, 8))).not.toEqual(Array.from(v));
  });
  it('directionalCheck accepts the right gradient and exposes a wrong one', () => {
    const ok = directionalCheck(f, x, grad, { count: 4, seed: 3 });
    for (let k = 0; k < 4; k++) expect(ok.numeric[k]).toBeCloseTo(ok.analytic[k]!, 9);
    const wrong = directionalCheck(f, x, [grad[0]!, grad[1]!, 4.1], { count: 4, seed: 3 });
    const worst = Math.max(...wrong.numeric.map((n, k) => Math.abs(n - wrong.analytic[k]!)));
    expect(worst).toBeGreaterThan(1e-3);
  });
});

describe('gradients of reference losses', () => {
  // d/db mean_i KL(softmax(a_i/T) ‖ softmax(b_i/T)) = (q_i − p_i) / (T · N)
  const V = 4;
  const N = 2;
  const T = 1.7;
  const teacher = [0.5, -1, 2, 0, 3, 3, -2, 1];
  const student = [1, 0, -0.5, 0.2, -1, 2, 0, 0.7];
  /**
   * The finite-difference gradient of the mean divergence `kind` with respect to the student
   * logits against the exact one, (∂ℓ_i/∂log q_i)_v / (T N), given row by row from p_i and q_i.
   */
  const expectGradient = (kind: 'forwardKL' | 'reverseKL', exactRow: (p: Float64Array, q: Float64Array) => (v: number) => number): void => {
    const loss = (s: Float64Array): number => divergenceLoss({ teacher, student: s, rows: N, vocab: V, temperature: T, divergence: { kind } });
    const exact = new Float64Array(N * V);
    for (let i = 0; i < N; i++) {
      const entry = exactRow(softmax(teacher.slice(i * V, (i + 1) * V), T), softmax(student.slice(i * V, (i + 1) * V), T));
      for (let v = 0; v < V; v++) exact[i * V + v] = entry(v) / (T * N);
    }
    expect(relativeError(gradient(loss, student, { stencil: 5 }), exact)).toBeLessThan(1e-10);
  };
  it('forward KL: (q − p) / (T N) with respect to the student logits', () => {
    expectGradient('forwardKL', (p, q) => (v) => q[v]! - p[v]!);
  });
  it('reverse KL: q ⊙ (log q − log p − KL(q ‖ p)) / (T N)', () => {
    expectGradient('reverseKL', (p, q) => {
      const klqp = q.reduce((s, qv, v) => s + qv * Math.log(qv / p[v]!), 0);
      return (v) => q[v]! * (Math.log(q[v]! / p[v]!) - klqp);
    });
  });
  it('SmoothL1: d inside (−β, β), |d| − ½β slope ±1 outside', () => {
    expect(gradient((d) => smoothL1(d[0]!), [0.3])[0]).toBeCloseTo(0.3, 9);
    expect(gradient((d) => smoothL1(d[0]!), [-2])[0]).toBeCloseTo(-1, 9);
  });
});
