import * as tf from '@tensorflow/tfjs-core';
import { formatShape } from '../core/errors.js';
import { checkLabelIds, checkRoleCodes } from '../core/input-checks.js';
import { type DistillInputs, type SideInputs, tensorsOf } from '../core/outputs.js';
import { type HostDType, type HostTensor, readTensorFile, toFloat32, toInt32 } from '../io/index.js';
import { CliError } from './errors.js';

/**
 * The tensor names of an inputs file (safetensors), as `mmkd eval` reads them:
 *
 * | name             | shape        | dtype         | meaning                                        |
 * |------------------|--------------|---------------|------------------------------------------------|
 * | `teacher.logits` | [B, T_t, V]  | float         | the teacher's LM-head output at every position |
 * | `student.logits` | [B, T_s, V]  | float         | the student's                                  |
 * | `teacher.hidden` | [B, T_t, H]  | float         | optional: last hidden states                   |
 * | `student.hidden` | [B, T_s, H′] | float         | optional                                       |
 * | `teacher.head.weight`, `student.head.weight` | [V, H] | float | instead of that side's logits: its LM head (with `.hidden` as the head's input); the logits hidden · Wᵀ + b are made chunk by chunk, never whole |
 * | `teacher.head.bias`, `student.head.bias` | [V] | float | optional: the head's bias                  |
 * | `roles`          | [B, T]       | integer       | 0 pad, 1 prompt, 2 visual, 3 response (both sides, when T_t = T_s) |
 * | `teacher.roles`, `student.roles` | [B, T_t], [B, T_s] | integer | per side, when the lengths differ |
 * | `labels`         | [B, T_s]     | integer       | optional: target ids, −100 where ignored       |
 */
export const INPUT_TENSOR_NAMES = [
  'teacher.logits',
  'student.logits',
  'teacher.hidden',
  'student.hidden',
  'teacher.head.weight',
  'teacher.head.bias',
  'student.head.weight',
  'student.head.bias',
  'roles',
  'teacher.roles',
  'student.roles',
  'labels',
] as const;

/**
 * The dtypes roles and labels may have. A float or bool tensor is refused rather than converted:
 * a `bool` roles tensor would read as roles 0 and 1 (pad and prompt) and select no token, so every
 * term would silently be 0.
 */
const INTEGER_DTYPES: ReadonlySet<HostDType> = new Set(['int64', 'int32', 'int16', 'int8', 'uint8']);

