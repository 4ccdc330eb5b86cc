/**
 * Laws of `paddedVocab` (heads padded beyond the real vocabulary V₀, the smaller one a prefix of
 * the larger), on every target: the divergence equals the one on the first V₀ logits of each side,
 * whatever the padding rows hold, and the student's padding rows get a zero gradient; the same
 * with a teacher given by top-k signals. Every mismatch without the option stays an error naming
 * both shapes and the options that fit.
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MissingMass } from '../core/outputs.js';
import { student as s, teacher as t } from '../core/views.js';
import type { TeacherLogits } from '../losses/divergence.js';
import { jsd, kl } from '../losses/index.js';
import { topKOfLogits } from '../recipes/signals/format.js';
import { float32Values, type RoleBatch, roleBatch } from './arbitraries.js';
import { activate, compileOn, evaluate, runs, targets } from './harness.js';
import { expectClose, toleranceFor } from './tolerances.js';

interface Case {
  readonly roles: RoleBatch;
  readonly V0: number;
  readonly padT: number;
  readonly padS: number;
  readonly teacher: Float32Array;
  readonly student: Float32Array;
  readonly kind: 'forward' | 'reverse' | 'jsd';
}

const cases: fc.Arbitrary<Case> = fc
  .record({
    roles: roleBatch(2),
    V0: fc.integer({ min: 2, max: 7 }),
    padT: fc.integer({ min: 0, max: 3 }),
    padS: fc.integer({ min: 0, max: 3 }),
    kind: fc.constantFrom('forward' as const, 'reverse' as const, 'jsd' as const),
  })
  .chain((c) => {
    const n = c.roles.B * c.roles.T;
    return fc.record({ teacher: float32Values(n * (c.V0 + c.padT), 8), student: float32Values(n * (c.V0 + c.padS), 8) }).map((l) => ({ ...c, ...l }));
  });

/** The first `keep` of every row of width `width`. */
const prefix = (x: Float32Array, width: number, keep: number) =>
  Float32Array.from({ length: (x.length / width) * keep }, (_, i) => x[Math.floor(i / keep) * width + (i % keep)]!);

const build = (c: Case, teacherView: TeacherLogits = t.logits.next('response'), options: { paddedVocab?: number } = {}) => {
  const sv = s.logits.next('response');
  return c.kind === 'forward'
    ? kl.forward(teacherView, sv, options)
    : c.kind === 'reverse'
      ? kl.reverse(teacherView, sv, options)
      : jsd(teacherView, sv, { ...options, beta: 0.3 });
};

