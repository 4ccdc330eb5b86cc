/**
 * fast-check arbitraries for whole objectives and inputs they can run on: every loss mmkd ships,
 * views of either field with any roles and shift, every reduction, temperature and T² option,
 * weighted and nested named terms, and every matcher with aligned teacher tokens. The inputs are
 * LLaVA-like role layouts (the same text on both sides; the student may keep fewer vision tokens)
 * with logits, hidden states and labels. Some generated pairs do not fit (unequal token counts
 * for a paired loss, a grid that does not pool): those are errors mmkd reports, and a test may
 * compare them rather than discard them. `topkObjectiveGraph` and `signalsBatch` do the same for a
 * teacher given by offline top-k signals (every missing-mass policy, plain or matched).
 */
import fc from 'fast-check';
import { objective, weighted } from '../core/combinators.js';
import type { ScalarNode, ViewNode } from '../core/graph.js';
import { type Field, MISSING_MASS, type Side } from '../core/outputs.js';
import { ROLES, type Role } from '../core/roles.js';
import { type FieldViews, student as s, teacher as t } from '../core/views.js';
import { affinity, akl, feature, jsd, kl, relation, skewKL, skewReverseKL, softCE, supervisedCE, tvd, uld } from '../losses/index.js';
import { match } from '../matching/builders.js';
import { topKOfLogits } from '../recipes/signals/format.js';
import { float32Values, LIMITS, labelsFor, type RoleBatch, rolesOf, type SequenceLayout, temperature, unitInterval } from './arbitraries.js';

const roles = fc.subarray([...ROLES] as Role[], { minLength: 1 }) as fc.Arbitrary<[Role, ...Role[]]>;

/** Which positions a view selects, to be taken on one side or both: roles and shift. */
export interface Selector {
  readonly roles: readonly [Role, ...Role[]];
  readonly shift: 0 | 1;
}

export const selector: fc.Arbitrary<Selector> = fc.record({ roles, shift: fc.constantFrom(0 as const, 1 as const) });

export function viewOf<S extends Side, F extends Field>(side: S, field: F, sel: Selector): ViewNode<S, F> {
  const views = (side === 'teacher' ? t : s)[field] as unknown as FieldViews<S, F>;
  return sel.shift === 1 ? views.next(...sel.roles) : views.at(...sel.roles);
}

const divergenceOptions = fc
  .record({
    temperature,
    scaleT2: fc.boolean(),
    reduction: fc.constantFrom('mean' as const, 'sum' as const, 'sampleMean' as const),
    truncateVocab: fc.boolean(),
    // The real vocabulary size of padded heads (1 … 7: sometimes above a batch's V, an error both report).
    paddedVocab: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }),
  })
  .map(({ paddedVocab, ...o }) => (paddedVocab === undefined || o.truncateVocab ? o : { ...o, paddedVocab }));

const reduction = fc.constantFrom('mean' as const, 'sum' as const, 'sampleMean' as const);
const field = fc.constantFrom('logits' as const, 'hidden' as const);

/** A teacher expression paired token by token with `student` views of `sel`: the same view, or the teacher's tokens aligned by a matcher. */
const pairedTeacher = <F extends Field>(f: F, sel: Selector) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(viewOf('teacher', f, sel)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom('hungarian', 'nearest', 'identity', 'pool', 'sinkhorn'),
          field,
          fc.constantFrom('l1' as const, 'l2' as const, 'cosine' as const),
          fc.boolean(),
        )
        // L2 between probability rows is left out: near one-hot rows make it √(cancellation) in
        // float32, which two float32 implementations round differently (a conditioning limit).
        // Sinkhorn divides costs by their mean: where costs are near 0 (cosine or L2 of nearly
        // parallel rows), float32 rounding is amplified, so generated Sinkhorn matchers use L1.
        .filter(([method, , cost, probabilities]) => !(cost === 'l2' && probabilities) && !(method === 'sinkhorn' && cost !== 'l1'))
        .map(([method, by, cost, probabilities]) => {
          const tv = viewOf('teacher', by, sel);
          const sv = viewOf('student', by, sel);
          const m =
            method === 'hungarian'
              ? match.hungarian(tv, sv, { cost, probabilities })
              : method === 'nearest'
                ? match.nearest(tv, sv, { cost, probabilities })
                : method === 'identity'
                  ? match.identity(tv, sv)
                  : method === 'pool'
                    ? match.pool(tv, sv)
                    : match.sinkhorn(tv, sv, { cost, probabilities, epsilon: 0.5, iterations: 30 });
          return m.of(viewOf('teacher', f, sel));
        }),
    },
  );

