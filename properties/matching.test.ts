/**
 * Laws of matchers inside objectives, on every target: a Hungarian-matched loss ignores the
 * order of the teacher's tokens, pairs tokens as an exhaustive search would, and reduces to the
 * unmatched loss when the identity is optimal; pooling averages grid blocks; Sinkhorn plans mix
 * with weights that sum to 1; matched objectives release every tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DistillInputs } from '../core/outputs.js';
import { ROLE_CODES } from '../core/roles.js';
import { student as s, teacher as t } from '../core/views.js';
import { kl } from '../losses/index.js';
import { match } from '../matching/builders.js';
import { plan } from '../matching/matchers/sinkhorn.js';
import { emKdObjective } from '../recipes/objectives/em-kd.js';
import { float32Values } from './arbitraries.js';
import { activate, compileOn, targets } from './harness.js';
import { divergenceLoss } from './reference/index.js';
import { expectClose, loosen, toleranceFor } from './tolerances.js';

const { prompt, visual, response } = ROLE_CODES;

/** One sample: a prompt token, K_t (teacher) or K_s (student) vision tokens, two response tokens. */
interface Case {
  readonly kt: number;
  readonly ks: number;
  readonly V: number;
  readonly teacher: Float32Array; // [1, 1 + kt + 2, V]
  readonly student: Float32Array; // [1, 1 + ks + 2, V]
}

const cases = (sameCount = false): fc.Arbitrary<Case> =>
  fc
    .record({ ks: fc.integer({ min: 1, max: 4 }), extra: fc.integer({ min: 0, max: sameCount ? 0 : 2 }), V: fc.integer({ min: 2, max: 6 }) })
    .chain(({ ks, extra, V }) => {
      const kt = ks + extra;
      return fc.tuple(float32Values((kt + 3) * V, 6), float32Values((ks + 3) * V, 6)).map(([teacher, student]) => ({ kt, ks, V, teacher, student }));
    });

const layout = (k: number) => Int32Array.from([prompt, ...Array<number>(k).fill(visual), response, response]);

function inputsOf(c: Case): DistillInputs {
  return {
    teacher: { logits: tf.tensor3d(c.teacher, [1, c.kt + 3, c.V]), roles: layout(c.kt) },
    student: { logits: tf.tensor3d(c.student, [1, c.ks + 3, c.V]), roles: layout(c.ks) },
  };
}

const dispose = (x: DistillInputs) => tf.dispose([x.teacher.logits, x.student.logits]);

/** Rows of the vision tokens of a side. */
const visionRows = (data: Float32Array, k: number, V: number) => data.subarray(V, (1 + k) * V);

/** The minimum over all injections of student tokens into teacher tokens of Σ L1(t_σ(j), s_j). */
function bruteForce(c: Case): { total: number; best: number[] } {
  const t = visionRows(c.teacher, c.kt, c.V);
  const st = visionRows(c.student, c.ks, c.V);
  const cost = (i: number, j: number) => {
    let d = 0;
    for (let v = 0; v < c.V; v++) d += Math.abs(Math.fround(t[i * c.V + v]!) - Math.fround(st[j * c.V + v]!));
    return d;
  };
  let best = { total: Infinity, best: [] as number[] };
  const used = new Array<boolean>(c.kt).fill(false);
  const chosen: number[] = [];
  const go = (j: number, sum: number) => {
    if (sum >= best.total) return;
    if (j === c.ks) {
      best = { total: sum, best: [...chosen] };
      return;
    }
    for (let i = 0; i < c.kt; i++) {
      if (used[i]) continue;
      used[i] = true;
      chosen.push(i);
      go(j + 1, sum + cost(i, j));
      chosen.pop();
      used[i] = false;
    }
  };
  go(0, 0);
  return best;
}

/** The teacher with its vision tokens reordered by `order`. */
function permuteTeacher(c: Case, order: readonly number[]): Case {
  const out = Float32Array.from(c.teacher);
  order.forEach((from, to) => out.set(c.teacher.subarray((1 + from) * c.V, (2 + from) * c.V), (1 + to) * c.V));
  return { ...c, teacher: out };
}

