/**
 * Token selection by role, written independently of `core/` from the definitions:
 *
 * - roles are codes per position of a [B, T] batch: pad 0, prompt 1, visual 2, response 3;
 * - a view (role set R, shift s) selects, in row-major order, every position t of sample b with
 *   role[b, t + s] ∈ R and t + s < T. Shift 1 is "next-token": the logits at t predict token
 *   t + 1, so they are selected by the role of t + 1;
 * - teacher and student selections are paired in order, sample by sample, and must select
 *   the same number of positions in each sample;
 * - supervised CE takes the student's view and drops positions whose label at t + s is −100
 *   (the target is that label).
 */
import { checkLength, checkSize } from './checks.js';

export type Role = 'pad' | 'prompt' | 'visual' | 'response';

export const ROLE_CODE: Readonly<Record<Role, number>> = { pad: 0, prompt: 1, visual: 2, response: 3 };

/** The label of positions that carry no target. */
export const IGNORE_INDEX = -100;

/** A set of roles and a shift: which positions of a sequence a loss looks at. */
export interface View {
  readonly roles: readonly Role[];
  readonly shift: 0 | 1;
}

/** Selected positions of a [B, T] batch, in row-major order. */
export interface Selection {
  readonly B: number;
  readonly T: number;
  /** b · T + t for each selected position. */
  readonly flat: Int32Array;
  /** b for each selected position (non-decreasing). */
  readonly sample: Int32Array;
  /** t for each selected position. */
  readonly position: Int32Array;
}

/** A [B, T, width] tensor of one model's outputs with the role of each position. */
export interface SequenceTensor {
  readonly data: ArrayLike<number>;
  readonly B: number;
  readonly T: number;
  readonly width: number;
  /** [B, T] role codes. */
  readonly roles: ArrayLike<number>;
}

function checkRoles(roles: ArrayLike<number>, B: number, T: number): void {
  checkSize('B', B);
  checkSize('T', T);
  checkLength('roles', roles, B * T, `[${B}, ${T}]`);
  for (let i = 0; i < roles.length; i++) {
    const r = roles[i]!;
    if (!(r === 0 || r === 1 || r === 2 || r === 3)) {
      throw new RangeError(`roles: code ${r} at [${Math.floor(i / T)}, ${i % T}] is not one of 0 (pad), 1 (prompt), 2 (visual), 3 (response)`);
    }
  }
}

/** The positions of a [B, T] role array that view (roleSet, shift) selects. */
export function selectPositions(roles: ArrayLike<number>, B: number, T: number, roleSet: Iterable<Role>, shift: 0 | 1): Selection {
  checkRoles(roles, B, T);
  const codes = new Set<number>();
  for (const r of roleSet) codes.add(ROLE_CODE[r]);
  const flat: number[] = [];
  const sample: number[] = [];
  const position: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t + shift < T; t++) {
      if (codes.has(roles[b * T + t + shift]!)) {
        flat.push(b * T + t);
        sample.push(b);
        position.push(t);
      }
    }
  }
  return { B, T, flat: Int32Array.from(flat), sample: Int32Array.from(sample), position: Int32Array.from(position) };
}

/** Teacher and student selections paired in order: pair i is (teacher[i], student[i]) of sample[i]. */
export interface PairedSelection {
  readonly teacher: Int32Array;
  readonly student: Int32Array;
  readonly sample: Int32Array;
}

/** Pairs two selections sample by sample; throws if a sample has different counts. */
export function pairSelections(teacher: Selection, student: Selection): PairedSelection {
  if (teacher.B !== student.B) throw new RangeError(`pairSelections: teacher batch ${teacher.B} ≠ student batch ${student.B}`);
  const count = (s: Selection): number[] => {
    const n = new Array<number>(s.B).fill(0);
    for (const b of s.sample) n[b]!++;
    return n;
  };
  const nt = count(teacher);
  const ns = count(student);
  for (let b = 0; b < teacher.B; b++) {
    if (nt[b] !== ns[b]) {
      throw new RangeError(`pairSelections: sample ${b} selects ${nt[b]} teacher positions but ${ns[b]} student positions`);
    }
  }
  // Both selections are in row-major order, so equal per-sample counts pair index for index.
  return { teacher: teacher.flat, student: student.flat, sample: teacher.sample };
}

