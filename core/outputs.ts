import type { Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';

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
 * A side that hands over its final hidden states and its LM head instead of logits: its logits
 * view is `hidden · head.weightᵀ + head.bias` [B, T, V], derived lazily. Divergences and
 * supervised cross-entropy compute it chunk by chunk of token rows and never hold [B·T × V]
 * (Liger-Kernel's fused linear losses); shapes and validation treat it as logits [B, T, V].
 * Gradients (`valueAndGrad`) are named `student.hidden`, `student.head.weight` and
 * `student.head.bias`.
 */
export interface HeadOutputs {
  /** Absent: the logits are the head's view. */
  readonly logits?: undefined;
  readonly head: LMHead;
  /** [B, T, H]: the states the head multiplies (after the final norm); also the `hidden` view. */
  readonly hidden: Tensor3D;
  readonly roles: IntegerArray;
}

/** A model's LM head: logits = hidden · weightᵀ + bias. */
export interface LMHead {
  /** [V, H], PyTorch's `lm_head.weight` layout. */
  readonly weight: Tensor2D;
  /** [V], optional. */
  readonly bias?: Tensor1D;
}

/** One side of the inputs: materialised logits, or an LM head whose logits are a derived view. */
export type SideInputs = SideOutputs | HeadOutputs;

/** Whether a side hands over an LM head (its logits are then a view, never materialised). */
export const hasHead = (side: SideInputs): side is HeadOutputs => 'head' in side && side.head !== undefined;

/** [B, T, V]: a side's logits shape, from its logits or derived from its head without computing them. */
export function logitsShapeOf(side: SideInputs): [number, number, number] {
  if (!hasHead(side)) return side.logits.shape;
  const [batch, length] = side.hidden.shape;
  return [batch, length, side.head.weight.shape[0]];
}

/** Every tensor a side holds (logits or head, hidden), e.g. to dispose them. */
export function tensorsOf(side: SideInputs): Array<Tensor1D | Tensor2D | Tensor3D> {
  if (hasHead(side)) return [side.head.weight, ...(side.head.bias === undefined ? [] : [side.head.bias]), side.hidden];
  return [side.logits, ...(side.hidden === undefined ? [] : [side.hidden])];
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
  readonly teacher: SideInputs;
  readonly student: SideInputs;
  readonly labels?: IntegerArray;
}

/** Whose outputs: the frozen teacher's or the trained student's. */
export type Side = 'teacher' | 'student';
/** Which output of a side a view reads: LM-head logits or last hidden states. */
export type Field = 'logits' | 'hidden';