const vsd = () => {
  const m = match.hungarian(t.logits.at('visual'), s.logits.at('visual'), { cost: 'l1' });
  return kl.reverse(m.teacher, s.logits.at('visual'));
};

async function lossOf(node: ReturnType<typeof vsd>, c: Case): Promise<number> {
  const x = inputsOf(c);
  try {
    return (await compileOn(node, x).evaluate(x)).loss;
  } finally {
    dispose(x);
  }
}

for (const target of targets()) {
  describe(`matching on ${target.label}`, () => {
    beforeAll(() => activate(target));
    const value = () => toleranceFor(target.backend, 'value');

    it("a Hungarian-matched loss does not depend on the order of the teacher's tokens", async () => {
      await fc.assert(
        fc.asyncProperty(
          cases().chain((c) => fc.shuffledSubarray([...Array(c.kt).keys()], { minLength: c.kt, maxLength: c.kt }).map((order) => ({ c, order }))),
          async ({ c, order }) => {
            // Unique optimum only: with ties, equal-cost matchings may pair different logits.
            fc.pre(isUniqueOptimum(c));
            expectClose(await lossOf(vsd(), permuteTeacher(c, order)), await lossOf(vsd(), c), value(), 'matched loss after permuting');
          },
        ),
        { numRuns: 30 },
      );
    });

    it('pairs tokens as an exhaustive search over injections does', async () => {
      await fc.assert(
        fc.asyncProperty(cases(), async (c) => {
          fc.pre(isUniqueOptimum(c));
          const { best } = bruteForce(c);
          // The loss of the brute-force pairing, from the float64 reference.
          const t = visionRows(c.teacher, c.kt, c.V);
          const paired = new Float64Array(c.ks * c.V);
          best.forEach((i, j) => paired.set(t.subarray(i * c.V, (i + 1) * c.V), j * c.V));
          const expected = divergenceLoss({
            teacher: paired,
            student: visionRows(c.student, c.ks, c.V),
            rows: c.ks,
            vocab: c.V,
            divergence: { kind: 'reverseKL' },
          });
          expectClose(await lossOf(vsd(), c), expected, value(), 'matched reverse KL');
        }),
        { numRuns: 30 },
      );
    });

    it('with a student equal to a reordered teacher, the matched loss is 0', async () => {
      await fc.assert(
        fc.asyncProperty(
          cases(true).chain((c) => fc.shuffledSubarray([...Array(c.kt).keys()], { minLength: c.kt, maxLength: c.kt }).map((order) => ({ c, order }))),
          async ({ c, order }) => {
            const shuffled = permuteTeacher(c, order);
            fc.pre(isUniqueOptimum({ ...c, student: shuffled.teacher }));
            expectClose(await lossOf(vsd(), { ...c, student: shuffled.teacher }), 0, value(), 'loss against a reordered copy');
          },
        ),
        { numRuns: 20 },
      );
    });

    it('identity matching gives the unmatched loss', async () => {
      await fc.assert(
        fc.asyncProperty(cases(true), async (c) => {
          const identity = kl.reverse(match.identity(t.logits.at('visual'), s.logits.at('visual')).teacher, s.logits.at('visual'));
          expectClose(await lossOf(identity, c), await lossOf(kl.reverse(t.logits.at('visual'), s.logits.at('visual')), c), value(), 'identity-matched loss');
        }),
        { numRuns: 20 },
      );
    });

    it('grid pooling gives each student token the mean of its teacher block', async () => {
      // A 4×4 teacher grid pooled 2×2 to a 2×2 student grid; the student equals the block means.
      const V = 3;
      const teacher = new Float32Array((16 + 3) * V).map((_, i) => Math.sin(i) * 3);
      const student = new Float32Array((4 + 3) * V);
      for (let j = 0; j < 4; j++) {
        const [r, c] = [Math.floor(j / 2), j % 2];
        for (let v = 0; v < V; v++) {
          let sum = 0;
          for (const [dr, dc] of [
            [0, 0],
            [0, 1],
            [1, 0],
            [1, 1],
          ] as const)
            sum += teacher[(1 + (2 * r + dr) * 4 + 2 * c + dc) * V + v]!;
          student[(1 + j) * V + v] = sum / 4;
        }
      }
      const feature = kl.reverse(match.pool(t.logits.at('visual'), s.logits.at('visual')).teacher, s.logits.at('visual'));
      // KL between softmaxes of identical logits is 0: the aligned rows are the block means.
      expectClose(await lossOf(feature, { kt: 16, ks: 4, V, teacher, student }), 0, loosen(value(), 10), 'pooled loss');
    });

    it('leaves no tensor behind over 50 steps of the EM-KD objective with matching', async () => {
      const [c] = fc.sample(cases(), { numRuns: 1, seed: 3 });
      const x = inputsOf(c!);
      const hidden = (k: number) => tf.randomNormal([1, k + 3, 4], 0, 1, 'float32', k) as tf.Tensor3D;
      const inputs: DistillInputs = {
        teacher: { ...x.teacher, hidden: hidden(c!.kt) },
        student: { ...x.student, hidden: hidden(c!.ks) },
        labels: Int32Array.from([...Array<number>(c!.ks + 1).fill(-100), 1, 0]),
      };
      const compiled = compileOn(emKdObjective(), inputs);
      const before = tf.memory().numTensors;
      for (let step = 0; step < 50; step++) (await compiled.valueAndGrad(inputs)).dispose();
      expect(tf.memory().numTensors).toBe(before);
      compiled.dispose();
      tf.dispose([inputs.teacher.hidden!, inputs.student.hidden!]);
      dispose(x);
    });
  });
}

