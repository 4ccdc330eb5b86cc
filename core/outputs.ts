import type { Tensor3D } from '@tensorflow/tfjs-core';

/**
 * What one model (teacher or student) hands to an objective for a batch of B sequences of T
 * positions. The objective never sees parameters: any model that yields these can be distilled.
 *
 * - `logits` [B, T, V]: the LM head's output at every position (float32).
 * - `hidden` [B, T, H]: the last hidden states (optional; feature and affinity losses need them).
 * - `roles`  [B·T] row-major role codes (see `ROLE_CODES`), host-side: masks and token selections
 *   are built from them without touching the backend.
 */
export interface SideOutputs {
  readonly logits: Tensor3D;
  readonly hidden?: Tensor3D;
  readonly roles: IntegerArray;
}

/**
 * Host-side integer codes (roles, labels): an `Int32Array`, or a plain array of integers. Every
 * evaluation checks them first; anything else (a `Float32Array`, a tensor, a non-integer entry)
 * is an `InputError` naming the field and what it got, rather than being truncated.
 */
export type IntegerArray = Int32Array | readonly number[];

/**
 * The inputs of one objective evaluation. Teacher and student may have different sequence
 * lengths (an efficient student keeps fewer vision tokens). `labels` [B·T_student] are the target
 * token ids aligned with the student's positions (label at t is the token at t; next-token
 * selections read t + 1), with `IGNORE_LABEL` where no supervision applies.
 */
export interface DistillInputs {
  readonly teacher: SideOutputs;
  readonly student: SideOutputs;
  readonly labels?: IntegerArray;
}

/** Whose outputs: the frozen teacher's or the trained student's. */
export type Side = 'teacher' | 'student';
/** Which output of a side a view reads: LM-head logits or last hidden states. */
export type Field = 'logits' | 'hidden';
