import * as E from 'fp-ts/lib/Either.js';
import type { InputShapes, Registry } from './definitions.js';
import { formatShape, GraphValidationError, InputError } from './errors.js';
import { type DistillInputs, hasHead, hasTopK, logitsShapeOf, type SideInputs, type SignalOutputs, type TopKSignals } from './outputs.js';
import { IGNORE_LABEL } from './roles.js';
import { type ValidGraph, validate } from './validate.js';

/**
 * The checks every evaluation's inputs pass before any tensor is made, whichever way it is asked
 * for (`evaluate`, `valueAndGrad`, `prepare`, or `loss` inside a training step): the objective
 * fits their shapes (validated again only when the shapes change), and the host arrays (roles,
 * labels) are integer arrays with one entry per position, roles hold known codes and labels are
 * token ids of the student's vocabulary or −100. A bad roles array would otherwise become empty
 * selections and a silent loss of 0.
 */
export function inputChecker(valid: ValidGraph, registry: Registry): (inputs: DistillInputs) => void {
  let validated = shapesKey(valid.shapes);
  return (inputs) => {
    const shapes = shapesOf(inputs);
    const key = shapesKey(shapes);
    if (key !== validated) {
      const again = validate(valid.graph, shapes, registry);
      if (E.isLeft(again)) throw new GraphValidationError(again.left, 'the objective does not fit these inputs');
      validated = key;
    }
    checkHostArrays(inputs);
  };
}

/**
 * The shapes of actual inputs, as `validate` takes them; an LM head's logits view has the shape
 * [B, T, V] of the logits it stands for (its tensors are checked to fit first).
 */
export function shapesOf(inputs: DistillInputs): InputShapes {
  checkHeads(inputs);
  const side = (s: SideInputs) => ({
    ...(hasTopK(s)
      ? {
          topk: logitsShapeOf(s),
          signals: { k: s.topk.shape[2], temperature: s.topk.temperature },
          ...(s.logits === undefined ? {} : { logits: s.logits.shape, logitsRoles: s.logitsRoles ?? [] }),
        }
      : { logits: logitsShapeOf(s) }),
    ...(s.hidden === undefined ? {} : { hidden: s.hidden.shape }),
    ...(hasHead(s) ? { head: true } : {}),
  });
  return { teacher: side(inputs.teacher), student: side(inputs.student), labels: inputs.labels !== undefined };
}

const shapesKey = (s: InputShapes): string => JSON.stringify([s.teacher, s.student, s.labels]);

/**
 * An LM head's tensors fit together: hidden [B, T, H], weight [V, H], bias [V], and no
 * materialised logits beside them (one or the other). Run before the shapes are derived from them.
 */
export function checkHeads(inputs: DistillInputs): void {
  for (const side of ['teacher', 'student'] as const) {
    const s = inputs[side] as SideInputs & { readonly head?: unknown; readonly logits?: unknown; readonly topk?: unknown };
    if (s.topk !== undefined) {
      if (side === 'student') throw new InputError("student.topk: offline top-k signals stand for a teacher's logits, never the student's");
      if (s.head !== undefined) throw new InputError('teacher has top-k signals beside an LM head: give one');
      checkSignals(s.topk as TopKSignals);
      const signalSide = s as SignalOutputs;
      if (signalSide.logits !== undefined) {
        const [batch, length] = signalSide.topk.shape;
        const want = [batch, length, signalSide.topk.vocab];
        if (signalSide.logits.shape.join() !== want.join()) {
          throw new InputError(
            `teacher.logits beside top-k signals must be ${formatShape(want)} (the signals' positions and vocabulary), got ${formatShape(signalSide.logits.shape)}`,
          );
        }
        if (!Array.isArray(signalSide.logitsRoles) || signalSide.logitsRoles.length === 0) {
          throw new InputError('teacher.logits beside top-k signals need logitsRoles: the roles whose positions they hold');
        }
      }
      continue;
    }
    if (s.head === undefined) {
      if (s.logits === undefined) throw new InputError(`${side} has neither logits nor an LM head (head: { weight, bias? } with hidden)`);
      continue;
    }
    if (s.logits !== undefined) throw new InputError(`${side} has both logits and an LM head: give one (the head's logits are its view)`);
    const { head, hidden } = s as SideInputs & { head: { weight?: { shape: number[] }; bias?: { shape: number[] } } };
    if (hidden === undefined) throw new InputError(`${side}.head needs ${side}.hidden [B, T, H], the states it multiplies`);
    const weight = head.weight;
    if (weight === undefined) throw new InputError(`${side}.head.weight [V, H] is missing`);
    const h = hidden.shape[2];
    if (hidden.shape.length !== 3) throw new InputError(`${side}.hidden must be [B, T, H], got ${formatShape(hidden.shape)}`);
    if (weight.shape.length !== 2 || weight.shape[1] !== h) {
      throw new InputError(
        `${side}.head.weight must be [V, ${h}] (V × the width of ${side}.hidden ${formatShape(hidden.shape)}), got ${formatShape(weight.shape)}`,
      );
    }
    if (head.bias !== undefined && (head.bias.shape.length !== 1 || head.bias.shape[0] !== weight.shape[0])) {
      throw new InputError(`${side}.head.bias must be [${weight.shape[0]}] (one entry per row of ${side}.head.weight), got ${formatShape(head.bias.shape)}`);
    }
  }
}