/** A selection for supervised CE, with the target label of each position. */
export interface SupervisedSelection extends Selection {
  readonly target: Int32Array;
}

/**
 * The student's view (roleSet, shift), minus positions whose label at t + shift is −100.
 * Throws on a label outside [0, vocab) that is not −100.
 */
export function selectSupervised(
  roles: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  T: number,
  vocab: number,
  roleSet: Iterable<Role>,
  shift: 0 | 1,
): SupervisedSelection {
  const view = selectPositions(roles, B, T, roleSet, shift);
  checkLength('labels', labels, B * T, `[${B}, ${T}]`);
  const keep: number[] = [];
  const target: number[] = [];
  for (let i = 0; i < view.flat.length; i++) {
    const at = view.flat[i]! + shift;
    const y = labels[at]!;
    if (y === IGNORE_INDEX) continue;
    if (!(Number.isInteger(y) && y >= 0 && y < vocab)) {
      throw new RangeError(`labels: ${y} at [${Math.floor(at / T)}, ${at % T}] is neither −100 nor in [0, ${vocab})`);
    }
    keep.push(i);
    target.push(y);
  }
  const pick = (a: Int32Array): Int32Array => Int32Array.from(keep, (i) => a[i]!);
  return { B, T, flat: pick(view.flat), sample: pick(view.sample), position: pick(view.position), target: Int32Array.from(target) };
}

/** Rows `flat[i]` of a [rows, width] array, stacked into a [flat.length, width] Float64Array. */
export function gatherRows(data: ArrayLike<number>, width: number, flat: ArrayLike<number>): Float64Array {
  const out = new Float64Array(flat.length * width);
  for (let i = 0; i < flat.length; i++) {
    const from = flat[i]! * width;
    if (from + width > data.length) throw new RangeError(`gatherRows: row ${flat[i]} is out of range`);
    for (let h = 0; h < width; h++) out[i * width + h] = data[from + h]!;
  }
  return out;
}

/** N row pairs of a teacher and a student tensor, each side of its own width (logits, hidden states). */
export interface RowPairs {
  /** [N, teacherWidth] */
  readonly teacher: ArrayLike<number>;
  /** [N, studentWidth] */
  readonly student: ArrayLike<number>;
  readonly rows: number;
  readonly teacherWidth: number;
  readonly studentWidth: number;
  /** [N] sample of each pair; needed by per-sample reductions. */
  readonly sample?: ArrayLike<number>;
}

/** Throws unless `rows` is a size and each side holds [rows, its width] values. */
export function checkRowPairs(input: RowPairs): void {
  const { rows, teacherWidth: Wt, studentWidth: Ws } = input;
  checkSize('rows', rows);
  checkLength('teacher', input.teacher, rows * Wt, `[${rows}, ${Wt}]`);
  checkLength('student', input.student, rows * Ws, `[${rows}, ${Ws}]`);
}

/** Rows of two sequence tensors selected by their views and paired sample by sample. */
export interface PairedRows extends RowPairs {
  readonly teacher: Float64Array;
  readonly student: Float64Array;
  readonly sample: Int32Array;
}

/** Selects `teacherView` of `teacher` and `studentView` of `student`, pairs and gathers them. */
export function pairedRows(teacher: SequenceTensor, student: SequenceTensor, teacherView: View, studentView: View = teacherView): PairedRows {
  checkLength('teacher.data', teacher.data, teacher.B * teacher.T * teacher.width, `[${teacher.B}, ${teacher.T}, ${teacher.width}]`);
  checkLength('student.data', student.data, student.B * student.T * student.width, `[${student.B}, ${student.T}, ${student.width}]`);
  const pairs = pairSelections(
    selectPositions(teacher.roles, teacher.B, teacher.T, teacherView.roles, teacherView.shift),
    selectPositions(student.roles, student.B, student.T, studentView.roles, studentView.shift),
  );
  return {
    teacher: gatherRows(teacher.data, teacher.width, pairs.teacher),
    student: gatherRows(student.data, student.width, pairs.student),
    rows: pairs.sample.length,
    teacherWidth: teacher.width,
    studentWidth: student.width,
    sample: pairs.sample,
  };
}
