/**
 * Laws of the token-wise divergences, each checked on every target against the float64
 * reference: the value and its gradient, non-negativity, zero at equality, invariance to logit
 * shifts, padding and sample order, masked positions getting no gradient, empty selections, and
 * the laws particular to JSD, TVD, the skew KLs and temperature scaling.
 */
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import type { LossNode, ViewNode } from '../core/graph.js';
import type { Role } from '../core/roles.js';
import type { Reduction } from '../core/selection.js';
import { student as s, teacher as t } from '../core/views.js';
import { akl, type DivergenceOptions, jsd, kl, skewKL, skewReverseKL, softCE, tvd } from '../losses/index.js';
import { type DistillationBatch, distillationBatch, ROLE, temperature, unitInterval } from './arbitraries.js';
import { activate, evaluateBatch, type Outcome, runs, sequence, targets } from './harness.js';
import { aklRowWeights, type Divergence, directionalCheck, divergenceLossFromBatch, pairedRows, softmax, stepOverRows } from './reference/index.js';
import { expectClose, isClose, loosen, toleranceFor } from './tolerances.js';

interface Kind {
  readonly name: string;
  readonly build: (v: { t: ViewNode<'teacher', 'logits'>; s: ViewNode<'student', 'logits'> }, o: DivergenceOptions, x: number) => LossNode;
  readonly reference: (x: number) => Divergence;
  /** Whether the law "zero when p = q" holds (soft CE equals the teacher's entropy there). */
  readonly zeroAtEquality: boolean;
}

const kinds: readonly Kind[] = [
  { name: 'forward KL', build: (v, o) => kl.forward(v.t, v.s, o), reference: () => ({ kind: 'forwardKL' }), zeroAtEquality: true },
  { name: 'reverse KL', build: (v, o) => kl.reverse(v.t, v.s, o), reference: () => ({ kind: 'reverseKL' }), zeroAtEquality: true },
  { name: 'JSD(β)', build: (v, o, x) => jsd(v.t, v.s, { ...o, beta: x }), reference: (x) => ({ kind: 'jsd', beta: x }), zeroAtEquality: true },
  { name: 'skew KL(α)', build: (v, o, x) => skewKL(v.t, v.s, { ...o, alpha: x }), reference: (x) => ({ kind: 'skewKL', alpha: x }), zeroAtEquality: true },
  {
    name: 'skew reverse KL(α)',
    build: (v, o, x) => skewReverseKL(v.t, v.s, { ...o, alpha: x }),
    reference: (x) => ({ kind: 'skewReverseKL', alpha: x }),
    zeroAtEquality: true,
  },
  { name: 'TVD', build: (v, o) => tvd(v.t, v.s, o), reference: () => ({ kind: 'tvd' }), zeroAtEquality: true },
  // μ ranges over [0, 1] with both endpoints and ½ often (`unitInterval`).
  { name: 'AKL(μ)', build: (v, o, x) => akl(v.t, v.s, { ...o, mu: x }), reference: (x) => ({ kind: 'akl', mu: x }), zeroAtEquality: true },
  { name: 'soft CE', build: (v, o) => softCE(v.t, v.s, o), reference: () => ({ kind: 'softCE' }), zeroAtEquality: false },
];

interface ViewSpec {
  readonly roles: readonly [Role, ...Role[]];
  readonly shift: 0 | 1;
}

const viewSpecs: readonly ViewSpec[] = [
  { roles: ['response'], shift: 1 },
  { roles: ['visual'], shift: 0 },
  { roles: ['prompt', 'response'], shift: 0 },
];

const views = (spec: ViewSpec) => ({
  t: spec.shift === 1 ? t.logits.next(...spec.roles) : t.logits.at(...spec.roles),
  s: spec.shift === 1 ? s.logits.next(...spec.roles) : s.logits.at(...spec.roles),
});

interface Case {
  readonly batch: DistillationBatch;
  readonly view: ViewSpec;
  readonly temperature: number;
  readonly scaleT2: boolean;
  readonly reduction: Reduction;
  readonly x: number;
}

const cases: fc.Arbitrary<Case> = fc.record({
  batch: distillationBatch({ sameVisual: true }),
  view: fc.constantFrom(...viewSpecs),
  temperature,
  scaleT2: fc.boolean(),
  reduction: fc.constantFrom<Reduction>('mean', 'sum', 'sampleMean'),
  x: unitInterval,
});

const nodeOf = (kind: Kind, c: Case) => kind.build(views(c.view), { temperature: c.temperature, scaleT2: c.scaleT2, reduction: c.reduction }, c.x);