for (const target of targets()) {
  describe(`paddedVocab on ${target.label}`, () => {
    beforeAll(() => activate(target));
    const value = toleranceFor(target.backend, 'value');
    const gradient = toleranceFor(target.backend, 'gradient');

    it('equals the divergence on the first V₀ logits of each side; the padding rows get no gradient', async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const { B, T, roles } = c.roles;
          const [vt, vs] = [c.V0 + c.padT, c.V0 + c.padS];
          const padded = { teacher: { logits: tf.tensor3d(c.teacher, [B, T, vt]), roles }, student: { logits: tf.tensor3d(c.student, [B, T, vs]), roles } };
          const real = {
            teacher: { logits: tf.tensor3d(prefix(c.teacher, vt, c.V0), [B, T, c.V0]), roles },
            student: { logits: tf.tensor3d(prefix(c.student, vs, c.V0), [B, T, c.V0]), roles },
          };
          try {
            const a = await evaluate(build(c, undefined, { paddedVocab: c.V0 }), padded);
            const b = await evaluate(build(c), real);
            expectClose(a.loss, b.loss, value, 'value');
            const g = a.grads['student.logits']!;
            expectClose(prefix(g, vs, c.V0), b.grads['student.logits']!, gradient, 'gradient of the real rows');
            for (let i = 0; i < g.length; i++) if (i % vs >= c.V0 && g[i] !== 0) throw new Error(`padding row ${i % vs} of the student got gradient ${g[i]}`);
          } finally {
            tf.dispose([padded.teacher.logits, padded.student.logits, real.teacher.logits, real.student.logits]);
          }
        }),
        { numRuns: runs(25) },
      );
    });

    it('with top-k signals over a padded teacher head: equals the signals over V₀ against the student’s first V₀ logits', async () => {
      await fc.assert(
        fc.asyncProperty(cases, fc.constantFrom<MissingMass>('renormalize', 'tailBucket', 'uniform'), async (c, policy) => {
          const { B, T, roles } = c.roles;
          const vs = c.V0 + c.padS;
          // The teacher's padding rows never win a place in its top k: their logits are very low.
          const vt = c.V0 + c.padT;
          const teacher = Float32Array.from(c.teacher, (v, i) => (i % vt >= c.V0 ? -60 : v));
          const k = Math.max(1, c.V0 - 1);
          const sigOf = (x: Float32Array, width: number) => ({
            ...topKOfLogits(x, B * T, width, k, 1),
            shape: [B, T, k] as const,
            vocab: width,
            temperature: 1,
          });
          const padded = { teacher: { topk: sigOf(teacher, vt), roles }, student: { logits: tf.tensor3d(c.student, [B, T, vs]), roles } };
          const real = {
            teacher: { topk: sigOf(prefix(teacher, vt, c.V0), c.V0), roles },
            student: { logits: tf.tensor3d(prefix(c.student, vs, c.V0), [B, T, c.V0]), roles },
          };
          try {
            const a = await evaluate(build(c, t.topk(policy).next('response'), { paddedVocab: c.V0 }), padded);
            const b = await evaluate(build(c, t.topk(policy).next('response')), real);
            // The teacher's tail mass includes its padding rows' (≈ e^−60): a few float32 roundings.
            expectClose(a.loss, b.loss, { atol: 4 * value.atol, rtol: 4 * value.rtol }, `${policy}: value`);
            expectClose(
              prefix(a.grads['student.logits']!, vs, c.V0),
              b.grads['student.logits']!,
              { atol: 4 * gradient.atol, rtol: 4 * gradient.rtol },
              `${policy}: gradient`,
            );
          } finally {
            tf.dispose([padded.student.logits, real.student.logits]);
          }
        }),
        { numRuns: runs(15) },
      );
    });

    it('without the option a mismatch is an error naming both shapes and the options; with a bad one, what is wrong', () => {
      const roles = Int32Array.from([1, 3, 3]);
      const inputs = (vt: number, vs: number) => ({
        teacher: { logits: tf.zeros([1, 3, vt]) as tf.Tensor3D, roles },
        student: { logits: tf.zeros([1, 3, vs]) as tf.Tensor3D, roles },
      });
      const given = inputs(8, 6);
      const sv = s.logits.next('response');
      expect(() => compileOn(kl.forward(t.logits.next('response'), sv), given)).toThrow(
        "vocabularies differ: teacher.logits [1, 3, 8] vs student.logits [1, 3, 6]; set truncateVocab to compare the first min(V) logits, if the extra rows are padding, or paddedVocab to the real vocabulary size (at most 6) to mask both heads' padding rows; for a teacher with another tokenizer, use the uld loss",
      );
      expect(() => compileOn(kl.forward(t.logits.next('response'), sv, { paddedVocab: 7 }), given)).toThrow(
        "paddedVocab 7 is larger than a side's vocabulary: teacher.logits [1, 3, 8], student.logits [1, 3, 6]; it must be at most 6",
      );
      expect(() => compileOn(kl.forward(t.logits.next('response'), sv, { paddedVocab: 5, truncateVocab: true }), given)).toThrow(
        'set paddedVocab or truncateVocab, not both',
      );
      expect(() => compileOn(kl.forward(t.logits.next('response'), sv, { paddedVocab: 0 }), given)).toThrow(
        'paddedVocab must be the real vocabulary size (a whole number ≥ 1) or absent, got 0',
      );
      tf.dispose([given.teacher.logits, given.student.logits]);
      // Signals with an id among the padding rows.
      const sig = {
        ...topKOfLogits(
          Float32Array.from({ length: 24 }, (_, i) => (i % 8 === 7 ? 9 : 0)),
          3,
          8,
          2,
          1,
        ),
        shape: [1, 3, 2] as const,
        vocab: 8,
        temperature: 1,
      };
      const student = tf.zeros([1, 3, 6]) as tf.Tensor3D;
      const withSignals = { teacher: { topk: sig, roles }, student: { logits: student, roles } };
      return expect(compileOn(kl.forward(t.topk('tailBucket').next('response'), sv, { paddedVocab: 6 }), withSignals).evaluate(withSignals))
        .rejects.toThrow(/objective: teacher.topk id 7 \(entry 0 of selected token 0\) is a padding row: paddedVocab is 6, the real vocabulary/)
        .finally(() => student.dispose());
    });
  });
}
