/**
 * Laws of the Universal Logit Distillation loss (`uld`) on every target: its value is a float64
 * reference's (sorted, zero-padded, L1) and its gradient that reference's finite differences away
 * from kinks; it is zero for distributions equal up to the order of the vocabulary, invariant to
 * permuting either vocabulary (the student's gradient permuted alike), and in [0, 2], for teacher
 * and student vocabularies of different sizes.
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { student as s, teacher as t } from '../core/views.js';
import { uld } from '../losses/index.js';
import { float32Values, ROLE, type RoleBatch, roleBatch, temperature } from './arbitraries.js';
import { activate, evaluate, runs, targets } from './harness.js';
import { directionalCheck, softmax } from './reference/index.js';
import { expectClose, loosen, toleranceFor } from './tolerances.js';

interface Case {
  readonly roles: RoleBatch;
  readonly vt: number;
  readonly vs: number;
  readonly teacher: Float32Array;
  readonly student: Float32Array;
  readonly temperature: number;
  /** A permutation seed. */
  readonly seed: number;
}

const cases: fc.Arbitrary<Case> = fc
  .record({
    roles: roleBatch(2),
    vt: fc.integer({ min: 2, max: 8 }),
    vs: fc.integer({ min: 2, max: 8 }),
    temperature,
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .chain((c) => {
    const n = c.roles.B * c.roles.T;
    return fc.record({ teacher: float32Values(n * c.vt, 8), student: float32Values(n * c.vs, 8) }).map((l) => ({ ...c, ...l }));
  });

const graph = (c: Case) => uld(t.logits.next('response'), s.logits.next('response'), { temperature: c.temperature });

async function outcome(c: Case, teacher = c.teacher, student = c.student, vt = c.vt, vs = c.vs) {
  const { B, T, roles } = c.roles;
  const inputs = { teacher: { logits: tf.tensor3d(teacher, [B, T, vt]), roles }, student: { logits: tf.tensor3d(student, [B, T, vs]), roles } };
  try {
    return await evaluate(graph(c), inputs);
  } finally {
    tf.dispose([inputs.teacher.logits, inputs.student.logits]);
  }
}

/** Selected positions (next response), row-major. */
function selected(c: Case): number[] {
  const { B, T, roles } = c.roles;
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let i = 0; i + 1 < T; i++) if (roles[b * T + i + 1] === ROLE.response) out.push(b * T + i);
  return out;
}

const sortedDesc = (x: ArrayLike<number>) => Array.from(x).sort((a, b) => b - a);

/** Per selected row: (p↓, q↓) zero-padded to max V, in float64. */
function sortedPairs(c: Case, x: ArrayLike<number>): Array<[number[], number[]]> {
  const width = Math.max(c.vt, c.vs);
  const pad = (v: number[]) => [...v, ...new Array(width - v.length).fill(0)];
  return selected(c).map((r) => [
    pad(sortedDesc(softmax(c.teacher.subarray(r * c.vt, (r + 1) * c.vt), c.temperature))),
    pad(sortedDesc(softmax(Array.prototype.slice.call(x, r * c.vs, (r + 1) * c.vs) as number[], c.temperature))),
  ]);
}

const reference = (c: Case) => (x: ArrayLike<number>) => {
  const pairs = sortedPairs(c, x);
  if (pairs.length === 0) return 0;
  return pairs.reduce((a, [p, q]) => a + p.reduce((m, pi, i) => m + Math.abs(pi - q[i]!), 0), 0) / pairs.length;
};

/** Away from kinks: no rank where p↓ and q↓ come within 1e-2, no ties in q that close (the stencil's steps would straddle them). */
function smooth(c: Case): boolean {
  return sortedPairs(c, c.student).every(([p, q]) => q.every((qi, i) => Math.abs(qi - p[i]!) > 1e-2 && (i === 0 || q[i - 1]! - qi > 1e-2 || qi === 0)));
}

/** A permutation of 0 … n−1 from `seed`. */
function permutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let x = seed;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Every row's columns permuted: out[r, v] = x[r, perm[v]]. */
const permuteColumns = (x: Float32Array, width: number, perm: readonly number[]) =>
  Float32Array.from(x, (_, i) => x[Math.floor(i / width) * width + perm[i % width]!]!);

for (const target of targets()) {
  describe(`uld on ${target.label}`, () => {
    beforeAll(() => activate(target));
    const value = toleranceFor(target.backend, 'value');
    const gradient = toleranceFor(target.backend, 'gradient');

    it('value: the float64 reference (sorted, zero-padded, L1), in [0, 2]; gradient: its finite differences away from kinks', async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const out = await outcome(c);
          const f = reference(c);
          expectClose(out.loss, f(c.student), value, `V_t = ${c.vt}, V_s = ${c.vs}: value`);
          if (!(out.loss >= -value.atol && out.loss <= 2 + value.atol)) throw new Error(`uld ${out.loss} outside [0, 2]`);
          if (!smooth(c)) return;
          const check = directionalCheck(f, c.student, out.grads['student.logits']!, { count: 2, seed: 3, stencil: 5 });
          expectClose(check.analytic, check.numeric, loosen(gradient, 20), `V_t = ${c.vt}, V_s = ${c.vs}: directional derivatives`);
        }),
        { numRuns: runs(40) },
      );
    });

    it('is zero when the two distributions are equal up to the order of the vocabulary', async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const perm = permutation(c.vt, c.seed);
          const out = await outcome({ ...c, vs: c.vt }, c.teacher, permuteColumns(c.teacher, c.vt, perm), c.vt, c.vt);
          expectClose(out.loss, 0, loosen(value, 2), `V = ${c.vt}`);
        }),
        { numRuns: runs(25) },
      );
    });

    it("is invariant to permuting either vocabulary; the student's gradient is permuted alike", async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const [pt, ps] = [permutation(c.vt, c.seed), permutation(c.vs, c.seed ^ 0x5bd1e995)];
          const base = await outcome(c);
          const teacherPermuted = await outcome(c, permuteColumns(c.teacher, c.vt, pt));
          const studentPermuted = await outcome(c, c.teacher, permuteColumns(c.student, c.vs, ps));
          expectClose(teacherPermuted.loss, base.loss, value, 'teacher permuted');
          expectClose(studentPermuted.loss, base.loss, value, 'student permuted');
          if (!smooth(c)) return;
          expectClose(studentPermuted.grads['student.logits']!, permuteColumns(base.grads['student.logits']!, c.vs, ps), gradient, 'gradient permuted');
        }),
        { numRuns: runs(25) },
      );
    });
  });
}