/** The rows the case's view selects, teacher and student paired (the student's logits `studentLogits`). */
const pairsOf = (c: Case, studentLogits: ArrayLike<number> = c.batch.student.logits) =>
  pairedRows(sequence(c.batch.teacher, c.batch.teacher.logits, c.batch.V), sequence(c.batch.student, studentLogits, c.batch.V), {
    roles: c.view.roles,
    shift: c.view.shift,
  });

/** The reference's AKL head/tail weights of each selected row (μ = the case's x). */
const aklWeightsOf = (c: Case, studentLogits?: ArrayLike<number>) =>
  aklRowWeights({ ...pairsOf(c, studentLogits), vocab: c.batch.V, temperature: c.temperature, mu: c.x });

/** The reference loss as a function of the student's logits (AKL's head/tail weights held at x0). */
function referenceOf(kind: Kind, c: Case, studentLogits: ArrayLike<number>) {
  const teacher = sequence(c.batch.teacher, c.batch.teacher.logits, c.batch.V);
  const view = { roles: c.view.roles, shift: c.view.shift };
  const divergence = kind.reference(c.x);
  const weights = divergence.kind === 'akl' ? aklWeightsOf(c, studentLogits) : undefined;
  return (x: ArrayLike<number>): number =>
    divergenceLossFromBatch({
      teacher,
      student: sequence(c.batch.student, x, c.batch.V),
      view,
      divergence,
      temperature: c.temperature,
      scaleByTemperatureSquared: c.scaleT2,
      reduction: c.reduction,
      ...(weights ? { aklWeights: weights } : {}),
    });
}

/** Rows whose AKL head/tail split float32 could decide differently are not a fair test. */
function aklSplitIsRobust(c: Case): boolean {
  return aklWeightsOf(c).every((w) => w.margin > 1e-4);
}

/**
 * TVD has a kink wherever p_v = q_v; finite differences across one measure nothing. Its gradient
 * law holds where every compared probability pair is a clear relative gap apart (10%: the
 * stencil moves logits by up to a few percent).
 */
function tvdAwayFromKinks(c: Case): boolean {
  const pairs = pairsOf(c);
  const V = c.batch.V;
  for (let i = 0; i < pairs.rows; i++) {
    const p = softmax(Array.from(pairs.teacher).slice(i * V, (i + 1) * V), c.temperature);
    const q = softmax(Array.from(pairs.student).slice(i * V, (i + 1) * V), c.temperature);
    for (let v = 0; v < V; v++) {
      const big = Math.max(p[v]!, q[v]!);
      if (big > 1e-12 && Math.abs(p[v]! - q[v]!) < 0.1 * big) return false;
    }
  }
  return true;
}

const selectedCount = (c: Case): number => {
  const { roles, B, T } = c.batch.student;
  const codes = new Set(c.view.roles.map((r) => ROLE[r]));
  let n = 0;
  for (let b = 0; b < B; b++) for (let i = 0; i + c.view.shift < T; i++) if (codes.has(roles[b * T + i + c.view.shift]!)) n++;
  return n;
};

type Backend = Parameters<typeof toleranceFor>[0];

/** How much a case widens per-token tolerances: by N for `sum` (N errors add up), by T² when scaled. */
const caseScale = (c: Case): number => (c.reduction === 'sum' ? Math.max(1, selectedCount(c)) : 1) * (c.scaleT2 ? c.temperature ** 2 : 1);

const valueTolerance = (backend: Backend, c: Case) => loosen(toleranceFor(backend, 'value'), caseScale(c));

/** The rows of the student's logits that the case's view reads (the step follows them: stepOverRows). */
function viewStep(c: Case): number {
  const { roles, T } = c.batch.student;
  const codes = new Set(c.view.roles.map((r) => ROLE[r]));
  return stepOverRows(c.batch.student.logits, c.batch.V, (row) => (row % T) + c.view.shift < T && codes.has(roles[row + c.view.shift]!));
}

/** The gradient of `out` against finite differences of the float64 reference, along two random directions. */
function expectReferenceGradient(backend: Backend, kind: Kind, c: Case, out: Outcome, seed: number, what: string): void {
  const x = c.batch.student.logits;
  const check = directionalCheck(referenceOf(kind, c, x), x, out.grads['student.logits']!, { count: 2, seed, stencil: 5, step: viewStep(c) });
  expectClose(check.analytic, check.numeric, loosen(toleranceFor(backend, 'gradient'), caseScale(c)), what);
}

