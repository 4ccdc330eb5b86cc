import type { ViewNode } from './graph.js';
import type { Field, Side } from './outputs.js';
import type { Role } from './roles.js';

/** Selects positions of one field of one side by token role. */
export interface FieldViews<S extends Side, F extends Field> {
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

function fieldViews<S extends Side, F extends Field>(side: S, field: F): FieldViews<S, F> {
  const make = (roles: readonly Role[], shift: 0 | 1): ViewNode<S, F> => Object.freeze({ kind: 'view', side, field, roles: Object.freeze([...roles]), shift });
  return {
    at: (...roles) => make(roles, 0),
    next: (...roles) => make(roles, 1),
  };
}

function sideViews<S extends Side>(side: S): SideViews<S> {
  return { logits: fieldViews(side, 'logits'), hidden: fieldViews(side, 'hidden') };
}

/** The frozen teacher's outputs: `teacher.logits.next('response')`, `teacher.hidden.at('visual')`. */
export const teacher: SideViews<'teacher'> = sideViews('teacher');

/** The trained student's outputs; gradients flow into these. */
export const student: SideViews<'student'> = sideViews('student');
