import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { standardRegistry } from '../compile/standard-registry.js';
import { affinity, akl, feature, jsd, kl, relation, skewKL, skewReverseKL, softCE, supervisedCE, tvd } from '../losses/index.js';
import { objective, weighted } from './combinators.js';
import { formatGraphError } from './errors.js';
import { explain } from './explain.js';
import type { ScalarNode, ViewNode } from './graph.js';
import { graphFromJson, graphToJson } from './json.js';
import type { Field, Side } from './outputs.js';
import { ROLES, type Role } from './roles.js';
import { type FieldViews, student as s, teacher as t } from './views.js';

const roles = fc.subarray([...ROLES] as Role[], { minLength: 1 }) as fc.Arbitrary<[Role, ...Role[]]>;
const shift = fc.constantFrom(0, 1);
function view<S extends Side, F extends Field>(side: S, field: F): fc.Arbitrary<ViewNode<S, F>> {
  const views = (side === 'teacher' ? t : s)[field] as unknown as FieldViews<S, F>;
  return fc.tuple(roles, shift).map(([r, sh]) => (sh === 1 ? views.next(...r) : views.at(...r)));
}
const options = fc.record({
  temperature: fc.constantFrom(0.5, 1, 2, 4),
  scaleT2: fc.boolean(),
  reduction: fc.constantFrom('mean' as const, 'sum' as const, 'sampleMean' as const),
  truncateVocab: fc.boolean(),
});

/** Any loss node the builders can make. */
const loss: fc.Arbitrary<ScalarNode> = fc.oneof(
  fc.tuple(view('teacher', 'logits'), view('student', 'logits'), options).map(([a, b, o]) => kl.forward(a, b, o)),
  fc.tuple(view('teacher', 'logits'), view('student', 'logits'), options).map(([a, b, o]) => kl.reverse(a, b, o)),
  fc
    .tuple(view('teacher', 'logits'), view('student', 'logits'), options, fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([a, b, o, beta]) => jsd(a, b, { ...o, beta })),
  fc.tuple(view('teacher', 'logits'), view('student', 'logits'), fc.double({ min: 0, max: 1, noNaN: true })).map(([a, b, alpha]) => skewKL(a, b, { alpha })),
  fc
    .tuple(view('teacher', 'logits'), view('student', 'logits'), fc.double({ min: 0, max: 1, noNaN: true }))
    .map(([a, b, alpha]) => skewReverseKL(a, b, { alpha })),
  fc.tuple(view('teacher', 'logits'), view('student', 'logits')).map(([a, b]) => tvd(a, b)),
  fc.tuple(view('teacher', 'logits'), view('student', 'logits')).map(([a, b]) => akl(a, b, { mu: 0.3 })),
  fc.tuple(view('teacher', 'logits'), view('student', 'logits')).map(([a, b]) => softCE(a, b)),
  view('student', 'logits').map((v) => supervisedCE(v, { temperature: 2 })),
  fc
    .tuple(view('teacher', 'logits'), view('student', 'logits'), fc.constantFrom('perSample' as const, 'batch' as const))
    .map(([a, b, mode]) => relation(a, b, { mode })),
  fc
    .tuple(view('teacher', 'hidden'), view('teacher', 'hidden'), view('student', 'hidden'), view('student', 'hidden'))
    .map(([tv, tt, sv, st]) => affinity({ teacher: { vision: tv, text: tt }, student: { vision: sv, text: st } }, { reduction: 'sampleMean' })),
  fc.tuple(view('teacher', 'hidden'), view('student', 'hidden'), fc.boolean()).map(([a, b, projection]) => feature.mse(a, b, { projection })),
  fc.tuple(view('teacher', 'hidden'), view('student', 'hidden')).map(([a, b]) => feature.cosine(a, b)),
);

const name = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,8}$/);
const graph: fc.Arbitrary<ScalarNode> = fc.letrec<{ node: ScalarNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    loss,
    fc.tuple(fc.double({ min: -100, max: 100, noNaN: true }), tie('node')).map(([w, n]) => weighted(w, n)),
    fc.dictionary(name, tie('node'), { minKeys: 1, maxKeys: 4 }).map((terms) => objective(terms)),
  ),
})).node;

