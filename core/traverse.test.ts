import { describe, expect, it } from 'vitest';
import { kl, supervisedCE } from '../losses/index.js';
import { objective, weighted } from './combinators.js';
import { foldScalar, lossesOf } from './traverse.js';
import { student as s, teacher as t } from './views.js';

const ce = supervisedCE(s.logits.next('response'));
const res = kl.forward(t.logits.next('response'), s.logits.next('response'));
const graph = objective({
  ce,
  inner: objective({ a: res, b: weighted(2, res) }),
  w: weighted(0.5, objective({ x: ce })),
});

describe('the objective traversal', () => {
  it('gives every loss its path, in declared order', () => {
    expect(lossesOf(graph).map((l) => l.path)).toEqual(['objective.ce', 'objective.inner.a', 'objective.inner.b', 'objective.w.x']);
    expect(lossesOf(ce).map((l) => l.path)).toEqual(['objective']);
  });

  it('names the terms an evaluation reports: nested objectives as outer.inner, a weighted term once', () => {
    const names = foldScalar<string[]>(graph, {
      objective: (_n, terms, site) => [...terms.flatMap(([, v]) => v), ...(site.term ? [site.term] : [])],
      weighted: (_n, term, site) => [...term, ...(site.term ? [site.term] : [])],
      loss: (_n, site) => (site.term ? [site.term] : []),
    });
    // Inside a weighted node, an objective's terms are reported by their own names (as lowering always did).
    expect(names).toEqual(['ce', 'inner.a', 'inner.b', 'inner', 'x', 'w']);
  });
});
