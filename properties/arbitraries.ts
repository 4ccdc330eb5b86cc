/**
 * fast-check arbitraries for the loss laws: logits batches, LLaVA-like role layouts, labels,
 * probability rows, temperatures and mixing weights.
 *
 * Conventions (see /work/shared/reference/style-anchors-and-tfjs.md, Part 3):
 * - values that feed tfjs are float32: generated with `fc.float32Array` between
 *   `Math.fround` bounds, without NaN or infinities (those get their own explicit tests);
 * - shapes first, then data of exactly that size; sizes stay small (B ≤ 3, T ≤ 12, V ≤ 9) so
 *   the suite is fast on CI;
 * - scalar parameters come from exact grids (plus the interesting constants), not from
 *   `fc.float`, whose bias towards tiny and subnormal values would, for example, turn β = 1e-40
 *   into 0 on a GPU that flushes subnormals and switch JSD to its β = 0 special case.
 */
import fc from 'fast-check';
import { IGNORE_INDEX, ROLE_CODE } from './reference/selection.js';

export { IGNORE_INDEX };

export const LIMITS = { maxBatch: 3, maxSteps: 12, maxVocab: 9, logitBound: 20 } as const;

/** Role codes, as the data pipeline writes them: pad 0, prompt 1, visual 2, response 3. */
export const ROLE = ROLE_CODE;

/** Exactly `n` float32 values in [−bound, bound] (bound is rounded to float32). */
export function float32Values(n: number, bound: number = LIMITS.logitBound): fc.Arbitrary<Float32Array> {
  const b = Math.fround(bound);
  return fc.float32Array({ minLength: n, maxLength: n, min: -b, max: b, noNaN: true, noDefaultInfinity: true });
}

/** [B, T, V] logits, flat row-major. */
export interface LogitsBatch {
  readonly data: Float32Array;
  readonly B: number;
  readonly T: number;
  readonly V: number;
}

export interface ShapeConstraints {
  readonly minBatch?: number;
  readonly maxBatch?: number;
  readonly minSteps?: number;
  readonly maxSteps?: number;
  readonly minVocab?: number;
  readonly maxVocab?: number;
  readonly bound?: number;
}

/**
 * Logits batches with B, T, V within the limits (defaults 1..3, 1..12, 2..9). Generated as a
 * shape and a flat array of the largest size, then sliced with `.map`, so both shrink well.
 */
export function logitsBatch(c: ShapeConstraints = {}): fc.Arbitrary<LogitsBatch> {
  const maxB = c.maxBatch ?? LIMITS.maxBatch;
  const maxT = c.maxSteps ?? LIMITS.maxSteps;
  const maxV = c.maxVocab ?? LIMITS.maxVocab;
  return fc
    .tuple(
      fc.integer({ min: c.minBatch ?? 1, max: maxB }),
      fc.integer({ min: c.minSteps ?? 1, max: maxT }),
      fc.integer({ min: c.minVocab ?? 2, max: maxV }),
      float32Values(maxB * maxT * maxV, c.bound),
    )
    .map(([B, T, V, all]) => ({ data: all.slice(0, B * T * V), B, T, V }));
}

/** Logits of a given shape, [B, T, V]. */
export function logitsOfShape(B: number, T: number, V: number, bound?: number): fc.Arbitrary<LogitsBatch> {
  return float32Values(B * T * V, bound).map((data) => ({ data, B, T, V }));
}

/** One LLaVA-style sequence: prompt prefix, visual block, prompt question, response, then pad. */
export interface SequenceLayout {
  readonly prefix: number;
  readonly visual: number;
  readonly question: number;
  readonly response: number;
}

/** [B, T] role codes with the layout of each sample. */
export interface RoleBatch {
  readonly roles: Int32Array;
  readonly B: number;
  readonly T: number;
  readonly layouts: readonly SequenceLayout[];
}

const layoutLength = (l: SequenceLayout): number => l.prefix + l.visual + l.question + l.response;

/** Builds the [B, T] roles of `layouts`, padding each sample to T. */
export function rolesOf(layouts: readonly SequenceLayout[], T: number): Int32Array {
  const roles = new Int32Array(layouts.length * T); // pad = 0
  layouts.forEach((l, b) => {
    let t = b * T;
    for (const [count, code] of [
      [l.prefix, ROLE.prompt],
      [l.visual, ROLE.visual],
      [l.question, ROLE.prompt],
      [l.response, ROLE.response],
    ] as const) {
      roles.fill(code, t, t + count);
      t += count;
    }
  });
  return roles;
}

/**
 * A layout whose parts may each be empty: prefix 0..2, visual 0..4, question 0..2,
 * response 0..4 (at most 12 positions). fast-check's bias towards small integers makes empty
 * roles frequent.
 */
export const sequenceLayout: fc.Arbitrary<SequenceLayout> = fc.record({
  prefix: fc.integer({ min: 0, max: 2 }),
  visual: fc.integer({ min: 0, max: 4 }),
  question: fc.integer({ min: 0, max: 2 }),
  response: fc.integer({ min: 0, max: 4 }),
});

function batchOf(layouts: readonly SequenceLayout[], extraPad: number): RoleBatch {
  const T = Math.max(1, Math.min(LIMITS.maxSteps, Math.max(...layouts.map(layoutLength)) + extraPad));
  return { roles: rolesOf(layouts, T), B: layouts.length, T, layouts };
}

