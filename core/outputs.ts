import type { Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import type { Role } from './roles.js';

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

/**
 * A teacher known only by its offline top-k signals (`mmkd teacher-signals`, or a PyTorch
 * script): per position, the k most probable token ids with their log-probabilities at
 * `temperature` and the log of the remaining mass. Read through `teacher.topk(policy)` views,
 * never as logits. Host arrays, row-major over [B, T] positions.
 */
export interface TopKSignals {
  /** [B·T·k] token ids in [0, vocab), most probable first, distinct at each position. */
  readonly ids: Int32Array;
  /** [B·T·k] log p of those ids (log softmax(z / temperature)), descending, ≤ 0. */
  readonly logProbs: Float32Array;
  /** [B·T] log(1 − Σ top-k p); −Infinity when the top k hold all the mass. */
  readonly logTail: Float32Array;
  /** [B, T, k] */
  readonly shape: readonly [number, number, number];
  /** V: the vocabulary the ids index. */
  readonly vocab: number;
  /** The temperature the log-probs were taken at; an objective must use the same. */
  readonly temperature: number;
}

/** A side given by its offline top-k signals (a teacher that does not run beside the student). */
export interface SignalOutputs {
  /**
   * The teacher's logits [B, T, V] where the signals store them whole (`logitsRoles`, e.g. its
   * vision tokens, for matching and relation terms); zeros elsewhere, which no view may select.
   */
  readonly logits?: Tensor3D;
  /** The roles whose positions `logits` holds; required with `logits`. */
  readonly logitsRoles?: readonly Role[];
  readonly topk: TopKSignals;
  readonly hidden?: Tensor3D;
  readonly roles: IntegerArray;
}

/** One side of the inputs: materialised logits, an LM head whose logits are a derived view, or offline top-k signals. */
export type SideInputs = SideOutputs | HeadOutputs | SignalOutputs;

/** Whether a side is given by offline top-k signals. */
export const hasTopK = (side: SideInputs): side is SignalOutputs => 'topk' in side && side.topk !== undefined;

/** Whether a side hands over an LM head (its logits are then a view, never materialised). */
export const hasHead = (side: SideInputs): side is HeadOutputs => 'head' in side && side.head !== undefined;

/** [B, T, V]: a side's logits shape, from its logits or derived from its head without computing them. */
export function logitsShapeOf(side: SideInputs): [number, number, number] {
  if (hasTopK(side)) return [side.topk.shape[0], side.topk.shape[1], side.topk.vocab];
  if (!hasHead(side)) return side.logits.shape;
  const [batch, length] = side.hidden.shape;
  return [batch, length, side.head.weight.shape[0]];
}

/** Every tensor a side holds (logits or head, hidden), e.g. to dispose them. */
export function tensorsOf(side: SideInputs): Array<Tensor1D | Tensor2D | Tensor3D> {
  if (hasHead(side)) return [side.head.weight, ...(side.head.bias === undefined ? [] : [side.head.bias]), side.hidden];
  if (hasTopK(side)) return [...(side.logits === undefined ? [] : [side.logits]), ...(side.hidden === undefined ? [] : [side.hidden])];
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

/** What a view reads: a field of a side's outputs, or (the teacher's) offline top-k signals. */
export type ViewField = Field | 'topk';

/** How the mass outside a teacher's top k is treated when a divergence compares distributions (see `teacher.topk`). */
export type MissingMass = 'renormalize' | 'tailBucket' | 'uniform';

/** Every missing-mass policy, for validation and listings. */
export const MISSING_MASS: readonly MissingMass[] = ['renormalize', 'tailBucket', 'uniform'];
