import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, type DistillInputs, emptyPlan, InputError, kl, objective, student as s, supervisedCE, teacher as t, useBackend } from '../index.js';

// Roles and labels as a plain-JavaScript caller may hand them over: the types say Int32Array or an
// array of integers, but nothing stops a Float32Array, a tensor or 2.5 from arriving. Every path
// (evaluate, valueAndGrad, prepare, loss) must refuse them, naming the field and what it got.
describe('roles and labels through the public API', () => {
  const V = 8;
  const graph = objective({
    sup: supervisedCE(s.logits.next('response')),
    res: kl.forward(t.logits.next('response'), s.logits.next('response')),
  });
  const roles = [1, 2, 2, 1, 3, 3];
  const labels = [-100, -100, -100, -100, 4, 5];
  let logits: tf.Tensor3D;
  const inputs = (teacherRoles: unknown, studentRoles: unknown = roles, labelIds: unknown = labels): DistillInputs =>
    ({
      teacher: { logits, roles: teacherRoles },
      student: { logits, roles: studentRoles },
      labels: labelIds,
    }) as DistillInputs;

  beforeAll(async () => {
    await useBackend('cpu');
    logits = tf.randomNormal([1, 6, V], 0, 1, 'float32', 3) as tf.Tensor3D;
  });
  afterAll(() => logits.dispose());

  /** Every way of evaluating rejects `x` with `message`. */
  const expectEveryPathToReject = async (x: DistillInputs, message: string | RegExp) => {
    const compiled = compile(graph, x);
    try {
      await expect(compiled.evaluate(x)).rejects.toThrow(message);
      await expect(compiled.evaluate(x)).rejects.toBeInstanceOf(InputError);
      await expect(compiled.valueAndGrad(x)).rejects.toThrow(message);
      await expect(compiled.prepare(x)).rejects.toThrow(message);
      expect(() => compiled.loss(x, emptyPlan)).toThrow(message);
    } finally {
      compiled.dispose();
    }
  };

  it('accepts an Int32Array and a plain array of integers alike', async () => {
    const compiled = compile(graph, inputs(roles));
    try {
      const plain = await compiled.evaluate(inputs(roles));
      const typed = await compiled.evaluate(inputs(Int32Array.from(roles), Int32Array.from(roles), Int32Array.from(labels)));
      expect(Number.isFinite(plain.loss)).toBe(true);
      expect(typed).toEqual(plain);
    } finally {
      compiled.dispose();
    }
  });

  it('refuses a Float32Array of roles (2.5 would be truncated to visual), naming the field and the type', async () => {
    await expectEveryPathToReject(
      inputs(Float32Array.from([1, 2.5, 2, 1, 3, 3])),
      'teacher.roles must be an Int32Array or an array of integers, got a Float32Array',
    );
  });

  it('refuses a bool tensor of roles, naming its dtype and shape', async () => {
    const mask = tf.tensor2d([[1, 1, 0, 0, 1, 1]], [1, 6], 'bool');
    try {
      await expectEveryPathToReject(inputs(roles, mask), 'student.roles must be an Int32Array or an array of integers, got a bool tensor [1, 6]');
    } finally {
      mask.dispose();
    }
  });

  it('refuses a non-integer role or label in a plain array, naming the index', async () => {
    await expectEveryPathToReject(inputs([1, 2, 2.5, 1, 3, 3]), 'teacher.roles holds 2.5 at [0, 2]: entries must be integers');
    await expectEveryPathToReject(inputs(roles, roles, [-100, -100, -100, -100, 1.5, 5]), 'labels holds 1.5 at [0, 4]: entries must be integers');
    await expectEveryPathToReject(inputs(roles, roles, Float32Array.from(labels)), 'labels must be an Int32Array or an array of integers, got a Float32Array');
  });

  it('refuses labels outside [0, V) other than −100 on every path, prepare included', async () => {
    const outside = 'labels holds 99 at [0, 5]: outside the vocabulary [0, 8) of student.logits (use -100 to skip a position)';
    await expectEveryPathToReject(inputs(roles, roles, Int32Array.from([-100, -100, -100, -100, 4, 99])), outside);
    await expectEveryPathToReject(inputs(roles, roles, [-1, -100, -100, -100, 4, 5]), 'labels holds -1 at [0, 0]');
  });
});

// Offline top-k signals handed over by a caller (a PyTorch script's arrays, not a checked shard):
// values that would give a silently wrong loss are refused, naming the first bad entry.
describe('top-k signals through the public API', () => {
  const [B, T, V, k] = [1, 3, 5, 2];
  const graph = objective({ res: kl.forward(t.topk('tailBucket').next('response'), s.logits.next('response')) });
  const roles = [1, 3, 3];
  let logits: tf.Tensor3D;
  const good = () => ({
    ids: Int32Array.from([0, 1, 2, 3, 4, 0]),
    logProbs: Float32Array.from([-1, -2, -0.5, -1.5, -1, -1]),
    logTail: Float32Array.from([-1, -2, -3]),
  });
  const inputs = (signals: ReturnType<typeof good>): DistillInputs => ({
    teacher: { topk: { ...signals, shape: [B, T, k], vocab: V, temperature: 1 }, roles },
    student: { logits, roles },
  });

  beforeAll(async () => {
    await useBackend('cpu');
    logits = tf.randomNormal([B, T, V], 0, 1, 'float32', 5) as tf.Tensor3D;
  });
  afterAll(() => logits.dispose());

  it('refuses ids outside the vocabulary or repeated, positive or unsorted log-probs and a tail mass above 1', async () => {
    const cases: Array<readonly [(x: ReturnType<typeof good>) => void, RegExp]> = [
      [(x) => void (x.ids[3] = V), /teacher\.topk\.ids holds 5 at \[0, 1, 1\]: outside the vocabulary \[0, 5\)/],
      [(x) => void (x.ids[5] = -1), /teacher\.topk\.ids holds -1 at \[0, 2, 1\]: outside the vocabulary/],
      [(x) => void (x.ids[1] = 0), /teacher\.topk\.ids holds 0 twice at \[0, 0\]: the top k ids of a position are distinct/],
      [(x) => void (x.logProbs[4] = 0.25), /teacher\.topk\.logProbs holds 0\.25 at \[0, 2, 0\]: log-probabilities are ≤ 0/],
      [(x) => void (x.logProbs[1] = Number.NaN), /teacher\.topk\.logProbs holds NaN at \[0, 0, 1\]/],
      [
        (x) => void (x.logProbs[3] = -0.25),
        /teacher\.topk\.logProbs at \[0, 1\]: entry 1 \(-0\.25\) > entry 0 \(-0\.5\); log-probs must be sorted in descending order/,
      ],
      [(x) => void (x.logTail[2] = 0.5), /teacher\.topk\.logTail holds 0\.5 at \[0, 2\]: the tail mass is at most 1/],
    ];
    const fine = inputs(good());
    const compiled = compile(graph, fine);
    try {
      await expect(compiled.evaluate(fine)).resolves.toBeDefined();
      for (const [spoil, message] of cases) {
        const signals = good();
        spoil(signals);
        await expect(compiled.evaluate(inputs(signals))).rejects.toThrow(message);
        await expect(compiled.evaluate(inputs(signals))).rejects.toBeInstanceOf(InputError);
      }
    } finally {
      compiled.dispose();
    }
  });
});
