import * as tf from '@tensorflow/tfjs-core';
import { formatShape } from '../core/errors.js';
import { checkLabelIds, checkRoleCodes } from '../core/input-checks.js';
import type { DistillInputs } from '../core/outputs.js';
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
 * | `roles`          | [B, T]       | integer       | 0 pad, 1 prompt, 2 visual, 3 response (both sides, when T_t = T_s) |
 * | `teacher.roles`, `student.roles` | [B, T_t], [B, T_s] | integer | per side, when the lengths differ |
 * | `labels`         | [B, T_s]     | integer       | optional: target ids, −100 where ignored       |
 */
export const INPUT_TENSOR_NAMES = [
  'teacher.logits',
  'student.logits',
  'teacher.hidden',
  'student.hidden',
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

  const teacherLogits = need('teacher.logits');
  const studentLogits = need('student.logits');
  const [tb, tt] = rank3('teacher.logits', teacherLogits);
  const [sb, st] = rank3('student.logits', studentLogits);
  const labels = tensors.get('labels');
  if (labels !== undefined && (labels.shape.length !== 2 || labels.shape[0] !== sb || labels.shape[1] !== st)) {
    throw new CliError(`${path}: 'labels' must be [${sb}, ${st}] to match student.logits, got ${formatShape(labels.shape)}`);
  }
  const teacherRoles = roleArray('teacher', tb, tt);
  const studentRoles = roleArray('student', sb, st);
  // Checked before any tensor is made, so a refusal leaves nothing on the backend.
  const labelIds = labels === undefined ? undefined : integers('labels', labels);
  if (labelIds !== undefined) checkLabelIds(`${path}: 'labels'`, labelIds, sb, st, studentLogits.shape[2]!, 'student.logits');
  const hidden = (side: 'teacher' | 'student') => {
    const t = tensors.get(`${side}.hidden`);
    return t === undefined ? {} : { hidden: float3(`${side}.hidden`, t) };
  };
  return {
    teacher: { logits: float3('teacher.logits', teacherLogits), roles: teacherRoles, ...hidden('teacher') },
    student: { logits: float3('student.logits', studentLogits), roles: studentRoles, ...hidden('student') },
    ...(labelIds === undefined ? {} : { labels: labelIds }),
  };
}

export function disposeInputs(inputs: DistillInputs): void {
  tf.dispose([inputs.teacher.logits, inputs.student.logits, ...[inputs.teacher.hidden, inputs.student.hidden].filter((t) => t !== undefined)]);
}
