import * as E from 'fp-ts/lib/Either.js';
import { all, allRecord, type Checked, check, failWith, ok } from './checked.js';
import type { Registry } from './definitions.js';
import { type GraphError, graphError, joinPath } from './errors.js';
import type { AlignedNode, JsonValue, LossNode, MatchNode, ScalarNode, TokenExpr, ViewNode } from './graph.js';
import { MISSING_MASS } from './outputs.js';
import { isRole, ROLES } from './roles.js';

/**
 * Decodes untrusted JSON (an objective file) into a graph, reporting every structural problem
 * with its path: unknown kinds, losses and roles, missing or extra fields, wrong types. Parameter
 * ranges and shapes are `validate`'s business; defaults are filled in here, so a decoded graph is
 * exactly what the builders would have made.
 */
export function decodeGraph(json: unknown, registry: Registry, root = 'objective'): Checked<ScalarNode> {
  return decodeScalar(json, root, registry);
}

type Obj = Readonly<Record<string, unknown>>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (typeof v === 'string') return `"${v}"`;
  if (Array.isArray(v) || isObject(v)) {
    const text = JSON.stringify(v);
    return text.length <= 40 ? text : Array.isArray(v) ? 'an array' : 'an object';
  }
  return `${typeof v} ${String(v)}`;
};

function fields(value: unknown, path: string, what: string, required: readonly string[], optional: readonly string[] = []): Checked<Obj> {
  if (!isObject(value)) return failWith([graphError(path, `expected ${what} (an object), got ${describe(value)}`)]);
  const errors: GraphError[] = [];
  for (const key of required) if (!(key in value)) errors.push(graphError(path, `${what} is missing "${key}"`));
  const known = new Set([...required, ...optional]);
  for (const key of Object.keys(value)) {
    if (!known.has(key)) errors.push(graphError(path, `${what} has an unknown field "${key}" (expected ${[...known].join(', ')})`));
  }
  return check(value, errors);
}

function decodeScalar(value: unknown, path: string, registry: Registry): Checked<ScalarNode> {
  if (!isObject(value)) return failWith([graphError(path, `expected a node (an object with "kind"), got ${describe(value)}`)]);
  switch (value['kind']) {
    case 'loss':
      return decodeLoss(value, path, registry);
    case 'weighted':
      return decodeWeighted(value, path, registry);
    case 'objective':
      return decodeObjective(value, path, registry);
    default:
      return failWith([graphError(path, `unknown node kind ${describe(value['kind'])}: expected "loss", "weighted" or "objective"`)]);
  }
}

function decodeObjective(value: Obj, path: string, registry: Registry): Checked<ScalarNode> {
  return E.chain((v: Obj) => {
    const terms = v['terms'];
    if (!isObject(terms)) return failWith<ScalarNode>([graphError(path, `"terms" must be an object of named terms, got ${describe(terms)}`)]);
    const names = Object.keys(terms);
    if (names.length === 0) return failWith<ScalarNode>([graphError(path, 'an objective needs at least one term')]);
    const badNames = names.filter((n) => !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(n));
    if (badNames.length > 0) {
      return failWith<ScalarNode>(badNames.map((n) => graphError(path, `term name "${n}" must be a letter or _ followed by letters, digits, _ or -`)));
    }
    const decoded = allRecord(Object.fromEntries(names.map((n) => [n, decodeScalar(terms[n], joinPath(path, n), registry)])));
    return E.map((t: Record<string, ScalarNode>): ScalarNode => ({ kind: 'objective', terms: t }))(decoded);
  })(fields(value, path, 'an objective', ['kind', 'terms']));
}

function decodeWeighted(value: Obj, path: string, registry: Registry): Checked<ScalarNode> {
  return E.chain((v: Obj) => {
    const weight = v['weight'];
    const weightOk =
      typeof weight === 'number' && Number.isFinite(weight)
        ? ok(weight)
        : failWith<number>([graphError(path, `"weight" must be a finite number, got ${describe(weight)}`)]);
    const term = decodeScalar(v['term'], path, registry);
    return E.map(([w, t]: [number, ScalarNode]): ScalarNode => ({ kind: 'weighted', weight: w, term: t }))(pairUp(weightOk, term));
  })(fields(value, path, 'a weighted term', ['kind', 'weight', 'term']));
}

