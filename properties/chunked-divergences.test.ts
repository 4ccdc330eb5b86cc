/**
 * Laws of the memory-bounded generic divergence lowering (`chunkedDivergenceKernel`): cutting the
 * token rows into chunks of any size changes nothing beyond rounding. On every backend, the
 * chunked lowering with chunks of 1, 2 and 3 rows (so rows of one sample fall in different chunks)
 * gives the whole batch's loss and gradient (the generic lowering in one chunk) within the
 * tolerance table: with masks (views by role, shifted), temperatures, every reduction, T² scaling,
 * the divergences' own parameters, vocabularies that are no multiple of the chunk or of a
 * workgroup size, logits of ±1e4 and empty selections. Both paths are float32 with the same
 * operations per row, so the kinks of TVD (sign at ties) and AKL (the head/tail split), where a
 * float64 kernel may decide differently, do not separate them; each path against the float64
 * reference is `divergences.test.ts`'s business (the fused kernels there too).
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compile/compile.js';
import type { LossNode } from '../core/graph.js';
import type { DistillInputs } from '../core/outputs.js';
import { ROLE_CODES } from '../core/roles.js';
import type { Reduction } from '../core/selection.js';
import type { LoweringBackend } from '../core/target.js';
import { type DistillationBatch, distillationBatch, temperature, unitInterval } from './arbitraries.js';
import { type Build, chunkedLowering, divergenceBuilds } from './divergence-builds.js';
import { activate, disposeInputs, runs, targetLowering, targets, toInputs } from './harness.js';
import { expectClose, loosen, toleranceFor } from './tolerances.js';

const builds = divergenceBuilds;

async function lossAndGrad(graph: LossNode, inputs: DistillInputs, backend: LoweringBackend): Promise<{ loss: number; grad: Float32Array }> {
  const compiled = compile(graph, inputs, { backend });
  try {
    const result = await compiled.valueAndGrad(inputs);
    try {
      return { loss: (await result.loss.data())[0]!, grad: (await result.grads['student.logits']!.data()) as Float32Array };
    } finally {
      result.dispose();
    }
  } finally {
    compiled.dispose();
  }
}

interface Case {
  readonly batch: DistillationBatch;
  readonly temperature: number;
  readonly scaleT2: boolean;
  readonly reduction: Reduction;
  readonly x: number;
  readonly chunkRows: number;
}

const caseOf = (batch: fc.Arbitrary<DistillationBatch>, temperatures: fc.Arbitrary<number>): fc.Arbitrary<Case> =>
  fc.record({
    batch,
    temperature: temperatures,
    scaleT2: fc.boolean(),
    reduction: fc.constantFrom<Reduction>('mean', 'sum', 'sampleMean'),
    x: unitInterval,
    chunkRows: fc.constantFrom(1, 2, 3),
  });

/** Tokens a batch's `next('response')` view selects (a `sum` adds that many per-token errors). */
function selected(batch: DistillationBatch): number {
  const { roles, B, T: steps } = batch.student;
  let n = 0;
  for (let b = 0; b < B; b++) for (let i = 0; i + 1 < steps; i++) if (roles[b * steps + i + 1] === ROLE_CODES.response) n++;
  return n;
}

for (const target of targets().filter((x) => x.lowering === 'generic')) {
  describe(`chunked generic divergences agree with the whole batch on ${target.backend}`, () => {
    beforeAll(() => activate(target));

    const agree = async (name: string, build: Build, c: Case) => {
      const graph = build({ temperature: c.temperature, scaleT2: c.scaleT2, reduction: c.reduction }, c.x);
      const inputs = toInputs(c.batch);
      try {
        const whole = await lossAndGrad(graph, inputs, targetLowering());
        const parts = await lossAndGrad(graph, inputs, chunkedLowering(targetLowering(), c.chunkRows));
        // Two float32 paths, each within the table of the float64 reference: twice the table apart.
        const scale = 2 * (c.reduction === 'sum' ? Math.max(1, selected(c.batch)) : 1) * (c.scaleT2 ? c.temperature ** 2 : 1);
        expectClose(parts.loss, whole.loss, loosen(toleranceFor(target.backend, 'value'), scale), `${name} value, chunks of ${c.chunkRows}`);
        expectClose(parts.grad, whole.grad, loosen(toleranceFor(target.backend, 'gradient'), scale), `${name} gradient, chunks of ${c.chunkRows}`);
      } finally {
        disposeInputs(inputs);
      }
    };

    for (const [name, build] of builds) {
      it(`${name}: chunks of 1–3 rows give the whole batch's value and gradient`, async () => {
        await fc.assert(
          fc.asyncProperty(caseOf(distillationBatch({ sameVisual: true }), temperature), (c) => agree(name, build, c)),
          { numRuns: runs(12) },
        );
      });
    }

    it('logits of ±1e4 (T ∈ {½, 1, 2}): chunked and whole agree for every divergence', async () => {
      await fc.assert(
        fc.asyncProperty(caseOf(distillationBatch({ sameVisual: true, bound: 1e4 }), fc.constantFrom(0.5, 1, 2)), async (c) => {
          for (const [name, build] of builds) await agree(name, build, c);
        }),
        { numRuns: runs(4) },
      );
    });

    it('a vocabulary no multiple of the chunk (V = 1003, 7 rows in chunks of 3): value and gradient agree', async () => {
      const [rows, V] = [7, 1003];
      const random = (seed: number) => Float32Array.from({ length: rows * V }, (_, k) => 4 * Math.sin(seed * 12.9898 + k * 78.233));
      const roles = new Int32Array(rows).fill(ROLE_CODES.response);
      const inputs: DistillInputs = {
        teacher: { logits: tf.tensor3d(random(1), [1, rows, V]), roles },
        student: { logits: tf.tensor3d(random(2), [1, rows, V]), roles },
      };
      try {
        for (const [name, build] of builds) {
          const graph = build({ temperature: 1.5, reduction: 'mean' }, 0.3);
          const whole = await lossAndGrad(graph, inputs, targetLowering());
          const parts = await lossAndGrad(graph, inputs, chunkedLowering(targetLowering(), 3));
          expectClose(parts.loss, whole.loss, loosen(toleranceFor(target.backend, 'value'), 2), `${name} value`);
          expectClose(parts.grad, whole.grad, loosen(toleranceFor(target.backend, 'gradient'), 2), `${name} gradient`);
        }
      } finally {
        disposeInputs(inputs);
      }
    });

    it('an empty selection gives 0 with a zero gradient, in chunks too', async () => {
      const [rows, V] = [4, 5];
      const roles = new Int32Array(rows).fill(ROLE_CODES.prompt);
      const inputs: DistillInputs = {
        teacher: { logits: tf.randomNormal([1, rows, V], 0, 3, 'float32', 1), roles },
        student: { logits: tf.randomNormal([1, rows, V], 0, 3, 'float32', 2), roles },
      };
      try {
        for (const [name, build] of builds) {
          const out = await lossAndGrad(build({}, 0.5), inputs, chunkedLowering(targetLowering(), 1));
          expect(out.loss, name).toBe(0);
          expect(
            Array.from(out.grad).every((g) => g === 0),
            name,
          ).toBe(true);
        }
      } finally {
        disposeInputs(inputs);
      }
    });
  });
}