/** Any loss node mmkd ships, with inputs that may fit a batch of `pairedBatch`. */
export const lossNode: fc.Arbitrary<ScalarNode> = selector.chain((sel) => {
  const tl = pairedTeacher('logits', sel);
  const sl = viewOf('student', 'logits', sel);
  return fc.oneof(
    fc.tuple(tl, divergenceOptions).map(([a, o]) => kl.forward(a, sl, o)),
    fc.tuple(tl, divergenceOptions).map(([a, o]) => kl.reverse(a, sl, o)),
    fc.tuple(tl, divergenceOptions, unitInterval).map(([a, o, beta]) => jsd(a, sl, { ...o, beta })),
    fc.tuple(tl, divergenceOptions, unitInterval).map(([a, o, alpha]) => skewKL(a, sl, { ...o, alpha })),
    fc.tuple(tl, divergenceOptions, unitInterval).map(([a, o, alpha]) => skewReverseKL(a, sl, { ...o, alpha })),
    fc.tuple(tl, divergenceOptions).map(([a, o]) => tvd(a, sl, o)),
    fc.tuple(tl, divergenceOptions, fc.constantFrom(0, 0.3, 0.5, 1)).map(([a, o, mu]) => akl(a, sl, { ...o, mu })),
    fc.tuple(tl, divergenceOptions).map(([a, o]) => softCE(a, sl, o)),
    fc.tuple(temperature, reduction).map(([temp, r]) => supervisedCE(sl, { temperature: temp, reduction: r })),
    fc.tuple(tl, temperature, fc.boolean(), reduction).map(([a, temp, scaleT2, r]) => uld(a, sl, { temperature: temp, scaleT2, reduction: r })),
    fc
      .tuple(field, fc.constantFrom('perSample' as const, 'batch' as const))
      .chain(([f, mode]) => pairedTeacher(f, sel).map((a) => relation(a, viewOf('student', f, sel), { mode }))),
    fc
      .tuple(field, selector, fc.constantFrom(0.25, 1, 2), fc.constantFrom('mean' as const, 'sampleMean' as const))
      .chain(([f, text, beta, r]) =>
        pairedTeacher(f, sel).map((vision) =>
          affinity(
            { teacher: { vision, text: viewOf('teacher', f, text) }, student: { vision: viewOf('student', f, sel), text: viewOf('student', f, text) } },
            { beta, reduction: r },
          ),
        ),
      ),
    fc
      .tuple(field, field, reduction, fc.boolean(), fc.boolean())
      .chain(([f, g, r, cosine, projection]) =>
        pairedTeacher(f, sel).map((a) => (cosine ? feature.cosine : feature.mse)(a, viewOf('student', projection ? g : f, sel), { reduction: r, projection })),
      ),
  );
});

const termName = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,6}$/);

/** Objectives: a loss, weighted terms and named (nested) objectives of them. */
export const objectiveGraph: fc.Arbitrary<ScalarNode> = fc.letrec<{ node: ScalarNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true, maxDepth: 3 },
    lossNode,
    fc.tuple(fc.constantFrom(0.5, 2, -1, 0.125, 25), tie('node')).map(([w, n]) => weighted(w, n)),
    fc.dictionary(termName, tie('node'), { minKeys: 1, maxKeys: 3 }).map((terms) => objective(terms)),
  ),
})).node;