/** Offline signals' arrays fit their shape (ids and log-probs B·T·k, log tail B·T, 1 ≤ k ≤ V, temperature > 0) and hold valid values. */
function checkSignals(topk: TopKSignals): void {
  const shape = topk.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new InputError(`teacher.topk.shape must be [B, T, k] of whole numbers, got ${JSON.stringify(shape)}`);
  }
  const [batch, length, k] = shape;
  if (!Number.isInteger(topk.vocab) || k < 1 || k > topk.vocab) throw new InputError(`teacher.topk: k = ${k} must be in [1, V], V = ${topk.vocab}`);
  if (!(topk.temperature > 0) || !Number.isFinite(topk.temperature))
    throw new InputError(`teacher.topk.temperature must be a finite number > 0, got ${topk.temperature}`);
  const expect = (name: string, value: unknown, kind: typeof Int32Array | typeof Float32Array, n: number) => {
    if (!(value instanceof kind)) throw new InputError(`teacher.topk.${name} must be an ${kind.name}, got ${describeValue(value)}`);
    if (value.length !== n) throw new InputError(`teacher.topk.${name} has ${value.length} entries, but teacher.topk.shape ${formatShape(shape)} needs ${n}`);
  };
  expect('ids', topk.ids, Int32Array, batch * length * k);
  expect('logProbs', topk.logProbs, Float32Array, batch * length * k);
  expect('logTail', topk.logTail, Float32Array, batch * length);
  checkSignalValues(topk.ids, topk.logProbs, topk.logTail, length, k, topk.vocab);
}

/**
 * Offline signals' values, each check over the whole array before the next, the first bad entry
 * named by [b, t, j]: ids are token ids of the vocabulary, distinct at each position; log-probs
 * are ≤ 0 (not NaN) and sorted in descending order; the log tail mass is ≤ 0 (a mass of at most 1).
 */
function checkSignalValues(ids: Int32Array, logProbs: Float32Array, logTail: Float32Array, length: number, k: number, vocab: number): void {
  const entry = (i: number) => `[${Math.floor(i / k / length)}, ${Math.floor(i / k) % length}, ${i % k}]`;
  const position = (p: number) => `[${Math.floor(p / length)}, ${p % length}]`;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id < 0 || id >= vocab) throw new InputError(`teacher.topk.ids holds ${id} at ${entry(i)}: outside the vocabulary [0, ${vocab})`);
  }
  const seen = new Int32Array(vocab).fill(-1);
  for (let p = 0; p < logTail.length; p++) {
    for (let j = 0; j < k; j++) {
      const id = ids[p * k + j]!;
      if (seen[id] === p) throw new InputError(`teacher.topk.ids holds ${id} twice at ${position(p)}: the top k ids of a position are distinct`);
      seen[id] = p;
    }
  }
  for (let i = 0; i < logProbs.length; i++) {
    const lp = logProbs[i]!;
    if (!(lp <= 0)) throw new InputError(`teacher.topk.logProbs holds ${lp} at ${entry(i)}: log-probabilities are ≤ 0`);
  }
  for (let i = 0; i < logProbs.length; i++) {
    if (i % k > 0 && logProbs[i]! > logProbs[i - 1]!) {
      throw new InputError(
        `teacher.topk.logProbs at ${position(Math.floor(i / k))}: entry ${i % k} (${logProbs[i]}) > entry ${(i % k) - 1} (${logProbs[i - 1]}); log-probs must be sorted in descending order`,
      );
    }
  }
  for (let p = 0; p < logTail.length; p++) {
    const lt = logTail[p]!;
    if (!(lt <= 0)) throw new InputError(`teacher.topk.logTail holds ${lt} at ${position(p)}: the tail mass is at most 1 (its log ≤ 0)`);
  }
}

