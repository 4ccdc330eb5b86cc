import * as tf from '@tensorflow/tfjs-core';
import * as E from 'fp-ts/lib/Either.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { compile, standardRegistry } from '../compile/index.js';
import { formatGraphError } from '../core/errors.js';
import { explain } from '../core/explain.js';
import { graphFromJson, graphToJson } from '../core/json.js';
import type { DistillInputs } from '../core/outputs.js';
import { student as s, teacher as t } from '../core/views.js';
import { jsd, kl, objective, relation, weighted } from '../index.js';
import { match } from '../matching/index.js';
import { topKOfLogits } from '../recipes/signals/format.js';

const [B, T, V, k] = [2, 3, 6, 3];
const roles = Int32Array.from([1, 2, 3, 1, 2, 3]);
const logits = Float32Array.from({ length: B * T * V }, (_, i) => Math.sin(i * 1.7) * 3);

function inputs(temperature = 1, vocab = V): DistillInputs {
  const sig = topKOfLogits(logits, B * T, V, k, temperature);
  return {
    teacher: { topk: { ...sig, shape: [B, T, k], vocab: V, temperature }, roles },
    student: {
      logits: tf.tensor3d(
        Float32Array.from({ length: B * T * vocab }, (_, i) => Math.cos(i) * 2),
        [B, T, vocab],
      ),
      roles,
    },
  };
}

beforeAll(() => useBackend('cpu'));

