import { InputError } from './errors.js';
import { assertFinite } from './finite.js';
import { type DistillInputs, hasHead } from './outputs.js';

/**
 * Why a loss came out NaN or ±Infinity: the first non-finite entry of an input the objective
 * reads is an `InputError` naming the tensor and its index; with finite inputs, the error names
 * the terms that are not finite. Run only when the loss is not finite, so a finite loss costs
 * nothing.
 */
export async function diagnoseNonFinite(inputs: DistillInputs, loss: number, terms: Readonly<Record<string, number>>): Promise<never> {
  for (const side of ['teacher', 'student'] as const) {
    const s = inputs[side];
    if (s.logits !== undefined) await assertFinite(s.logits, `${side}.logits`);
    if (hasHead(s)) {
      await assertFinite(s.head.weight, `${side}.head.weight`);
      if (s.head.bias !== undefined) await assertFinite(s.head.bias, `${side}.head.bias`);
    }
    if (s.hidden !== undefined) await assertFinite(s.hidden, `${side}.hidden`);
  }
  const bad = Object.entries(terms).filter(([, v]) => !Number.isFinite(v));
  throw new InputError(
    `the loss is ${loss} although every input is finite${bad.length > 0 ? `; non-finite terms: ${bad.map(([n, v]) => `${n} = ${v}`).join(', ')}` : ''}`,
  );
}