describe('graph JSON', () => {
  it('round-trips every graph the builders make', () => {
    fc.assert(
      fc.property(graph, (g) => {
        const back = graphFromJson(graphToJson(g, 'a description'), standardRegistry);
        if (E.isLeft(back)) throw new Error(back.left.map(formatGraphError).join('\n'));
        expect(back.right).toEqual(g);
        // The explanation is a pure function of the graph, so it survives the trip too.
        expect(explain(back.right, standardRegistry)).toBe(explain(g, standardRegistry));
      }),
      { numRuns: 300 },
    );
  });

  it('fills in defaults for params left out of a file', () => {
    const text = JSON.stringify({
      kind: 'loss',
      loss: 'jsd',
      inputs: {
        teacher: { kind: 'view', side: 'teacher', field: 'logits', roles: ['response'], shift: 1 },
        student: { kind: 'view', side: 'student', field: 'logits', roles: ['response'], shift: 1 },
      },
    });
    const back = graphFromJson(text, standardRegistry);
    expect(E.isRight(back) && back.right).toEqual(jsd(t.logits.next('response'), s.logits.next('response')));
  });

  it('reports malformed JSON with its position', () => {
    const back = graphFromJson('{"kind": "objective", "terms": {', standardRegistry);
    expect(E.isLeft(back) && back.left.map(formatGraphError)[0]).toMatch(/^malformed JSON: .*(position|end of JSON)/);
  });

  it('reports every structural problem with its path', () => {
    const text = JSON.stringify({
      format: 'mmkd.objective/1',
      objective: {
        kind: 'objective',
        terms: {
          a: { kind: 'loss', loss: 'klDiv', inputs: {} },
          b: {
            kind: 'weighted',
            weight: '2',
            term: {
              kind: 'loss',
              loss: 'forwardKL',
              inputs: {
                teacher: { kind: 'view', side: 'teacher', field: 'logit', roles: ['image'] },
                student: { kind: 'view', side: 'student', field: 'logits', roles: [] },
              },
              params: { temperature: '2', beta: 0.5 },
            },
          },
          'bad name': { kind: 'sum' },
        },
      },
    });
    const back = graphFromJson(text, standardRegistry);
    expect(E.isLeft(back) && back.left.map(formatGraphError)).toEqual([
      'objective: term name "bad name" must be a letter or _ followed by letters, digits, _ or -',
    ]);
    const fixed = text.replace('"bad name":{"kind":"sum"}', '"c":{"kind":"sum"}').replace(',"c":{"kind":"sum"}', ',"c":{"kind":"sum","x":1}');
    const again = graphFromJson(fixed, standardRegistry);
    expect(E.isLeft(again) && again.left.map(formatGraphError)).toEqual([
      'objective.a: unknown loss "klDiv": known losses are forwardKL, reverseKL, jsd, skewKL, skewReverseKL, tvd, akl, softCE, supervisedCE, relation, affinity, featureMSE, featureCosine, uld',
      'objective.b: "weight" must be a finite number, got "2"',
      'objective.b.teacher: "field" must be "logits", "hidden" or "topk" (a teacher\'s offline signals), got "logit"',
      'objective.b.teacher: unknown role "image": roles are pad, prompt, visual, response',
      'objective.b.student: "roles" must be a non-empty array of pad, prompt, visual, response, got []',
      'objective.b: parameter "temperature" of forwardKL must be a number, got "2"',
      'objective.b: forwardKL has no parameter "beta" (its parameters: temperature, scaleT2, reduction, truncateVocab, paddedVocab)',
      'objective.c: unknown node kind "sum": expected "loss", "weighted" or "objective"',
    ]);
  });

  it('rejects an unknown file format', () => {
    const back = graphFromJson(JSON.stringify({ format: 'mmkd.objective/9', objective: {} }), standardRegistry);
    expect(E.isLeft(back) && back.left.map(formatGraphError)).toEqual(['unsupported objective format "mmkd.objective/9": expected "mmkd.objective/1"']);
  });
});