/** One side of a generated batch: roles, logits [B, T, V] and hidden states [B, T, H]. */
export interface GeneratedSide extends RoleBatch {
  readonly logits: Float32Array;
  readonly hidden: Float32Array;
  /**
   * When set, the side hands over its LM head instead of its logits (weight [V, H], bias [V]):
   * its logits are hidden · weightᵀ + bias, and `logits` is not an input.
   */
  readonly head?: { readonly weight: Float32Array; readonly bias: Float32Array };
}

/** Teacher and student outputs for one batch, with the student's labels. */
export interface GeneratedBatch {
  readonly V: number;
  readonly H: number;
  readonly teacher: GeneratedSide;
  readonly student: GeneratedSide;
  readonly labels: Int32Array;
}

/**
 * Vision token counts (teacher, student) per sample: mostly equal, sometimes a student that keeps
 * fewer (a 2×2 grid pooled to one token, or fewer tokens than a non-square teacher).
 */
const visualPair = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 4 }).map((v) => [v, v] as const) },
  { weight: 1, arbitrary: fc.constantFrom([4, 1] as const, [3, 2] as const, [2, 1] as const) },
);

/** An offset in [0, 1/16) per entry and side, from an integer hash (no two rows' differences repeat). */
function offset(i: number, side: number): number {
  let h = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(side + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 2 ** 32 / 16;
}

/** Batches of 1..3 samples, V in 2..7, H in 2..5, logits and hidden states in [−bound, bound + 1/16]. */
export function generatedBatch(bound = 8): fc.Arbitrary<GeneratedBatch> {
  const layout = fc.tuple(
    fc.record({
      prefix: fc.integer({ min: 0, max: 2 }),
      question: fc.integer({ min: 0, max: 2 }),
      response: fc.integer({ min: 0, max: 4 }),
    }),
    visualPair,
  );
  return fc
    .tuple(
      fc.array(layout, { minLength: 1, maxLength: LIMITS.maxBatch }),
      fc.integer({ min: 0, max: 1 }),
      fc.integer({ min: 2, max: 7 }),
      fc.integer({ min: 2, max: 5 }),
    )
    .chain(([layouts, pad, V, H]) => {
      const side = (pick: 0 | 1): RoleBatch => {
        const ls: SequenceLayout[] = layouts.map(([l, v]) => ({ ...l, visual: v[pick] }));
        const T = Math.max(1, Math.max(...ls.map((l) => l.prefix + l.visual + l.question + l.response)) + pad);
        return { roles: rolesOf(ls, T), B: ls.length, T, layouts: ls };
      };
      const [teacher, student] = [side(0), side(1)];
      // Generated arrays often repeat a value (0, the bounds), and the two sides' arrays are often
      // equal: a small offset per entry, another on each side, keeps rows apart, so that matchings
      // are unique (tied costs have several optimal assignments) and no p equals q to within
      // rounding (where TVD's and ULD's subgradient sign(q − p) would depend on float32 vs float64).
      const values = (r: RoleBatch, width: number, side: number) => float32Values(r.B * r.T * width, bound).map((xs) => xs.map((x, i) => x + offset(i, side)));
      // Sometimes a side is an LM head (weights of order 1/√H, so its logits stay of order 1).
      const head = (side: number) =>
        fc.oneof(
          { weight: 5, arbitrary: fc.constant(undefined) },
          {
            weight: 1,
            arbitrary: fc
              .tuple(float32Values(V * H, 1), float32Values(V, 1))
              .map(([w, b]) => ({ weight: w.map((x, i) => (x + offset(i, side + 2)) / Math.sqrt(H)), bias: b.map((x, i) => x + offset(i, side + 4)) })),
          },
        );
      return fc
        .tuple(values(teacher, V, 0), values(teacher, H, 0), values(student, V, 1), values(student, H, 1), labelsFor(student, V), head(0), head(1))
        .map(([tl, th, sl, sh, labels, teacherHead, studentHead]) => ({
          V,
          H,
          teacher: { ...teacher, logits: tl, hidden: th, ...(teacherHead === undefined ? {} : { head: teacherHead }) },
          student: { ...student, logits: sl, hidden: sh, ...(studentHead === undefined ? {} : { head: studentHead }) },
          labels,
        }));
    });
}

/** A missing-mass policy for `teacher.topk` views. */
export const missingMass = fc.constantFrom(...MISSING_MASS);

/**
 * Divergences whose teacher is given by offline top-k signals at temperature `tau`: a
 * `teacher.topk(policy)` view of the student's selection, or the signals' rows gathered by a
 * matcher on hidden states (one-to-one mostly; sometimes a soft plan, which mmkd refuses). Their
 * temperature is mostly τ; sometimes another, or a paddedVocab that does not fit, errors both
 * sides report.
 */
export function topkDivergenceNode(tau: number): fc.Arbitrary<ScalarNode> {
  // β or α at an endpoint, ½, or in [1/16, 15/16]: near an endpoint JSD's and skew KL's mixture
  // is one side to within float32 rounding, and their value (of order β(1 − β)) loses digits in
  // mmkd's float32 top-k lowering (at β = 1 − 2⁻¹⁰, 1e-4 relative: mmkd equals the module run in
  // float32, not in float64), a conditioning limit rather than the export's.
  const unitInterval = fc.oneof(
    fc.constantFrom(0, 0.5, 1),
    fc.integer({ min: 2 ** 20, max: 2 ** 24 - 2 ** 20 }).map((i) => i / 2 ** 24),
  );
  const options = fc
    .tuple(divergenceOptions, fc.oneof({ weight: 9, arbitrary: fc.constant(tau) }, { weight: 1, arbitrary: temperature }))
    // truncateVocab on signals is refused without inputs (at export), so never generated.
    .map(([o, temp]) => ({ ...o, temperature: temp, truncateVocab: false }));
  return fc.tuple(selector, missingMass).chain(([sel, policy]) => {
    const views = t.topk(policy);
    const signals = sel.shift === 1 ? views.next(...sel.roles) : views.at(...sel.roles);
    const teacher = fc.oneof(
      { weight: 3, arbitrary: fc.constant(signals) },
      {
        weight: 2,
        arbitrary: fc.constantFrom('hungarian', 'identity', 'nearest', 'hungarian', 'identity', 'nearest', 'pool', 'sinkhorn').map((method) => {
          const tv = viewOf('teacher', 'hidden', sel);
          const sv = viewOf('student', 'hidden', sel);
          const m =
            method === 'hungarian'
              ? match.hungarian(tv, sv, { cost: 'l1' })
              : method === 'nearest'
                ? match.nearest(tv, sv, { cost: 'l1' })
                : method === 'identity'
                  ? match.identity(tv, sv)
                  : method === 'pool'
                    ? match.pool(tv, sv)
                    : match.sinkhorn(tv, sv, { cost: 'l1', epsilon: 0.5, iterations: 30 });
          return m.of(signals);
        }),
      },
    );
    const sl = viewOf('student', 'logits', sel);
    return fc.oneof(
      fc.tuple(teacher, options).map(([a, o]) => kl.forward(a, sl, o)),
      fc.tuple(teacher, options).map(([a, o]) => kl.reverse(a, sl, o)),
      fc.tuple(teacher, options, unitInterval).map(([a, o, beta]) => jsd(a, sl, { ...o, beta })),
      fc.tuple(teacher, options, unitInterval).map(([a, o, alpha]) => skewKL(a, sl, { ...o, alpha })),
      fc.tuple(teacher, options, unitInterval).map(([a, o, alpha]) => skewReverseKL(a, sl, { ...o, alpha })),
      fc.tuple(teacher, options).map(([a, o]) => tvd(a, sl, o)),
      fc.tuple(teacher, options, fc.constantFrom(0, 0.3, 0.5, 1)).map(([a, o, mu]) => akl(a, sl, { ...o, mu })),
      fc.tuple(teacher, options).map(([a, o]) => softCE(a, sl, o)),
    );
  });
}

/** Objectives for a teacher given by top-k signals at τ: top-k divergences, with supervised CE and feature terms beside them. */
export function topkObjectiveGraph(tau: number): fc.Arbitrary<ScalarNode> {
  const leaf = fc.oneof(
    { weight: 4, arbitrary: topkDivergenceNode(tau) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(selector, temperature, reduction)
        .map(([sel, temp, r]) => supervisedCE(viewOf('student', 'logits', sel), { temperature: temp, reduction: r })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(selector, reduction)
        .map(([sel, r]) => feature.mse(viewOf('teacher', 'hidden', sel), viewOf('student', 'hidden', sel), { reduction: r })),
    },
    {
      // The teacher's whole logits where signals store them (its vision tokens, mostly), else an error both report.
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.oneof({ weight: 3, arbitrary: fc.constant<Selector>({ roles: ['visual'], shift: 0 }) }, { weight: 1, arbitrary: selector }),
          temperature,
          fc.boolean(),
        )
        .map(([sel, temp, reverse]) =>
          (reverse ? kl.reverse : kl.forward)(viewOf('teacher', 'logits', sel), viewOf('student', 'logits', sel), { temperature: temp }),
        ),
    },
  );
  return fc.letrec<{ node: ScalarNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true, maxDepth: 2 },
      leaf,
      fc.tuple(fc.constantFrom(0.5, 2, -1, 0.125), tie('node')).map(([w, n]) => weighted(w, n)),
      fc.dictionary(termName, tie('node'), { minKeys: 1, maxKeys: 3 }).map((terms) => objective(terms)),
    ),
  })).node;
}

