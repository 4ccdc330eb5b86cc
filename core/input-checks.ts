import * as E from 'fp-ts/lib/Either.js';
import type { InputShapes, Registry } from './definitions.js';
import { GraphValidationError, InputError } from './errors.js';
import type { DistillInputs } from './outputs.js';
import { type ValidGraph, validate } from './validate.js';

/**
 * The checks every evaluation's inputs pass before any tensor is made, whichever way it is asked
 * for (`evaluate`, `valueAndGrad`, `prepare`, or `loss` inside a training step): the objective
 * fits their shapes (validated again only when the shapes change), and the host arrays (roles,
 * labels) have one entry per position and roles hold known codes. A bad roles array would
 * otherwise become empty selections and a silent loss of 0.
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

/** The shapes of actual inputs, as `validate` takes them. */
export function shapesOf(inputs: DistillInputs): InputShapes {
  const side = (s: DistillInputs['teacher']) => ({
    logits: s.logits.shape,
    ...(s.hidden === undefined ? {} : { hidden: s.hidden.shape }),
  });
  return { teacher: side(inputs.teacher), student: side(inputs.student), labels: inputs.labels !== undefined };
}

const shapesKey = (s: InputShapes): string => JSON.stringify([s.teacher, s.student, s.labels]);

function checkHostArrays(inputs: DistillInputs): void {
  for (const side of ['teacher', 'student'] as const) {
    const [batch, length] = inputs[side].logits.shape;
    const roles = inputs[side].roles;
    if (roles.length !== batch * length) {
      throw new InputError(`${side}.roles has ${roles.length} entries, but ${side}.logits is [${batch}, ${length}, …] (needs ${batch * length})`);
    }
    for (let i = 0; i < roles.length; i++) {
      const r = roles[i]!;
      if (r < 0 || r > 3) {
        throw new InputError(`${side}.roles holds ${r} at [${Math.floor(i / length)}, ${i % length}]: codes are 0 pad, 1 prompt, 2 visual, 3 response`);
      }
    }
  }
  if (inputs.labels !== undefined) {
    const [batch, length] = inputs.student.logits.shape;
    if (inputs.labels.length !== batch * length) {
      throw new InputError(`labels has ${inputs.labels.length} entries, but student.logits is [${batch}, ${length}, …] (needs ${batch * length})`);
    }
  }
}