/** Reads an inputs file into tensors on the active backend; the caller disposes them. */
export async function loadDistillInputs(path: string): Promise<DistillInputs> {
  const tensors = await readTensorFile(path);
  const unknown = [...tensors.keys()].filter((k) => !(INPUT_TENSOR_NAMES as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new CliError(`${path}: unknown tensor(s) ${unknown.map((k) => `'${k}'`).join(', ')}; expected ${INPUT_TENSOR_NAMES.join(', ')}`);
  }
  const need = (name: string): HostTensor => {
    const t = tensors.get(name);
    if (t === undefined) throw new CliError(`${path}: the tensor '${name}' is missing`);
    return t;
  };
  const rank3 = (name: string, t: HostTensor): [number, number, number] => {
    if (t.shape.length !== 3) throw new CliError(`${path}: '${name}' must be [B, T, D], got ${formatShape(t.shape)}`);
    return t.shape as [number, number, number];
  };
  const float3 = (name: string, t: HostTensor): tf.Tensor3D => tf.tensor3d(toFloat32(t, name, path), rank3(name, t));
  const integers = (name: string, t: HostTensor): Int32Array => {
    if (!INTEGER_DTYPES.has(t.dtype)) {
      throw new CliError(`${path}: '${name}' must be an integer tensor (${[...INTEGER_DTYPES].join(', ')}), got ${t.dtype}`);
    }
    return toInt32(t, name, path);
  };
  const roleArray = (side: 'teacher' | 'student', batch: number, length: number): Int32Array => {
    const own = tensors.get(`${side}.roles`);
    const name = own !== undefined ? `${side}.roles` : 'roles';
    const t = own ?? tensors.get('roles');
    if (t === undefined) throw new CliError(`${path}: no token roles; add 'roles' [B, T] (or 'teacher.roles' and 'student.roles')`);
    if (t.shape.length !== 2 || t.shape[0] !== batch || t.shape[1] !== length) {
      throw new CliError(`${path}: '${name}' must be [${batch}, ${length}] to match ${side}.logits, got ${formatShape(t.shape)}`);
    }
    const codes = integers(name, t);
    // Checked here too, so that a bad code is named as the file names it (one shared 'roles'
    // tensor serves both sides; the library's check would say teacher.roles).
    checkRoleCodes(`${path}: '${name}'`, codes, batch, length, `${side}.logits`);
    return codes;
  };

  /**
   * A side's [B, T, V] and the tensor that fixes B and T (its logits, or the hidden states its LM
   * head multiplies), checked before any tensor is made.
   */
  const shapeOf = (side: 'teacher' | 'student'): { batch: number; length: number; vocab: number; from: string } => {
    const weight = tensors.get(`${side}.head.weight`);
    const bias = tensors.get(`${side}.head.bias`);
    if (weight === undefined) {
      if (bias !== undefined) throw new CliError(`${path}: '${side}.head.bias' needs '${side}.head.weight' [V, H]`);
      const [batch, length, vocab] = rank3(`${side}.logits`, need(`${side}.logits`));
      return { batch, length, vocab, from: `${side}.logits` };
    }
    if (tensors.has(`${side}.logits`)) {
      throw new CliError(`${path}: '${side}.logits' and '${side}.head.weight' are both given; give one (the head's logits are computed from ${side}.hidden)`);
    }
    const hidden = tensors.get(`${side}.hidden`);
    if (hidden === undefined) throw new CliError(`${path}: '${side}.head.weight' needs '${side}.hidden' [B, T, H], the states the head multiplies`);
    const [batch, length, width] = rank3(`${side}.hidden`, hidden);
    if (weight.shape.length !== 2 || weight.shape[1] !== width) {
      throw new CliError(
        `${path}: '${side}.head.weight' must be [V, ${width}] to match ${side}.hidden ${formatShape(hidden.shape)}, got ${formatShape(weight.shape)}`,
      );
    }
    const vocab = weight.shape[0]!;
    if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== vocab)) {
      throw new CliError(`${path}: '${side}.head.bias' must be [${vocab}] to match ${side}.head.weight, got ${formatShape(bias.shape)}`);
    }
    return { batch, length, vocab, from: `${side}.hidden` };
  };
  const teacherShape = shapeOf('teacher');
  const studentShape = shapeOf('student');
  const { batch: sb, length: st } = studentShape;
  const labels = tensors.get('labels');
  if (labels !== undefined && (labels.shape.length !== 2 || labels.shape[0] !== sb || labels.shape[1] !== st)) {
    throw new CliError(`${path}: 'labels' must be [${sb}, ${st}] to match ${studentShape.from}, got ${formatShape(labels.shape)}`);
  }
  const teacherRoles = roleArray('teacher', teacherShape.batch, teacherShape.length);
  const studentRoles = roleArray('student', sb, st);
  // Checked before any tensor is made, so a refusal leaves nothing on the backend.
  const labelIds = labels === undefined ? undefined : integers('labels', labels);
  if (labelIds !== undefined) checkLabelIds(`${path}: 'labels'`, labelIds, sb, st, studentShape.vocab, 'student.logits');
  const float = (name: string): tf.Tensor => {
    const t = need(name);
    return tf.tensor(toFloat32(t, name, path), [...t.shape]);
  };
  const side = (who: 'teacher' | 'student', roles: Int32Array): SideInputs => {
    const hidden = tensors.get(`${who}.hidden`);
    const hiddenTensor = hidden === undefined ? undefined : float3(`${who}.hidden`, hidden);
    if (!tensors.has(`${who}.head.weight`)) {
      return { logits: float3(`${who}.logits`, need(`${who}.logits`)), roles, ...(hiddenTensor === undefined ? {} : { hidden: hiddenTensor }) };
    }
    const head = {
      weight: float(`${who}.head.weight`) as tf.Tensor2D,
      ...(tensors.has(`${who}.head.bias`) ? { bias: float(`${who}.head.bias`) as tf.Tensor1D } : {}),
    };
    return { head, hidden: hiddenTensor!, roles };
  };
  return {
    teacher: side('teacher', teacherRoles),
    student: side('student', studentRoles),
    ...(labelIds === undefined ? {} : { labels: labelIds }),
  };
}

export function disposeInputs(inputs: DistillInputs): void {
  tf.dispose([...tensorsOf(inputs.teacher), ...tensorsOf(inputs.student)]);
}