/** The loss of `kind` is the same, within `tolerance`, on case `c` and on `other` (c transformed). */
async function expectSameLoss(kind: Kind, c: Case, other: Case, tolerance: ReturnType<typeof toleranceFor>, what: string): Promise<void> {
  const [la, lb] = [(await evaluateBatch(nodeOf(kind, c), c.batch)).loss, (await evaluateBatch(nodeOf(kind, other), other.batch)).loss];
  expectClose(lb, la, tolerance, what);
}

for (const target of targets()) {
  describe(`divergences on ${target.label}`, () => {
    beforeAll(() => activate(target));

    for (const kind of kinds) {
      describe(kind.name, () => {
        const isAkl = kind.name === 'AKL(μ)';

        it('value matches the float64 reference', async () => {
          await fc.assert(
            fc.asyncProperty(cases, async (c) => {
              if (isAkl) fc.pre(aklSplitIsRobust(c));
              const out = await evaluateBatch(nodeOf(kind, c), c.batch);
              expectClose(out.loss, referenceOf(kind, c, c.batch.student.logits)(c.batch.student.logits), valueTolerance(target.backend, c), 'loss');
            }),
            { numRuns: runs(40) },
          );
        });

        it('gradient matches finite differences of the float64 reference', async () => {
          await fc.assert(
            fc.asyncProperty(cases, fc.integer({ min: 0, max: 1000 }), async (c, seed) => {
              if (isAkl) fc.pre(aklSplitIsRobust(c));
              if (kind.name === 'TVD') fc.pre(tvdAwayFromKinks(c));
              expectReferenceGradient(target.backend, kind, c, await evaluateBatch(nodeOf(kind, c), c.batch), seed, 'directional derivative');
            }),
            { numRuns: runs(25) },
          );
        });

        it('is non-negative', async () => {
          await fc.assert(
            fc.asyncProperty(cases, async (c) => {
              const out = await evaluateBatch(nodeOf(kind, c), c.batch);
              if (!(out.loss >= -valueTolerance(target.backend, c).atol)) throw new Error(`loss ${out.loss} < 0`);
            }),
            { numRuns: runs(30) },
          );
        });

        if (kind.zeroAtEquality) {
          it('is zero with zero gradient when the student equals the teacher', async () => {
            await fc.assert(
              fc.asyncProperty(cases, async (c) => {
                const same: Case = { ...c, batch: { ...c.batch, student: { ...c.batch.teacher, logits: c.batch.teacher.logits } } };
                const out = await evaluateBatch(nodeOf(kind, same), same.batch);
                expectClose(out.loss, 0, valueTolerance(target.backend, same), 'loss at p = q');
                // TVD is not differentiable at p = q; its subgradient there is 0 by convention.
                expectClose(
                  out.grads['student.logits']!,
                  new Float32Array(out.grads['student.logits']!.length),
                  toleranceFor(target.backend, 'gradient'),
                  'gradient at p = q',
                );
              }),
              { numRuns: runs(20) },
            );
          });
        }

        it('is invariant to adding a constant to the logits of a token', async () => {
          await fc.assert(
            fc.asyncProperty(cases, fc.float({ min: -8, max: 8, noNaN: true }), async (c, shift) => {
              if (isAkl) fc.pre(aklSplitIsRobust(c));
              const V = c.batch.V;
              const shifted = c.batch.student.logits.map((x, i) => x + shift * (Math.floor(i / V) % 3));
              const moved: Case = { ...c, batch: { ...c.batch, student: { ...c.batch.student, logits: Float32Array.from(shifted) } } };
              // Shifting logits by up to 16 costs float32 up to ~16·2⁻²⁴ per logit.
              await expectSameLoss(kind, c, moved, loosen(valueTolerance(target.backend, c), 4), 'loss after the shift');
            }),
            { numRuns: runs(20) },
          );
        });

        it('ignores padding positions, whatever their logits', async () => {
          await fc.assert(
            fc.asyncProperty(cases, fc.integer({ min: 1, max: 3 }), fc.float({ min: -30, max: 30, noNaN: true }), async (c, extra, fill) => {
              if (isAkl) fc.pre(aklSplitIsRobust(c));
              const padded: Case = { ...c, batch: padBatch(c.batch, extra, fill) };
              await expectSameLoss(kind, c, padded, valueTolerance(target.backend, c), 'loss with padding');
            }),
            { numRuns: runs(20) },
          );
        });

        it('is invariant to the order of the samples in the batch', async () => {
          await fc.assert(
            fc.asyncProperty(cases, async (c) => {
              if (isAkl) fc.pre(aklSplitIsRobust(c));
              const reversed: Case = { ...c, batch: reverseSamples(c.batch) };
              await expectSameLoss(kind, c, reversed, valueTolerance(target.backend, c), 'loss with the samples reversed');
            }),
            { numRuns: runs(20) },
          );
        });

        it('gives exactly zero gradient at the positions it does not select', async () => {
          await fc.assert(
            fc.asyncProperty(cases, async (c) => {
              const grad = (await evaluateBatch(nodeOf(kind, c), c.batch)).grads['student.logits']!;
              const { roles, B, T } = c.batch.student;
              const V = c.batch.V;
              const codes = new Set(c.view.roles.map((r) => ROLE[r]));
              for (let b = 0; b < B; b++) {
                for (let i = 0; i < T; i++) {
                  const selected = i + c.view.shift < T && codes.has(roles[b * T + i + c.view.shift]!);
                  if (selected) continue;
                  for (let v = 0; v < V; v++) {
                    const g = grad[(b * T + i) * V + v]!;
                    if (g !== 0) throw new Error(`gradient ${g} at unselected position [${b}, ${i}, ${v}]`);
                  }
                }
              }
            }),
            { numRuns: runs(20) },
          );
        });

        it('is 0 with a zero gradient when the view selects no token', async () => {
          await fc.assert(
            fc.asyncProperty(cases, async (c) => {
              const none: Case = { ...c, batch: withoutRole(c.batch, 'visual'), view: { roles: ['visual'], shift: 0 } };
              const out = await evaluateBatch(nodeOf(kind, none), none.batch);
              if (out.loss !== 0) throw new Error(`loss ${out.loss} for an empty selection`);
              if (out.grads['student.logits']!.some((g) => g !== 0)) throw new Error('non-zero gradient for an empty selection');
            }),
            { numRuns: runs(10) },
          );
        });
      });
    }

    describe('laws of particular divergences', () => {
      const one = async (node: LossNode, batch: DistillationBatch): Promise<number> => (await evaluateBatch(node, batch)).loss;
      const swap = (b: DistillationBatch): DistillationBatch => ({ ...b, teacher: b.student, student: b.teacher });
      const response = views({ roles: ['response'], shift: 1 });
      const tolerance = () => toleranceFor(target.backend, 'value');

      it('JSD at β = ½ is symmetric in teacher and student', async () => {
        await fc.assert(
          fc.asyncProperty(distillationBatch({ sameVisual: true }), async (batch) => {
            const node = jsd(response.t, response.s, { beta: 0.5 });
            expectClose(await one(node, swap(batch)), await one(node, batch), tolerance(), 'JSD with the sides swapped');
          }),
          { numRuns: runs(20) },
        );
      });

      it('JSD(β) is at most the binary entropy of β (ln 2 at β = ½)', async () => {
        await fc.assert(
          fc.asyncProperty(distillationBatch({ sameVisual: true, bound: 60 }), unitInterval, async (batch, beta) => {
            fc.pre(beta > 0 && beta < 1);
            const bound = -beta * Math.log(beta) - (1 - beta) * Math.log(1 - beta);
            const value = await one(jsd(response.t, response.s, { beta }), batch);
            if (value > bound + tolerance().atol) throw new Error(`JSD(${beta}) = ${value} > ${bound}`);
          }),
          { numRuns: runs(20) },
        );
      });

      it('TVD lies in [0, 1]', async () => {
        await fc.assert(
          fc.asyncProperty(distillationBatch({ sameVisual: true, bound: 60 }), async (batch) => {
            const value = await one(tvd(response.t, response.s), batch);
            if (value < -tolerance().atol || value > 1 + tolerance().atol) throw new Error(`TVD = ${value}`);
          }),
          { numRuns: runs(20) },
        );
      });

      it('skew KL at α = 0 is the forward KL, skew reverse KL at α = 0 the reverse KL', async () => {
        await fc.assert(
          fc.asyncProperty(distillationBatch({ sameVisual: true }), async (batch) => {
            expectClose(
              await one(skewKL(response.t, response.s, { alpha: 0 }), batch),
              await one(kl.forward(response.t, response.s), batch),
              tolerance(),
              'skew KL(0)',
            );
            expectClose(
              await one(skewReverseKL(response.t, response.s, { alpha: 0 }), batch),
              await one(kl.reverse(response.t, response.s), batch),
              tolerance(),
              'skew reverse KL(0)',
            );
          }),
          { numRuns: runs(15) },
        );
      });

      it('AKL at μ = 1 is the forward KL (the head is every token), value and gradient', async () => {
        await fc.assert(
          fc.asyncProperty(distillationBatch({ sameVisual: true }), temperature, async (batch, T) => {
            const adaptive = await evaluateBatch(akl(response.t, response.s, { mu: 1, temperature: T }), batch);
            const forward = await evaluateBatch(kl.forward(response.t, response.s, { temperature: T }), batch);
            expectClose(adaptive.loss, forward.loss, tolerance(), 'AKL(μ = 1)');
            expectClose(
              adaptive.grads['student.logits']!,
              forward.grads['student.logits']!,
              toleranceFor(target.backend, 'gradient'),
              'gradient of AKL(μ = 1)',
            );
          }),
          { numRuns: runs(15) },
        );
      });

      it("AKL at μ = 0 weighs the forward KL by the top token's share of the error, as the reference does (value and gradient)", async () => {
        const aklKind = kinds.find((k) => k.name === 'AKL(μ)')!;
        await fc.assert(
          fc.asyncProperty(cases, fc.nat(1000), async (c0, seed) => {
            const c: Case = { ...c0, x: 0 };
            fc.pre(aklSplitIsRobust(c));
            const out = await evaluateBatch(nodeOf(aklKind, c), c.batch);
            const x = c.batch.student.logits;
            expectClose(out.loss, referenceOf(aklKind, c, x)(x), valueTolerance(target.backend, c), 'AKL(μ = 0)');
            expectReferenceGradient(target.backend, aklKind, c, out, seed, 'directional derivative of AKL(μ = 0)');
          }),
          { numRuns: runs(20) },
        );
      });

      it('T² scaling multiplies the loss by T²', async () => {
        await fc.assert(
          fc.asyncProperty(distillationBatch({ sameVisual: true }), temperature, async (batch, T) => {
            const plain = await one(kl.forward(response.t, response.s, { temperature: T }), batch);
            const scaled = await one(kl.forward(response.t, response.s, { temperature: T, scaleT2: true }), batch);
            if (!isClose(scaled, plain * T * T, loosen(tolerance(), T * T))) throw new Error(`${scaled} ≠ ${T * T} · ${plain}`);
          }),
          { numRuns: runs(15) },
        );
      });
    });
  });
}

