import * as E from 'fp-ts/lib/Either.js';
import { type Checked, check } from './checked.js';
import type { InputShapes, Registry } from './definitions.js';
import { formatShape, type GraphError, GraphValidationError, graphError, joinPath } from './errors.js';
import type { AlignedNode, LossNode, MatchNode, ScalarNode, TokenExpr, ViewNode } from './graph.js';
import { MISSING_MASS, type Side, type ViewField } from './outputs.js';
import { isRole, ROLES } from './roles.js';
import { foldScalar } from './traverse.js';

declare const validBrand: unique symbol;

/** A graph that `validate` accepted for inputs of these shapes; `lower` takes only this. */
export interface ValidGraph {
  readonly graph: ScalarNode;
  readonly shapes: InputShapes;
  readonly [validBrand]: true;
}

/**
 * Checks a graph against the shapes of the inputs it will see and returns every error at once:
 * unknown losses or matchers, inputs from the wrong side or field, fields the inputs lack,
 * parameters out of range (temperature ≤ 0, β outside [0, 1]), vocabulary and width mismatches
 * between teacher and student (no silent truncation), batch sizes that differ, labels missing.
 * Each error names the node's path (`objective.vsd.teacher`) and the shapes involved.
 */
export function validate(graph: ScalarNode, shapes: InputShapes, registry: Registry): Checked<ValidGraph> {
  const errors = [...checkShapes(shapes), ...checkScalar(graph, 'objective', shapes, registry)];
  return check({ graph, shapes } as ValidGraph, errors);
}

/** The valid graph, or a thrown `GraphValidationError` that lists every error. */
export function assertValid(result: Checked<ValidGraph>): ValidGraph {
  if (E.isLeft(result)) throw new GraphValidationError(result.left);
  return result.right;
}

function checkShapes(shapes: InputShapes): GraphError[] {
  const errors: GraphError[] = [];
  let batch: { size: number; where: string } | undefined;
  for (const side of ['teacher', 'student'] as const) {
    let length: { size: number; where: string } | undefined;
    for (const field of ['logits', 'hidden', 'topk'] as const) {
      const shape = shapes[side][field];
      if (shape === undefined) continue;
      const name = `${side}.${field}`;
      if (shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
        errors.push(graphError(name, `must have shape [B, T, ${field === 'hidden' ? 'H' : 'V'}], got ${formatShape(shape)}`));
        continue;
      }
      if (batch === undefined) batch = { size: shape[0]!, where: name };
      else if (shape[0] !== batch.size) {
        errors.push(graphError(name, `batch size ${shape[0]} differs from ${batch.where}'s ${batch.size}`));
      }
      if (length === undefined) length = { size: shape[1]!, where: name };
      else if (shape[1] !== length.size) {
        errors.push(graphError(name, `sequence length ${shape[1]} differs from ${length.where}'s ${length.size}`));
      }
    }
  }
  return errors;
}

function checkScalar(graph: ScalarNode, root: string, shapes: InputShapes, registry: Registry): GraphError[] {
  return foldScalar<GraphError[]>(
    graph,
    {
      objective: (_node, terms, site) =>
        terms.length === 0 ? [graphError(site.path, 'an objective needs at least one term')] : terms.flatMap(([, errors]) => errors),
      weighted: (node, term, site) => [
        ...(Number.isFinite(node.weight) ? [] : [graphError(site.path, `weight must be a finite number, got ${node.weight}`)]),
        ...term,
      ],
      loss: (node, site) => checkLoss(node, site.path, shapes, registry),
    },
    root,
  );
}

