import type { MissingMass, Side, ViewField } from './outputs.js';
import type { Role } from './roles.js';

/**
 * The distillation graph: plain, readonly, JSON-serialisable data.
 *
 * The node kinds form one closed union. Which losses exist is not part of it: a `loss` node
 * names its loss, and the loss registry (a value passed to `validate`, `explain` and `lower`)
 * supplies the loss's parameter checks, shape rule and lowering. So `core` knows no loss,
 * and the graph can still be validated exhaustively.
 *
 * Token expressions select rows of a model output:
 * - `view`: the positions of a side's sequence whose role is in `roles`. With `shift` 1
 *   (next-token), it selects position t when the role of t + 1 is in `roles`: the logits at t
 *   predict token t + 1, so `next(response)` gives the logits that predict response tokens.
 *   Visual logits are read unshifted, as in LLaVA-KD.
 * - A `topk` view reads a teacher's offline signals (top-k log-probs and tail mass) and carries
 *   its policy for the missing mass; divergences compare the student with it under that policy.
 * - `aligned`: the teacher's tokens gathered (or, for a soft plan, mixed) to line up with the
 *   student's tokens by a matcher (EM-KD's vision token matching).
 */
export interface ViewNode<S extends Side = Side, F extends ViewField = ViewField> {
  readonly kind: 'view';
  readonly side: S;
  readonly field: F;
  readonly roles: readonly Role[];
  readonly shift: 0 | 1;
  /**
   * For a `topk` view (a teacher's offline top-k signals) only: how divergences treat the mass
   * outside the top k (see `teacher.topk`). Absent on every other view.
   */
  readonly missingMass?: MissingMass;
}

/** A matcher: which teacher token each student token is paired with. Gradient-free. */
export interface MatchNode {
  readonly kind: 'match';
  readonly method: string;
  readonly teacher: ViewNode<'teacher'>;
  readonly student: ViewNode<'student'>;
  readonly params: Readonly<Record<string, JsonValue>>;
}

/** The teacher's rows of `source`, arranged to line up with the student's side of `match`. */
export interface AlignedNode<F extends ViewField = ViewField> {
  readonly kind: 'aligned';
  readonly match: MatchNode;
  readonly source: ViewNode<'teacher', F>;
}

/** A token expression whose rows belong to side S and come from field F. */
export type TokenExpr<S extends Side = Side, F extends ViewField = ViewField> = ViewNode<S, F> | (S extends 'teacher' ? AlignedNode<F> : never);

/** A scalar loss named `loss`, applied to named token inputs, with its parameters. */
export interface LossNode {
  readonly kind: 'loss';
  readonly loss: string;
  readonly inputs: Readonly<Record<string, TokenExpr>>;
  readonly params: Readonly<Record<string, JsonValue>>;
}

/** `weight · term`. */
export interface WeightedNode {
  readonly kind: 'weighted';
  readonly weight: number;
  readonly term: ScalarNode;
}

/** The sum of named terms; each term's value is reported under its name. */
export interface ObjectiveNode {
  readonly kind: 'objective';
  readonly terms: Readonly<Record<string, ScalarNode>>;
}

/** A node that evaluates to a scalar loss: a loss, a weighted term or a named objective. */
export type ScalarNode = LossNode | WeightedNode | ObjectiveNode;
/** Any node of an objective graph. */
export type GraphNode = ScalarNode | ViewNode | AlignedNode | MatchNode;

/** A JSON value: what node parameters may hold, so that a graph serialises as it is. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The kinds of the closed union, for exhaustive handling. */
export const NODE_KINDS = ['view', 'match', 'aligned', 'loss', 'weighted', 'objective'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** A stable text key for a node: equal keys mean equal subgraphs (shared subexpressions). */
export function nodeKey(node: GraphNode | TokenExpr): string {
  return canonicalJson(node);
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
