import type { AlignedNode, JsonValue, MatchNode, ViewNode } from '../core/graph.js';
import type { Field, ViewField } from '../core/outputs.js';
import type { CostMetric, CostParams } from './costs.js';
import { costDefaults } from './matcher.js';

/**
 * A matcher in a graph: `teacher` is the teacher's matched view lined up with the student's
 * tokens, ready for a loss; `of(view)` lines up another field at the same positions (match on
 * logits, distil hidden states).
 */
export interface Matched<F extends Field> {
  readonly node: MatchNode;
  readonly teacher: AlignedNode<F>;
  /** The teacher's rows of `source` lined up with the student's (top-k signals too, for one-to-one matchers). */
  of<G extends ViewField>(source: ViewNode<'teacher', G>): AlignedNode<G>;
}

function matched<F extends Field>(
  method: string,
  teacher: ViewNode<'teacher', F>,
  student: ViewNode<'student'>,
  params: Readonly<Record<string, JsonValue>>,
): Matched<F> {
  const node: MatchNode = Object.freeze({ kind: 'match', method, teacher, student, params: Object.freeze({ ...params }) });
  const of = <G extends ViewField>(source: ViewNode<'teacher', G>): AlignedNode<G> => Object.freeze({ kind: 'aligned', match: node, source });
  return { node, teacher: of(teacher), of };
}

/** The cost a matcher compares tokens by. */
export interface CostOptions {
  /** `l1` (default; EM-KD), `l2` or `cosine`. */
  readonly cost?: CostMetric;
  /** Compare softmax rows rather than raw vectors (default false). */
  readonly probabilities?: boolean;
}

const cost = (o: CostOptions): CostParams => ({ cost: o.cost ?? costDefaults.cost, probabilities: o.probabilities ?? costDefaults.probabilities });

/** Matchers that line the teacher's tokens up with the student's (see `matching/matchers/`). */
export const match = {
  /** Minimum-cost one-to-one assignment per sample (EM-KD's vision token matching). */
  hungarian: <F extends Field>(teacher: ViewNode<'teacher', F>, student: ViewNode<'student'>, options: CostOptions = {}) =>
    matched('hungarian', teacher, student, cost(options)),
  /** Each student token with its nearest teacher token (not one-to-one). */
  nearest: <F extends Field>(teacher: ViewNode<'teacher', F>, student: ViewNode<'student'>, options: CostOptions = {}) =>
    matched('nearest', teacher, student, cost(options)),
  /** k-th with k-th (equal counts). */
  identity: <F extends Field>(teacher: ViewNode<'teacher', F>, student: ViewNode<'student'>) => matched('identity', teacher, student, {}),
  /** Mean of the teacher's grid block under each student token (EM-KD's pooling baseline). */
  pool: <F extends Field>(teacher: ViewNode<'teacher', F>, student: ViewNode<'student'>, grid?: { readonly height: number; readonly width: number }) =>
    matched('pool', teacher, student, { gridHeight: grid?.height ?? 0, gridWidth: grid?.width ?? 0 }),
  /** A soft entropic-OT plan; each student token mixes the teacher tokens it receives. */
  sinkhorn: <F extends Field>(
    teacher: ViewNode<'teacher', F>,
    student: ViewNode<'student'>,
    options: CostOptions & { readonly epsilon?: number; readonly iterations?: number } = {},
  ) => matched('sinkhorn', teacher, student, { ...cost(options), epsilon: options.epsilon ?? 0.05, iterations: options.iterations ?? 200 }),
};