function decodeLoss(value: Obj, path: string, registry: Registry): Checked<ScalarNode> {
  return E.chain((v: Obj) => {
    const name = v['loss'];
    const definition = typeof name === 'string' ? registry.losses[name] : undefined;
    if (definition === undefined) {
      return failWith<ScalarNode>([graphError(path, `unknown loss ${describe(name)}: known losses are ${Object.keys(registry.losses).join(', ')}`)]);
    }
    const rawInputs = v['inputs'];
    const inputs: Checked<Record<string, TokenExpr>> = E.chain((raw: Obj) =>
      allRecord(Object.fromEntries(Object.keys(raw).map((k) => [k, decodeTokenExpr(raw[k], joinPath(path, k), registry)]))),
    )(fields(rawInputs, path, `the inputs of ${definition.name}`, Object.keys(definition.inputs)));
    const params = decodeParams(v['params'] ?? {}, path, definition.name, definition.defaults);
    return E.map(([i, p]: [Record<string, TokenExpr>, Record<string, JsonValue>]): ScalarNode => {
      const node: LossNode = { kind: 'loss', loss: definition.name, inputs: i, params: p };
      return node;
    })(pairUp(inputs, params));
  })(fields(value, path, 'a loss', ['kind', 'loss', 'inputs'], ['params']));
}

function decodeParams(value: unknown, path: string, owner: string, defaults: Readonly<Record<string, JsonValue>>): Checked<Record<string, JsonValue>> {
  if (!isObject(value)) return failWith([graphError(path, `the params of ${owner} must be an object, got ${describe(value)}`)]);
  return E.chain((v: Obj) => {
    const errors: GraphError[] = [];
    // A null default is an option that is off when absent (`paddedVocab`): left out, so a graph
    // decoded from JSON equals the one its builders made.
    const out: Record<string, JsonValue> = Object.fromEntries(Object.entries(defaults).filter(([, d]) => d !== null));
    for (const [key, given] of Object.entries(v)) {
      if (!(key in defaults)) {
        errors.push(graphError(path, `${owner} has no parameter "${key}" (its parameters: ${Object.keys(defaults).join(', ') || 'none'})`));
        continue;
      }
      const expected = defaults[key];
      const sameType = expected === null || given === null || typeof given === typeof expected;
      if (!sameType) errors.push(graphError(path, `parameter "${key}" of ${owner} must be a ${typeof expected}, got ${describe(given)}`));
      else out[key] = given as JsonValue;
    }
    return check(out, errors);
  })(ok(value));
}

function decodeTokenExpr(value: unknown, path: string, registry: Registry): Checked<TokenExpr> {
  if (isObject(value) && value['kind'] === 'aligned') return decodeAligned(value, path, registry);
  return decodeView(value, path);
}