function checkLoss(node: LossNode, path: string, shapes: InputShapes, registry: Registry): GraphError[] {
  const definition = registry.losses[node.loss];
  if (definition === undefined) {
    return [graphError(path, `unknown loss "${node.loss}": known losses are ${Object.keys(registry.losses).join(', ')}`)];
  }
  const errors: GraphError[] = [];
  for (const key of Object.keys(node.params)) {
    if (!(key in definition.defaults)) errors.push(graphError(path, `${node.loss} has no parameter "${key}"`));
  }
  errors.push(...definition.checkParams(node.params, path));
  const inputShapes: Record<string, readonly number[]> = {};
  for (const [name, spec] of Object.entries(definition.inputs)) {
    const expr = node.inputs[name];
    const at = joinPath(path, name);
    if (expr === undefined) {
      errors.push(graphError(path, `${node.loss} needs an input "${name}"`));
      continue;
    }
    const exprErrors = checkTokenExpr(expr, at, shapes, registry);
    errors.push(...exprErrors);
    const side = sideOf(expr);
    const field = fieldOf(expr);
    if (side !== spec.side) errors.push(graphError(at, `${node.loss} takes the ${spec.side}'s tokens here, got the ${side}'s`));
    if (!spec.fields.includes(field)) {
      errors.push(graphError(at, `${node.loss} takes ${spec.fields.join(' or ')} here, got ${field}`));
    }
    if (expr.kind === 'view' && field === 'logits' && shapes[side].head && !spec.head && exprErrors.length === 0) errors.push(headRefused(at, side, node.loss));
    const shape = shapes[side][field];
    if (shape !== undefined && exprErrors.length === 0) inputShapes[name] = shape;
  }
  for (const name of Object.keys(node.inputs)) {
    if (!(name in definition.inputs)) errors.push(graphError(path, `${node.loss} has no input "${name}"`));
  }
  if (definition.needsLabels && !shapes.labels) {
    errors.push(graphError(path, `${node.loss} needs labels, but the inputs have none`));
  }
  if (errors.length === 0) {
    errors.push(
      ...definition.shapeRule({
        path,
        node,
        shapes: inputShapes,
        labels: shapes.labels,
        ...(shapes.teacher.signals ? { signals: shapes.teacher.signals } : {}),
      }),
    );
  }
  return errors;
}

function checkTokenExpr(expr: TokenExpr, path: string, shapes: InputShapes, registry: Registry): GraphError[] {
  if (expr.kind === 'view') return checkView(expr, path, shapes);
  return checkAligned(expr, path, shapes, registry);
}

function checkView(view: ViewNode, path: string, shapes: InputShapes): GraphError[] {
  const errors: GraphError[] = [];
  if (view.roles.length === 0) errors.push(graphError(path, `a view needs at least one role (${ROLES.join(', ')})`));
  for (const r of view.roles) {
    if (!isRole(r)) errors.push(graphError(path, `unknown role "${String(r)}": roles are ${ROLES.join(', ')}`));
  }
  if (view.shift !== 0 && view.shift !== 1) errors.push(graphError(path, `shift must be 0 or 1, got ${String(view.shift)}`));
  if (view.field === 'topk') {
    if (view.side !== 'teacher') errors.push(graphError(path, "top-k signals are the teacher's: a topk view must be a teacher view"));
    if (!(MISSING_MASS as readonly unknown[]).includes(view.missingMass)) {
      errors.push(
        graphError(path, `a teacher.topk view needs a policy for the missing mass: one of ${MISSING_MASS.join(', ')}, got ${String(view.missingMass)}`),
      );
    }
  } else if (view.missingMass !== undefined) {
    errors.push(graphError(path, `missingMass applies to teacher.topk views only, not to ${view.side}.${view.field}`));
  }
  const stored = shapes[view.side].logitsRoles;
  if (view.field === 'logits' && stored !== undefined && shapes[view.side][view.field] !== undefined) {
    const outside = view.roles.filter((r) => !stored.includes(r));
    if (outside.length > 0 || view.shift !== 0) {
      errors.push(
        graphError(
          path,
          `${view.side}.logits come from offline signals that store them at ${stored.join(', ') || 'no'} positions only; this view selects ${view.shift === 1 ? 'next ' : ''}${view.roles.join(', ')}` +
            ' (read the rest through teacher.topk(policy) in a divergence)',
        ),
      );
    }
  }
  if (shapes[view.side][view.field] === undefined) {
    const hint =
      view.side === 'teacher' && view.field === 'logits' && shapes.teacher.topk !== undefined
        ? ': the teacher is given by offline top-k signals; read them with teacher.topk(policy) in a divergence'
        : view.field === 'topk'
          ? ': the teacher is given by its outputs, not by offline signals; read teacher.logits'
          : '';
    errors.push(graphError(path, `${view.side}.${view.field} is not among the inputs${hint}`));
  }
  return errors;
}

