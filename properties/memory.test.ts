/**
 * Resource law: an evaluation releases every tensor it makes. After 100 steps of `evaluate`,
 * `valueAndGrad` (results disposed) and a training-style `tf.variableGrads` over `loss`, the
 * engine holds exactly the tensors it held before, on every target.
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { objective, weighted } from '../core/combinators.js';
import { student as s, teacher as t } from '../core/views.js';
import { affinity, akl, feature, jsd, kl, relation, supervisedCE, tvd } from '../losses/index.js';
import { distillationBatch, float32Values } from './arbitraries.js';
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
  });
}