describe('teacher.topk views', () => {
  it('compile, explain and JSON: the policy is part of the view and of the formula', async () => {
    const graph = objective({
      res: kl.forward(t.topk('tailBucket').next('response'), s.logits.next('response')),
      vis: weighted(0.5, jsd(t.topk('renormalize').at('visual'), s.logits.at('visual'), { beta: 0.3 })),
    });
    expect(explain(graph, standardRegistry)).toMatch(
      /├─ res = KL\(p ‖ q\); p from teacher\.topk\(tailBucket\)\[next response\], q from student\.logits\[next response\]/,
    );
    const back = graphFromJson(graphToJson(graph), standardRegistry);
    expect(E.isRight(back) && graphToJson(back.right)).toBe(graphToJson(graph));
    const given = inputs();
    const { loss, terms } = await compile(graph, given).evaluate(given);
    expect(Number.isFinite(loss) && loss > 0).toBe(true);
    expect(Object.keys(terms)).toEqual(['res', 'vis']);
  });

  it('every misuse is a validation error naming the path, both shapes or temperatures and the fix', () => {
    const wrong = objective({
      dense: kl.forward(t.logits.next('response'), s.logits.next('response')),
      temp: kl.reverse(t.topk('uniform').next('response'), s.logits.next('response'), { temperature: 2 }),
      trunc: kl.forward(t.topk('uniform').next('response'), s.logits.next('response'), { truncateVocab: true }),
      rel: relation(t.topk('uniform').at('visual') as never, s.logits.at('visual')),
      match: kl.forward(match.hungarian(t.topk('uniform').at('visual') as never, s.logits.at('visual')).teacher as never, s.logits.at('visual')),
    });
    const given = inputs();
    expect(() => compile(wrong, given)).toThrow(
      new RegExp(
        [
          'objective.dense.teacher: teacher.logits is not among the inputs: the teacher is given by offline top-k signals; read them with teacher.topk\\(policy\\) in a divergence',
          "objective.temp: the teacher's signals are log-probs at temperature 1, this divergence's temperature is 2; write the signals at 2 or set temperature: 1",
          'objective.trunc: truncateVocab does not apply to teacher.topk signals',
          'objective.rel.teacher: relation takes logits or hidden here, got topk',
          "objective.match.teacher.match.teacher: teacher.topk holds only each position's top k, which the matcher hungarian cannot compare",
        ]
          .map((line) => `[\\s\\S]*${line}`)
          .join(''),
      ),
    );
    const vocab = inputs(1, V + 2);
    expect(() => compile(objective({ res: kl.forward(t.topk('uniform').next('response'), s.logits.next('response')) }), vocab)).toThrow(
      /objective.res: vocabularies differ: teacher.topk signals over V = 6 \[2, 3, 6\] vs student.logits \[2, 3, 8\]/,
    );
    // A policy is required (JSON written by hand, or JavaScript without types).
    const text = graphToJson(objective({ a: kl.forward(t.topk('uniform').next('response'), s.logits.next('response')) })).replace(
      /"missingMass":\s*"uniform"/,
      '"missingMass": "ghost"',
    );
    const decoded = graphFromJson(text, standardRegistry);
    expect(E.isLeft(decoded) && decoded.left.map(formatGraphError)).toEqual([
      'objective.a.teacher: a "topk" view needs "missingMass": one of "renormalize", "tailBucket", "uniform", got "ghost"',
    ]);
  });

  it('leaves no tensor behind: evaluate, valueAndGrad and a training step under each policy', async () => {
    for (const policy of ['renormalize', 'tailBucket', 'uniform'] as const) {
      const given = inputs();
      const compiled = compile(objective({ a: jsd(t.topk(policy).next('response', 'visual'), s.logits.next('response', 'visual'), { beta: 0.4 }) }), given);
      const before = tf.memory().numTensors;
      await compiled.evaluate(given);
      (await compiled.valueAndGrad(given)).dispose();
      const plan = await compiled.prepare(given);
      const variable = tf.variable(given.student.logits!);
      const { value, grads } = tf.variableGrads(
        () => compiled.loss({ ...given, student: { ...given.student, logits: variable as tf.Tensor3D } }, plan).loss,
        [variable],
      );
      tf.dispose([value, ...Object.values(grads), variable]);
      expect(tf.memory().numTensors).toBe(before);
      compiled.dispose();
      given.student.logits!.dispose();
    }
  });

  it('matched top-k rows: a one-to-one matcher on hidden states gathers them; a soft plan cannot mix them', async () => {
    const hidden = (seed: number) =>
      tf.tensor3d(
        Float32Array.from({ length: B * T * 4 }, (_, i) => Math.sin(i * seed)),
        [B, T, 4],
      );
    const given = inputs();
    const withHidden: DistillInputs = { teacher: { ...given.teacher, hidden: hidden(1.3) } as never, student: { ...given.student, hidden: hidden(0.7) } };
    const hard = match.hungarian(t.hidden.at('visual'), s.hidden.at('visual'), { cost: 'l2' });
    const vsd = objective({ vsd: kl.reverse(hard.of(t.topk('tailBucket').at('visual')), s.logits.at('visual')) });
    expect(explain(vsd, standardRegistry)).toMatch(/teacher\.topk\(tailBucket\)\[visual\] aligned by/);
    const { loss } = await compile(vsd, withHidden).evaluate(withHidden);
    expect(Number.isFinite(loss) && loss >= 0).toBe(true);
    const soft = match.sinkhorn(t.hidden.at('visual'), s.hidden.at('visual'));
    const mixed = objective({ vsd: kl.reverse(soft.of(t.topk('tailBucket').at('visual')), s.logits.at('visual')) });
    await expect(compile(mixed, withHidden).evaluate(withHidden)).rejects.toThrow(
      'a soft plan (pooling, Sinkhorn) mixes teacher rows, which top-k signals cannot be: align teacher.topk with a one-to-one matcher (hungarian, identity, nearest)',
    );
    tf.dispose([withHidden.teacher.hidden!, withHidden.student.hidden!, given.student.logits!]);
  });

  it("the teacher's whole logits beside its signals serve views of their roles only", async () => {
    const given = inputs();
    const dense = tf.tensor3d(logits, [B, T, V]);
    const withLogits: DistillInputs = { ...given, teacher: { ...given.teacher, logits: dense, logitsRoles: ['visual'] } as never };
    const ok = objective({
      rel: relation(t.logits.at('visual'), s.logits.at('visual')),
      res: kl.forward(t.topk('uniform').next('response'), s.logits.next('response')),
    });
    const { terms } = await compile(ok, withLogits).evaluate(withLogits);
    expect(Object.keys(terms)).toEqual(['rel', 'res']);
    expect(() => compile(objective({ res: kl.forward(t.logits.next('response'), s.logits.next('response')) }), withLogits)).toThrow(
      'objective.res.teacher: teacher.logits come from offline signals that store them at visual positions only; this view selects next response (read the rest through teacher.topk(policy) in a divergence)',
    );
    const noRoles: DistillInputs = { ...given, teacher: { ...given.teacher, logits: dense } as never };
    expect(() => compile(ok, noRoles)).toThrow('teacher.logits beside top-k signals need logitsRoles: the roles whose positions they hold');
    tf.dispose([dense, given.student.logits!]);
  });

  it('signals whose arrays do not fit their shape are an input error', () => {
    const given = inputs();
    const teacher = given.teacher as { topk: { logTail: Float32Array } };
    const bad: DistillInputs = {
      ...given,
      teacher: { ...given.teacher, topk: { ...(given.teacher as never as { topk: object }).topk, logTail: teacher.topk.logTail.subarray(1) } } as never,
    };
    expect(() => compile(objective({ a: kl.forward(t.topk('uniform').next('response'), s.logits.next('response')) }), bad)).toThrow(
      'teacher.topk.logTail has 5 entries, but teacher.topk.shape [2, 3, 3] needs 6',
    );
  });
});
