import type { ViewNode } from './graph.js';
import type { MissingMass, Side, ViewField } from './outputs.js';
import type { Role } from './roles.js';

/** Selects positions of one field of one side by token role. */
export interface FieldViews<S extends Side, F extends ViewField> {
  /** Positions whose role is one of `roles` (no shift: visual logits, hidden states). */
  at(...roles: readonly [Role, ...Role[]]): ViewNode<S, F>;
  /**
   * Positions t whose *next* token has one of `roles`: the logits that predict those tokens
   * (`next('response')` pairs with the response labels at t + 1).
   */
  next(...roles: readonly [Role, ...Role[]]): ViewNode<S, F>;
}

/** One side's views, by field: `teacher.logits.at('visual')`, `student.hidden.next('response')`. */
export interface SideViews<S extends Side> {
  readonly logits: FieldViews<S, 'logits'>;
  readonly hidden: FieldViews<S, 'hidden'>;
}

function fieldViews<S extends Side, F extends ViewField>(side: S, field: F, missingMass?: MissingMass): FieldViews<S, F> {
  const make = (roles: readonly Role[], shift: 0 | 1): ViewNode<S, F> =>
    Object.freeze({ kind: 'view', side, field, roles: Object.freeze([...roles]), shift, ...(missingMass === undefined ? {} : { missingMass }) });
  return {
    at: (...roles) => make(roles, 0),
    next: (...roles) => make(roles, 1),
  };
}

function sideViews<S extends Side>(side: S): SideViews<S> {
  return { logits: fieldViews(side, 'logits'), hidden: fieldViews(side, 'hidden') };
}

/** The teacher's views: its outputs, and its offline top-k signals. */
export interface TeacherViews extends SideViews<'teacher'> {
  /**
   * The teacher's offline top-k signals (`mmkd teacher-signals`), read by divergences in place of
   * its logits, with an explicit policy for the mass outside the top k. With top-k
   * probabilities p_1…p_k and tail mass r = 1 − Σ p_i, and the student's q:
   * - `renormalize`: both sides restricted to the teacher's top k ids and renormalised there
   *   (p_i / Σ p, q_i / Σ q), as DistillKit does; the tail is ignored.
   * - `tailBucket`: the tail as one extra class on both sides, (p_1…p_k, r) against
   *   (q_1…q_k, 1 − Σ q_i) (NVIDIA's TopLogitsKL "ghost token"); its forward KL is a lower
   *   bound of the dense forward KL (merging classes never increases a KL).
   * - `uniform`: r spread evenly over the V − k ids outside the top k, against the student's
   *   whole distribution.
   * With k = V the three equal the dense divergence. The signals' temperature must be the
   * divergence's.
   */
  topk(missingMass: MissingMass): FieldViews<'teacher', 'topk'>;
}

/** The frozen teacher's outputs: `teacher.logits.next('response')`, `teacher.hidden.at('visual')`, `teacher.topk('tailBucket').next('response')`. */
export const teacher: TeacherViews = { ...sideViews('teacher'), topk: (missingMass) => fieldViews('teacher', 'topk', missingMass) };

/** The trained student's outputs; gradients flow into these. */
export const student: SideViews<'student'> = sideViews('student');