/** A teacher's offline top-k signals at temperature τ, as `mmkd teacher-signals` makes them from its logits. */
export interface GeneratedSignals {
  /** The roles at whose positions the teacher's whole logits are given beside the signals (zeros elsewhere), if any. */
  readonly logitsRoles?: readonly Role[];
  readonly k: number;
  readonly temperature: number;
  readonly ids: Int32Array;
  readonly logProbs: Float32Array;
  readonly logTail: Float32Array;
}

/**
 * A generated batch whose teacher is also given by its top-k signals (k in 1 … V, at a generated
 * temperature), made from its logits by `topKOfLogits`; a test gives the teacher as signals. The
 * teacher's LM head is mostly dropped.
 */
export function signalsBatch(): fc.Arbitrary<GeneratedBatch & { readonly signals: GeneratedSignals }> {
  const keepHead = fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
  const stored = fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constant<readonly Role[]>(['visual']) },
    { weight: 1, arbitrary: roles },
  );
  return fc.tuple(generatedBatch(), fc.integer({ min: 1, max: 7 }), temperature, keepHead, stored).map(([batch, kWanted, tau, headToo, logitsRoles]) => {
    const k = Math.min(kWanted, batch.V);
    const { head, ...teacher } = batch.teacher;
    const { ids, logProbs, logTail } = topKOfLogits(teacher.logits, teacher.B * teacher.T, batch.V, k, tau);
    // Stored logits are the teacher's at the stored roles' positions, zeros elsewhere (as a signals folder's dense.logits are read).
    const codes = new Set((logitsRoles ?? []).map((r) => ROLES.indexOf(r)));
    const logits = Float32Array.from(teacher.logits, (x, i) => (codes.has(teacher.roles[Math.floor(i / batch.V)]!) ? x : 0));
    // An LM head beside the signals (rarely) is an error both sides report.
    return {
      ...batch,
      teacher: headToo && head !== undefined ? batch.teacher : { ...teacher, logits },
      signals: { k, temperature: tau, ids, logProbs, logTail, ...(logitsRoles === undefined ? {} : { logitsRoles }) },
    };
  });
}