function checkHostArrays(inputs: DistillInputs): void {
  for (const side of ['teacher', 'student'] as const) {
    const [batch, length] = logitsShapeOf(inputs[side]);
    checkRoleCodes(`${side}.roles`, inputs[side].roles, batch, length, `${side}.logits`);
  }
  if (inputs.labels !== undefined) {
    const [batch, length, vocab] = logitsShapeOf(inputs.student);
    checkLabelIds('labels', inputs.labels, batch, length, vocab, 'student.logits');
  }
}

const ROLE_CODE_NAMES = '0 pad, 1 prompt, 2 visual, 3 response';

/**
 * Checks that `roles` is an integer array of B·T entries that are all role codes (0–3); `name` is
 * how the message names it (`teacher.roles`, or a file and tensor name), `against` the tensor
 * whose [B, T] it must fit. Throws an `InputError` naming the first bad entry by [b, t].
 */
export function checkRoleCodes(name: string, roles: unknown, batch: number, length: number, against: string): void {
  const codes = integerArray(name, roles, batch, length, against);
  for (let i = 0; i < codes.length; i++) {
    const r = codes[i]!;
    if (r < 0 || r > 3) throw new InputError(`${name} holds ${r} at ${at(i, length)}: codes are ${ROLE_CODE_NAMES}`);
  }
}

/**
 * Checks that `labels` is an integer array of B·T entries, each a token id in [0, vocab) or
 * `IGNORE_LABEL` (−100); the message names the first bad entry by [b, t].
 */
export function checkLabelIds(name: string, labels: unknown, batch: number, length: number, vocab: number, against: string): void {
  const ids = integerArray(name, labels, batch, length, against);
  for (let i = 0; i < ids.length; i++) {
    const y = ids[i]!;
    if (y !== IGNORE_LABEL && (y < 0 || y >= vocab)) {
      throw new InputError(
        `${name} holds ${y} at ${at(i, length)}: outside the vocabulary [0, ${vocab}) of ${against} (use ${IGNORE_LABEL} to skip a position)`,
      );
    }
  }
}

const at = (i: number, length: number): string => `[${Math.floor(i / length)}, ${i % length}]`;

/**
 * `value` as integer codes: an `Int32Array`, or a plain array whose entries are all integers, of
 * B·T entries. Anything else is refused rather than converted: a `Float32Array` would be truncated
 * (2.5 read as 2) and a tensor has no entries to index.
 */
function integerArray(name: string, value: unknown, batch: number, length: number, against: string): ArrayLike<number> {
  let codes: ArrayLike<number>;
  if (value instanceof Int32Array) codes = value;
  else if (Array.isArray(value)) {
    // A loop, not forEach: a hole in a sparse array is an entry too (undefined).
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw new InputError(`${name} holds ${describeEntry(v)} at ${at(i, length)}: entries must be integers`);
      }
    }
    codes = value as number[];
  } else {
    throw new InputError(`${name} must be an Int32Array or an array of integers, got ${describeValue(value)}`);
  }
  if (codes.length !== batch * length) {
    throw new InputError(`${name} has ${codes.length} entries, but ${against} is [${batch}, ${length}, …] (needs ${batch * length})`);
  }
  return codes;
}

const describeEntry = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function describeValue(value: unknown): string {
  if (typeof value !== 'object' || value === null) return value === null || value === undefined ? String(value) : `a ${typeof value}`;
  if (isTensorLike(value)) return `a ${value.dtype} tensor ${formatShape(value.shape)} (pass its values as an Int32Array)`;
  return `a ${value.constructor?.name ?? 'object'}`;
}

/** A tfjs tensor, recognised by its fields (a tensor of another tfjs copy fails `instanceof`). */
const isTensorLike = (v: object): v is { readonly dtype: string; readonly shape: readonly number[] } =>
  'dtype' in v && typeof v.dtype === 'string' && 'shape' in v && Array.isArray(v.shape);