/** Appends `extra` padding positions (role pad, label −100, logits `fill`) to every sequence. */
function padBatch(batch: DistillationBatch, extra: number, fill: number): DistillationBatch {
  const V = batch.V;
  const pad = <S extends DistillationBatch['teacher']>(side: S) => {
    const T = side.T + extra;
    const roles = new Int32Array(side.B * T);
    const logits = new Float32Array(side.B * T * V).fill(Math.fround(fill));
    for (let b = 0; b < side.B; b++) {
      roles.set(side.roles.subarray(b * side.T, (b + 1) * side.T), b * T);
      logits.set(side.logits.subarray(b * side.T * V, (b + 1) * side.T * V), b * T * V);
    }
    return { ...side, T, roles, logits };
  };
  const student = pad(batch.student);
  const labels = new Int32Array(student.B * student.T).fill(-100);
  for (let b = 0; b < student.B; b++) labels.set(batch.labels.subarray(b * batch.student.T, (b + 1) * batch.student.T), b * student.T);
  return { ...batch, teacher: pad(batch.teacher), student, labels };
}

/** The same batch with its samples in reverse order (both sides and the labels). */
function reverseSamples(batch: DistillationBatch): DistillationBatch {
  const V = batch.V;
  const rev = <S extends DistillationBatch['teacher']>(side: S) => {
    const roles = new Int32Array(side.roles.length);
    const logits = new Float32Array(side.logits.length);
    for (let b = 0; b < side.B; b++) {
      const from = side.B - 1 - b;
      roles.set(side.roles.subarray(from * side.T, (from + 1) * side.T), b * side.T);
      logits.set(side.logits.subarray(from * side.T * V, (from + 1) * side.T * V), b * side.T * V);
    }
    return { ...side, roles, logits };
  };
  const T = batch.student.T;
  const labels = new Int32Array(batch.labels.length);
  for (let b = 0; b < batch.student.B; b++) labels.set(batch.labels.subarray((batch.student.B - 1 - b) * T, (batch.student.B - b) * T), b * T);
  return { ...batch, teacher: rev(batch.teacher), student: rev(batch.student), labels };
}

/** The batch with every `role` position turned into a prompt position (so the role selects nothing). */
function withoutRole(batch: DistillationBatch, role: Role): DistillationBatch {
  const code = ROLE[role];
  const strip = <S extends DistillationBatch['teacher']>(side: S) => ({ ...side, roles: side.roles.map((r) => (r === code ? ROLE.prompt : r)) });
  return { ...batch, teacher: strip(batch.teacher), student: strip(batch.student) };
}
