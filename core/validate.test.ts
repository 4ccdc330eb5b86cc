import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { standardRegistry } from '../compile/standard-registry.js';
import { feature, jsd, kl, relation, supervisedCE } from '../losses/index.js';
import { objective, weighted } from './combinators.js';
import type { InputShapes } from './definitions.js';
import { formatGraphError, type GraphError } from './errors.js';
import type { LossNode, ScalarNode, ViewNode } from './graph.js';
import { validate } from './validate.js';
import { student as s, teacher as t } from './views.js';

const shapes: InputShapes = {
  teacher: { logits: [2, 10, 32], hidden: [2, 10, 16] },
  student: { logits: [2, 10, 32], hidden: [2, 10, 8] },
  labels: true,
};

const errorsOf = (graph: ScalarNode, at: InputShapes = shapes): readonly GraphError[] => {
  const result = validate(graph, at, standardRegistry);
  return E.isLeft(result) ? result.left : [];
};

const messages = (graph: ScalarNode, at?: InputShapes) => errorsOf(graph, at).map(formatGraphError);

describe('validate', () => {
  it('accepts a well-formed objective', () => {
    const g = objective({
      ce: supervisedCE(s.logits.next('response')),
      res: kl.forward(t.logits.next('response'), s.logits.next('response')),
      rel: weighted(0.5, relation(t.logits.at('visual'), s.logits.at('visual'))),
    });
    expect(errorsOf(g)).toEqual([]);
  });

  it('reports every error at once, each with its path', () => {
    const g = objective({
      hot: kl.forward(t.logits.next('response'), s.logits.next('response'), { temperature: 0 }),
      mix: jsd(t.logits.at('visual'), s.logits.at('visual'), { beta: 1.5 }),
      feat: feature.mse(t.hidden.at('visual'), s.hidden.at('visual')),
    });
    expect(messages(g)).toEqual([
      'objective.hot: temperature must be a finite number > 0, got 0',
      'objective.mix: β (beta) must be in [0, 1], got 1.5',
      'objective.feat: widths differ: teacher [2, 10, 16] vs student [2, 10, 8]; set projection to learn a linear map between them',
    ]);
  });

  it('names both shapes when the vocabularies differ, and accepts them with truncateVocab', () => {
    const at: InputShapes = { ...shapes, student: { logits: [2, 10, 30] } };
    expect(messages(kl.forward(t.logits.at('visual'), s.logits.at('visual')), at)).toEqual([
      "objective: vocabularies differ: teacher.logits [2, 10, 32] vs student.logits [2, 10, 30]; set truncateVocab to compare the first min(V) logits, if the extra rows are padding, or paddedVocab to the real vocabulary size (at most 30) to mask both heads' padding rows; for a teacher with another tokenizer, use the uld loss",
    ]);
    expect(messages(kl.forward(t.logits.at('visual'), s.logits.at('visual'), { truncateVocab: true }), at)).toEqual([]);
  });

  it('rejects unknown roles, inputs the data lacks, missing labels and unequal batch sizes', () => {
    const badView = { kind: 'view', side: 'teacher', field: 'logits', roles: ['image'], shift: 0 } as unknown as ViewNode<'teacher', 'logits'>;
    const g = objective({
      a: kl.forward(badView, s.logits.at('visual')),
      b: feature.cosine(t.hidden.at('visual'), s.hidden.at('visual'), { projection: true }),
      c: supervisedCE(s.logits.next('response')),
    });
    const at: InputShapes = { teacher: { logits: [3, 10, 32] }, student: { logits: [2, 10, 32] }, labels: false };
    expect(messages(g, at)).toEqual([
      "student.logits: batch size 2 differs from teacher.logits's 3",
      'objective.a.teacher: unknown role "image": roles are pad, prompt, visual, response',
      'objective.b.teacher: teacher.hidden is not among the inputs',
      'objective.b.student: student.hidden is not among the inputs',
      'objective.c: supervisedCE needs labels, but the inputs have none',
    ]);
  });

  it('rejects an input from the wrong side or field', () => {
    const swapped = {
      kind: 'loss',
      loss: 'forwardKL',
      inputs: { teacher: s.logits.at('visual'), student: t.hidden.at('visual') },
      params: { temperature: 1, scaleT2: false, reduction: 'mean', truncateVocab: false },
    } as unknown as LossNode;
    expect(messages(swapped)).toEqual([
      "objective.teacher: forwardKL takes the teacher's tokens here, got the student's",
      "objective.student: forwardKL takes the student's tokens here, got the teacher's",
      'objective.student: forwardKL takes logits here, got hidden',
    ]);
  });

  it('rejects a shape that is not [B, T, D], an unknown loss and a non-finite weight', () => {
    const g = objective({ w: weighted(Number.NaN, { kind: 'loss', loss: 'klDivergence', inputs: {}, params: {} }) });
    expect(messages(g, { ...shapes, teacher: { logits: [10, 32] } })).toEqual([
      'teacher.logits: must have shape [B, T, V], got [10, 32]',
      'objective.w: weight must be a finite number, got NaN',
      'objective.w: unknown loss "klDivergence": known losses are forwardKL, reverseKL, jsd, skewKL, skewReverseKL, tvd, akl, softCE, supervisedCE, relation, affinity, featureMSE, featureCosine, uld',
    ]);
  });
});
