import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { compile } from '../compile/compile.js';
import { kl, relation, supervisedCE } from '../losses/index.js';
import { objective } from './combinators.js';
import type { DistillInputs } from './outputs.js';
import { IGNORE_LABEL, ROLE_CODES } from './roles.js';
import { student as s, teacher as t } from './views.js';

const { prompt, visual, response, pad } = ROLE_CODES;

/** Two sequences of 6: prompt, 2 visual, prompt, 2 response; vocabulary 5. */
function inputs(overrides: { teacher?: number[]; student?: number[]; labels?: number[]; roles?: number[]; studentRoles?: number[] } = {}): DistillInputs {
  const roles = Int32Array.from(overrides.roles ?? [prompt, visual, visual, prompt, response, response, prompt, visual, visual, prompt, response, pad]);
  const values = (seed: number) => Array.from({ length: 60 }, (_, i) => Math.sin(seed + i * 0.7) * 2);
  return {
    teacher: { logits: tf.tensor3d(overrides.teacher ?? values(1), [2, 6, 5]), roles },
    student: {
      logits: tf.tensor3d(overrides.student ?? values(2), [2, 6, 5]),
      roles: overrides.studentRoles ? Int32Array.from(overrides.studentRoles) : roles,
    },
    labels: Int32Array.from(overrides.labels ?? [-100, -100, -100, -100, 1, 2, -100, -100, -100, -100, 3, -100]),
  };
}

const response_ = objective({
  ce: supervisedCE(s.logits.next('response')),
  res: kl.forward(t.logits.next('response'), s.logits.next('response')),
});

describe('lowering: errors only the data can reveal', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('names the tensor and the first non-finite entry', async () => {
    const teacher = Array.from({ length: 60 }, () => 0.5);
    teacher[23] = Number.NaN; // sample 0, position 4, vocab 3: a response-predicting position
    const x = inputs({ teacher });
    await expect(compile(response_, x).evaluate(x)).rejects.toThrow('teacher.logits [2, 6, 5] holds NaN at index [0, 4, 3]');
    const student = Array.from({ length: 60 }, () => 0.5);
    student[48] = Number.POSITIVE_INFINITY; // sample 1, position 3: predicts a response token
    const y = inputs({ student });
    await expect(compile(response_, y).valueAndGrad(y)).rejects.toThrow('student.logits [2, 6, 5] holds Infinity at index [1, 3, 3]');
  });

  it('ignores non-finite values at positions no term reads', async () => {
    const student = Array.from({ length: 60 }, () => 0.5);
    student[58] = Number.NaN; // sample 1, position 5: padding, read by nothing
    const x = inputs({ student });
    expect(Number.isFinite((await compile(response_, x).evaluate(x)).loss)).toBe(true);
  });

  it('says which tokens do not pair up when teacher and student select different counts', async () => {
    const x = inputs({ studentRoles: [prompt, visual, prompt, prompt, response, response, prompt, visual, visual, prompt, response, pad] });
    await expect(compile(relation(t.logits.at('visual'), s.logits.at('visual')), x).evaluate(x)).rejects.toThrow(
      'objective: teacher.logits[visual] selects 2 tokens in sample 0 but student.logits[visual] selects 1; paired tokens must line up one to one',
    );
  });

  it('rejects a label outside the vocabulary, naming its position', async () => {
    const x = inputs({ labels: [-100, -100, -100, -100, 1, 7, -100, -100, -100, -100, 3, -100] });
    await expect(compile(supervisedCE(s.logits.next('response')), x).evaluate(x)).rejects.toThrow(
      'labels holds 7 at [0, 5]: outside the vocabulary [0, 5) of student.logits (use -100 to skip a position)',
    );
  });

  it('rejects roles of the wrong length or with unknown codes', async () => {
    const short = { ...inputs(), teacher: { ...inputs().teacher, roles: Int32Array.from([1, 2, 3]) } };
    await expect(compile(response_, inputs()).evaluate(short)).rejects.toThrow('teacher.roles has 3 entries, but teacher.logits is [2, 6, …] (needs 12)');
    const bad = inputs({ roles: [1, 2, 9, 1, 3, 3, 1, 2, 2, 1, 3, 0] });
    await expect(compile(response_, bad).evaluate(bad)).rejects.toThrow('teacher.roles holds 9 at [0, 2]: codes are 0 pad, 1 prompt, 2 visual, 3 response');
  });

  it('accepts another batch size, and rejects another vocabulary with a validation error', async () => {
    const compiled = compile(response_, inputs());
    const one: DistillInputs = {
      teacher: { logits: tf.ones([1, 6, 5]), roles: Int32Array.from([prompt, visual, prompt, prompt, response, response]) },
      student: { logits: tf.zeros([1, 6, 5]), roles: Int32Array.from([prompt, visual, prompt, prompt, response, response]) },
      labels: Int32Array.from([IGNORE_LABEL, IGNORE_LABEL, IGNORE_LABEL, IGNORE_LABEL, 0, 1]),
    };
    const result = await compiled.evaluate(one);
    expect(result.terms['res']).toBeCloseTo(0, 6);
    expect(result.terms['ce']).toBeCloseTo(Math.log(5), 5);
    const wider: DistillInputs = { ...one, student: { ...one.student, logits: tf.zeros([1, 6, 7]) } };
    await expect(compiled.evaluate(wider)).rejects.toThrow(/the objective does not fit these inputs:\n {2}- objective\.res: vocabularies differ/);
  });

  it('gives the same loss from evaluate and valueAndGrad, and the gradient of the CE term by hand', async () => {
    const x = inputs();
    const compiled = compile(supervisedCE(s.logits.next('response')), x);
    const evaluation = await compiled.evaluate(x);
    const result = await compiled.valueAndGrad(x);
    expect((await result.loss.data())[0]).toBeCloseTo(evaluation.loss, 6);
    // d CE / d z at a scored position is (softmax(z) − onehot(y)) / N, here N = 3 scored tokens.
    const grad = (await result.grads['student.logits']!.array()) as number[][][];
    const z = ((await x.student.logits!.array()) as number[][][])[0]![3]!;
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((ev, v) => expect(grad[0]![3]![v]).toBeCloseTo((ev / sum - (v === 1 ? 1 : 0)) / 3, 6));
    result.dispose();
  });
});
