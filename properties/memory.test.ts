/**
 * Resource laws: an evaluation releases every tensor it makes. After 100 steps of `evaluate`,
 * `valueAndGrad` (results disposed) and a training-style `tf.variableGrads` over `loss`, the
 * engine holds exactly the tensors it held before, on every target. And on the host kernels (cpu,
 * wasm), value + gradient of every divergence holds no buffer beyond its inputs and the gradient
 * (distinct buffers, `buffer-peak.ts`), whether its views take every token or some of them.
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { objective, weighted } from '../core/combinators.js';
import { ROLE_CODES } from '../core/roles.js';
import { student as s, teacher as t } from '../core/views.js';
import { affinity, akl, feature, jsd, kl, relation, softCE, supervisedCE, tvd } from '../losses/index.js';
import { distillationBatch, float32Values } from './arbitraries.js';
import { trackBuffers } from './buffer-peak.js';
import { divergenceBuilds } from './divergence-builds.js';
import { activate, compileOn, disposeInputs, targets, toInputs } from './harness.js';

/** One objective that reads every kind of loss, logits and hidden states. */
const everything = objective({
  ce: supervisedCE(s.logits.next('response')),
  fkl: kl.forward(t.logits.next('response'), s.logits.next('response')),
  rkl: weighted(0.5, kl.reverse(t.logits.at('visual'), s.logits.at('visual'), { temperature: 2, scaleT2: true })),
  jsd: jsd(t.logits.at('visual'), s.logits.at('visual')),
  tvd: tvd(t.logits.at('prompt'), s.logits.at('prompt')),
  akl: akl(t.logits.next('response'), s.logits.next('response')),
  rel: weighted(0.5, relation(t.logits.at('visual'), s.logits.at('visual'))),
  vlad: weighted(
    25,
    affinity({
      teacher: { vision: t.hidden.at('visual'), text: t.hidden.at('prompt') },
      student: { vision: s.hidden.at('visual'), text: s.hidden.at('prompt') },
    }),
  ),
  feat: feature.mse(t.hidden.at('visual'), s.hidden.at('visual'), { projection: true }),
});

for (const target of targets()) {
  describe(`memory on ${target.label}`, () => {
    beforeAll(() => activate(target));

    it('leaves no tensor behind after 100 steps of evaluate, valueAndGrad and variableGrads', async () => {
      const [batch] = fc.sample(distillationBatch({ sameVisual: true, minVocab: 4 }), { numRuns: 1, seed: 7 });
      const [th, sh] = fc.sample(float32Values(batch!.teacher.B * batch!.teacher.T * 6, 2), { numRuns: 2, seed: 8 });
      const inputs = toInputs(batch!, { teacher: th!, student: sh!.subarray(0, batch!.student.B * batch!.student.T * 3), width: [6, 3] });
      const compiled = compileOn(everything, inputs);
      const studentLogits = tf.variable(inputs.student.logits!);
      const before = tf.memory().numTensors;
      for (let step = 0; step < 100; step++) {
        await compiled.evaluate(inputs);
        (await compiled.valueAndGrad(inputs)).dispose();
        const plan = await compiled.prepare(inputs);
        const { value, grads } = tf.variableGrads(() => compiled.loss({ ...inputs, student: { ...inputs.student, logits: studentLogits } }, plan).loss);
        tf.dispose([value, ...Object.values(grads)]);
      }
      expect(tf.memory().numTensors).toBe(before);
      studentLogits.dispose();
      compiled.dispose();
      disposeInputs(inputs);
    });

    if (target.lowering === 'fused' && (target.backend === 'cpu' || target.backend === 'wasm')) {
      it('value + gradient of every divergence holds its inputs and the gradient, nothing more of [B·T × V]', async () => {
        // [2, 64, 2048] logits, 1 MiB a side; threaded rows from 2^18 entries, so threads run too.
        const [B, T, V] = [2, 64, 2048];
        const whole = B * T * V * 4;
        // Every token a response (the views are the logits' rows) or a prompt then a response
        // (next('response') selects some rows, shifted); roles are the same on both sides.
        const everyToken = new Int32Array(B * T).fill(ROLE_CODES.response);
        const some = everyToken.map((_, p) => (p % T < 24 ? ROLE_CODES.prompt : ROLE_CODES.response));
        const at = (o: object) => [
          ['forward KL, every token', kl.forward(t.logits.at('response'), s.logits.at('response'), o)],
          ['soft CE, every token', softCE(t.logits.at('response'), s.logits.at('response'), o)],
        ];
        const cases = [
          ...at({}).map(([name, node]) => ({ name: name as string, node: node as ReturnType<typeof softCE>, roles: everyToken })),
          ...divergenceBuilds.map(([name, build]) => ({ name: `${name}, next('response')`, node: build({}, 0.3), roles: some })),
        ];
        const buffers = trackBuffers();
        try {
          const logits = (seed: number) => tf.randomNormal([B, T, V], 0, 2, 'float32', seed) as tf.Tensor3D;
          for (const { name, node, roles } of cases) {
            const inputs = { teacher: { logits: logits(1), roles }, student: { logits: logits(2), roles } };
            const compiled = compileOn(node, inputs);
            try {
              buffers.resetPeak();
              const result = await compiled.valueAndGrad(inputs);
              expect(Number.isFinite((await result.loss.data())[0]!), name).toBe(true);
              expect(result.grads['student.logits']!.shape, name).toEqual([B, T, V]);
              result.dispose();
              // Two inputs and the gradient, and small tensors (scalars, weights) well under one [B·T × V].
              const extra = buffers.peakBytes() - 3 * whole;
              expect(extra, `${name}: ${extra} B beyond the inputs and the gradient (one [B·T × V] is ${whole} B)`).toBeLessThan(whole / 16);
            } finally {
              compiled.dispose();
              disposeInputs(inputs);
            }
          }
        } finally {
          buffers.stop();
        }
      });
    }
  });
}