describe('Sinkhorn plans', () => {
  it('give mixing weights that are non-negative and sum to 1 for every student token', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.nat(1000), (n, m, seed) => {
        const cost = Float32Array.from({ length: n * m }, (_, i) => Math.abs(Math.sin(seed + i * 1.3)));
        const w = plan(cost, n, m, 0.05, 100);
        for (let j = 0; j < m; j++) {
          let sum = 0;
          for (let i = 0; i < n; i++) {
            expect(w[j * n + i]).toBeGreaterThanOrEqual(0);
            sum += w[j * n + i]!;
          }
          expect(sum).toBeCloseTo(1, 5);
        }
      }),
    );
  });

  it('approach the optimal permutation as ε shrinks', () => {
    // A cost whose optimum is the anti-diagonal.
    const n = 4;
    const cost = Float32Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) + (k % n) === n - 1 ? 0 : 1 + ((k * 7) % 5) / 10));
    const w = plan(cost, n, n, 0.005, 500);
    for (let j = 0; j < n; j++) expect(w[j * n + (n - 1 - j)]).toBeGreaterThan(0.99);
  });
});

/** Whether the best injection beats every other by a margin (so float32 cannot pick another). */
function isUniqueOptimum(c: Case): boolean {
  const t = visionRows(c.teacher, c.kt, c.V);
  const st = visionRows(c.student, c.ks, c.V);
  const cost = (i: number, j: number) => {
    let d = 0;
    for (let v = 0; v < c.V; v++) d += Math.abs(t[i * c.V + v]! - st[j * c.V + v]!);
    return d;
  };
  const totals: number[] = [];
  const used = new Array<boolean>(c.kt).fill(false);
  const go = (j: number, sum: number) => {
    if (j === c.ks) return void totals.push(sum);
    for (let i = 0; i < c.kt; i++) {
      if (used[i]) continue;
      used[i] = true;
      go(j + 1, sum + cost(i, j));
      used[i] = false;
    }
  };
  go(0, 0);
  totals.sort((a, b) => a - b);
  return totals.length < 2 || totals[1]! - totals[0]! > 1e-3;
}