function decodeView(value: unknown, path: string): Checked<ViewNode> {
  return E.chain((v: Obj) => {
    const errors: GraphError[] = [];
    if (v['kind'] !== 'view') errors.push(graphError(path, `expected a token view ("kind": "view" or "aligned"), got kind ${describe(v['kind'])}`));
    const side = v['side'];
    if (side !== 'teacher' && side !== 'student') errors.push(graphError(path, `"side" must be "teacher" or "student", got ${describe(side)}`));
    const field = v['field'];
    if (field !== 'logits' && field !== 'hidden' && field !== 'topk') {
      errors.push(graphError(path, `"field" must be "logits", "hidden" or "topk" (a teacher's offline signals), got ${describe(field)}`));
    }
    const missingMass = v['missingMass'];
    if (field === 'topk' && !(MISSING_MASS as readonly unknown[]).includes(missingMass)) {
      errors.push(graphError(path, `a "topk" view needs "missingMass": one of ${MISSING_MASS.map((m) => `"${m}"`).join(', ')}, got ${describe(missingMass)}`));
    } else if (field !== 'topk' && missingMass !== undefined) {
      errors.push(graphError(path, `"missingMass" belongs to "topk" views only, not to "${String(field)}"`));
    }
    const shift = v['shift'] ?? 0;
    if (shift !== 0 && shift !== 1) errors.push(graphError(path, `"shift" must be 0 or 1 (1: next-token), got ${describe(shift)}`));
    const roles = v['roles'];
    if (!Array.isArray(roles) || roles.length === 0) {
      errors.push(graphError(path, `"roles" must be a non-empty array of ${ROLES.join(', ')}, got ${describe(roles)}`));
    } else {
      for (const r of roles) if (!isRole(r)) errors.push(graphError(path, `unknown role ${describe(r)}: roles are ${ROLES.join(', ')}`));
    }
    const node = { kind: 'view', side, field, roles, shift, ...(missingMass === undefined ? {} : { missingMass }) } as ViewNode;
    return check(node, errors);
  })(fields(value, path, 'a view', ['kind', 'side', 'field', 'roles'], ['shift', 'missingMass']));
}

function decodeAligned(value: Obj, path: string, registry: Registry): Checked<TokenExpr> {
  return E.chain((v: Obj) => {
    const match = decodeMatch(v['match'], joinPath(path, 'match'), registry);
    const source = E.chain(
      (s: ViewNode): Checked<ViewNode<'teacher'>> =>
        s.side === 'teacher'
          ? ok(s as ViewNode<'teacher'>)
          : failWith([graphError(joinPath(path, 'source'), "an aligned expression gathers the teacher's tokens: its source must be a teacher view")]),
    )(decodeView(v['source'], joinPath(path, 'source')));
    return E.map(([m, s]: [MatchNode, ViewNode<'teacher'>]): TokenExpr => {
      const node: AlignedNode = { kind: 'aligned', match: m, source: s };
      return node;
    })(pairUp(match, source));
  })(fields(value, path, 'an aligned expression', ['kind', 'match', 'source']));
}

function decodeMatch(value: unknown, path: string, registry: Registry): Checked<MatchNode> {
  return E.chain((v: Obj) => {
    if (v['kind'] !== 'match') return failWith<MatchNode>([graphError(path, `expected a matcher ("kind": "match"), got kind ${describe(v['kind'])}`)]);
    const method = v['method'];
    const definition = typeof method === 'string' ? registry.matchers[method] : undefined;
    if (definition === undefined) {
      return failWith<MatchNode>([
        graphError(path, `unknown matcher ${describe(method)}: known matchers are ${Object.keys(registry.matchers).join(', ') || 'none'}`),
      ]);
    }
    const sides = all([decodeView(v['teacher'], joinPath(path, 'teacher')), decodeView(v['student'], joinPath(path, 'student'))]);
    const params = decodeParams(v['params'] ?? {}, path, `matcher ${definition.method}`, definition.defaults);
    return E.chain(([[t, s], p]: [ViewNode[], Record<string, JsonValue>]): Checked<MatchNode> => {
      const errors: GraphError[] = [];
      if (t!.side !== 'teacher') errors.push(graphError(joinPath(path, 'teacher'), 'must be a teacher view'));
      if (s!.side !== 'student') errors.push(graphError(joinPath(path, 'student'), 'must be a student view'));
      const node: MatchNode = {
        kind: 'match',
        method: definition.method,
        teacher: t as ViewNode<'teacher'>,
        student: s as ViewNode<'student'>,
        params: p,
      };
      return check(node, errors);
    })(pairUp(sides, params));
  })(fields(value, path, 'a matcher', ['kind', 'method', 'teacher', 'student'], ['params']));
}

function pairUp<A, B>(a: Checked<A>, b: Checked<B>): Checked<[A, B]> {
  if (E.isRight(a) && E.isRight(b)) return ok([a.right, b.right]);
  return failWith([...(E.isLeft(a) ? a.left : []), ...(E.isLeft(b) ? b.left : [])]);
}
