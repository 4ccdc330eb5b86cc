import { joinPath } from './errors.js';
import type { LossNode, ObjectiveNode, ScalarNode, WeightedNode } from './graph.js';

/**
 * Where a scalar node sits in its objective: its path (`objective.vsd`, what errors name) and the
 * name its value is reported under in an evaluation's terms, if any. An objective's terms are
 * reported under their names (nested objectives as `outer.inner`); a weighted node's inner term
 * is not reported on its own, since the weighted node already stands for it.
 */
export interface Site {
  readonly path: string;
  readonly term: string | undefined;
}

/**
 * One case per kind of scalar node. Children are folded first (terms in their declared order), so
 * each case gets its children's results: a catamorphism over the objective tree.
 */
export interface ScalarFold<R> {
  objective(node: ObjectiveNode, terms: readonly (readonly [name: string, value: R])[], site: Site): R;
  weighted(node: WeightedNode, term: R, site: Site): R;
  loss(node: LossNode, site: Site): R;
}

/**
 * The one traversal of an objective tree: validation, explanation, lowering, matcher planning and
 * parameter creation are all folds, so paths and term names are derived in one place.
 */
export function foldScalar<R>(graph: ScalarNode, fold: ScalarFold<R>, root = 'objective'): R {
  const go = (node: ScalarNode, site: Site): R => {
    switch (node.kind) {
      case 'objective': {
        const terms = Object.entries(node.terms).map(
          ([name, child]) => [name, go(child, { path: joinPath(site.path, name), term: site.term === undefined ? name : `${site.term}.${name}` })] as const,
        );
        return fold.objective(node, terms, site);
      }
      case 'weighted':
        return fold.weighted(node, go(node.term, { path: site.path, term: undefined }), site);
      case 'loss':
        return fold.loss(node, site);
    }
  };
  return go(graph, { path: root, term: undefined });
}

/** A loss node of an objective, with its path. */
export interface LossSite {
  readonly node: LossNode;
  readonly path: string;
}

/** Every loss node of an objective with its path, in the order the terms are declared. */
export function lossesOf(graph: ScalarNode, root = 'objective'): LossSite[] {
  return foldScalar<LossSite[]>(
    graph,
    {
      objective: (_node, terms) => terms.flatMap(([, losses]) => losses),
      weighted: (_node, losses) => losses,
      loss: (node, site) => [{ node, path: site.path }],
    },
    root,
  );
}