function checkAligned(node: AlignedNode, path: string, shapes: InputShapes, registry: Registry): GraphError[] {
  const errors = [...checkMatch(node.match, joinPath(path, 'match'), shapes, registry), ...checkView(node.source, joinPath(path, 'source'), shapes)];
  if (node.source.side !== 'teacher') errors.push(graphError(joinPath(path, 'source'), 'the aligned source must be a teacher view'));
  else if (node.source.field === 'logits' && shapes.teacher.head) errors.push(headRefused(joinPath(path, 'source'), 'teacher', 'an aligned source'));
  const matchRoles = [...node.match.teacher.roles].sort().join(',');
  const sourceRoles = [...node.source.roles].sort().join(',');
  if (matchRoles !== sourceRoles || node.match.teacher.shift !== node.source.shift) {
    errors.push(graphError(path, 'the aligned source must select the same teacher positions as the matcher (same roles and shift)'));
  }
  return errors;
}

function checkMatch(node: MatchNode, path: string, shapes: InputShapes, registry: Registry): GraphError[] {
  const definition = registry.matchers[node.method];
  if (definition === undefined) {
    const known = Object.keys(registry.matchers).join(', ') || 'none';
    return [graphError(path, `unknown matcher "${node.method}": known matchers are ${known}`)];
  }
  const errors = [
    ...checkView(node.teacher, joinPath(path, 'teacher'), shapes),
    ...checkView(node.student, joinPath(path, 'student'), shapes),
    ...definition.checkParams(node.params, path),
  ];
  if (node.teacher.side !== 'teacher') errors.push(graphError(joinPath(path, 'teacher'), 'must be a teacher view'));
  if (node.student.side !== 'student') errors.push(graphError(joinPath(path, 'student'), 'must be a student view'));
  for (const [key, view] of [
    ['teacher', node.teacher],
    ['student', node.student],
  ] as const) {
    if (view.field === 'logits' && shapes[view.side]?.head) errors.push(headRefused(joinPath(path, key), view.side, `the matcher ${node.method}`));
    if (view.field === 'topk') errors.push(topkRefused(joinPath(path, key), `the matcher ${node.method}`));
  }
  if (errors.length > 0) return errors;
  const t = shapes.teacher[node.teacher.field]!;
  const s = shapes.student[node.student.field]!;
  return [...definition.shapeRule(node, t, s, path)];
}

/**
 * Matchers, their costs and aligned sources read whole [N × V] logits rows (a cost between every
 * pair of tokens), so an LM head's view is refused there rather than materialised.
 */
const headRefused = (path: string, side: Side, reader: string): GraphError =>
  graphError(path, `${side}.logits are an LM head's view (hidden · weightᵀ), which ${reader} cannot read chunk by chunk; give materialised logits`);

/** Top-k signals hold k of V probabilities per position: matchers and aligned sources need whole rows. */
const topkRefused = (path: string, reader: string): GraphError =>
  graphError(path, `teacher.topk holds only each position's top k, which ${reader} cannot compare; match on teacher.hidden or materialised logits`);

export const sideOf = (expr: TokenExpr): Side => (expr.kind === 'view' ? expr.side : 'teacher');
export const fieldOf = (expr: TokenExpr): ViewField => (expr.kind === 'view' ? expr.field : expr.source.field);