/** A batch of 1..3 LLaVA-like role sequences with 0..2 positions of trailing pad beyond the longest. */
export function roleBatch(maxBatch: number = LIMITS.maxBatch): fc.Arbitrary<RoleBatch> {
  return fc
    .tuple(fc.array(sequenceLayout, { minLength: 1, maxLength: maxBatch }), fc.integer({ min: 0, max: 2 }))
    .map(([layouts, pad]) => batchOf(layouts, pad));
}

/**
 * Teacher and student role batches for the same samples: the same text (prefix, question,
 * response) but, unless `sameVisual`, sometimes a different number of visual tokens per sample
 * (as in EM-KD, where the student compresses the image). Each side is padded to its own T.
 */
export function pairedRoleBatches(options: { readonly sameVisual?: boolean; readonly maxBatch?: number } = {}): fc.Arbitrary<{
  readonly teacher: RoleBatch;
  readonly student: RoleBatch;
}> {
  const studentVisual = (v: number): fc.Arbitrary<number> =>
    options.sameVisual === true ? fc.constant(v) : fc.oneof(fc.constant(v), fc.integer({ min: 0, max: 4 }));
  return fc
    .tuple(
      fc.array(
        sequenceLayout.chain((l) => studentVisual(l.visual).map((sv) => [l, { ...l, visual: sv }] as const)),
        {
          minLength: 1,
          maxLength: options.maxBatch ?? LIMITS.maxBatch,
        },
      ),
      fc.integer({ min: 0, max: 2 }),
    )
    .map(([pairs, pad]) => ({
      teacher: batchOf(
        pairs.map(([t]) => t),
        pad,
      ),
      student: batchOf(
        pairs.map(([, s]) => s),
        pad,
      ),
    }));
}

/**
 * [B, T] labels for `roles`: a token id in [0, V) at response positions, sometimes −100 there
 * too (a masked response token), and −100 everywhere else.
 */
export function labelsFor(roles: RoleBatch, V: number): fc.Arbitrary<Int32Array> {
  const n = roles.B * roles.T;
  return fc
    .array(fc.integer({ min: -1, max: V - 1 }), { minLength: n, maxLength: n })
    .map((xs) => Int32Array.from(xs, (x, i) => (roles.roles[i] === ROLE.response && x >= 0 ? x : IGNORE_INDEX)));
}

/** Everything a token-level distillation law needs for one batch. */
export interface DistillationBatch {
  readonly V: number;
  readonly teacher: RoleBatch & { readonly logits: Float32Array };
  readonly student: RoleBatch & { readonly logits: Float32Array };
  /** [B, student.T] labels for the student's sequence. */
  readonly labels: Int32Array;
}

/**
 * Teacher and student logits over paired LLaVA-like role batches, with student labels.
 * Set `sameVisual` for losses that pair visual tokens one to one.
 */
export function distillationBatch(
  options: { readonly sameVisual?: boolean; readonly minVocab?: number; readonly maxVocab?: number; readonly bound?: number } = {},
): fc.Arbitrary<DistillationBatch> {
  return fc
    .tuple(pairedRoleBatches({ sameVisual: options.sameVisual ?? false }), fc.integer({ min: options.minVocab ?? 2, max: options.maxVocab ?? LIMITS.maxVocab }))
    .chain(([{ teacher, student }, V]) =>
      fc
        .tuple(float32Values(teacher.B * teacher.T * V, options.bound), float32Values(student.B * student.T * V, options.bound), labelsFor(student, V))
        .map(([tl, sl, labels]) => ({ V, teacher: { ...teacher, logits: tl }, student: { ...student, logits: sl }, labels })),
    );
}

/**
 * `rows` probability rows of length V, flat [rows, V], in float64 (each row sums to 1 up to
 * rounding). Rows are built from non-negative integer weights, one of them forced positive, so
 * exact zeros (sparse and one-hot rows) occur. Convert with `Float32Array.from` for tfjs.
 */
export function simplexRows(rows: number, V: number): fc.Arbitrary<Float64Array> {
  const row = fc
    .tuple(fc.integer({ min: 0, max: V - 1 }), fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })), { minLength: V, maxLength: V }))
    .map(([anchor, w]) => {
      const weights = w.slice();
      weights[anchor] = weights[anchor]! + 1;
      const total = weights.reduce((a, b) => a + b, 0);
      return weights.map((x) => x / total);
    });
  return fc.array(row, { minLength: rows, maxLength: rows }).map((rs) => Float64Array.from(rs.flat()));
}

/** Temperatures in [0.5, 4] on a grid of 1/1024 (exact in float32), with 0.5, 1, 2 and 4 often. */
export const temperature: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0.5, 1, 2, 4),
  fc.integer({ min: 0, max: 3584 }).map((i) => 0.5 + i / 1024),
);

/** β or α in [0, 1] on a grid of 2^-24 (exact in float32), with the endpoints and ½ often. */
export const unitInterval: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 0.5, 1),
  fc.integer({ min: 0, max: 2 ** 24 }).map((i) => i / 2 ** 24),
);

/** β or α strictly inside (0, 1), for laws that exclude the endpoint conventions. */
export const openUnitInterval: fc.Arbitrary<number> = fc.integer({ min: 1, max: 2 ** 24 - 1 }).map((i) => i / 2 ** 24);
