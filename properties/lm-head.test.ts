/**
 * Laws of the LM-head logits view (issue 10's fused LM head): a side given as hidden states plus
 * its head (`head: { weight, bias }`) gives the same loss as its materialised logits
 * hidden · Wᵀ + b, and `valueAndGrad`'s `student.hidden`, `student.head.weight` and
 * `student.head.bias` are the materialised path's `student.logits` gradient carried through the
 * head (G · W, Gᵀ · hidden, Σ G), for every divergence and supervised cross-entropy, with masks
 * (views by role, shifted), temperatures, reductions, T², rows split across chunks of 1–3 rows,
 * a head on either side or both, and a truncated vocabulary. On every target; backends with fused
 * kernels read materialised rows only, so their head views go to the chunked generic kernel.
 *
 * And the point of it: valueAndGrad on a head never holds [N × V] (peak tensor bytes, by
 * `tf.profile`, well under N × V × 4).
 */
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../compile/compile.js';
import { GraphValidationError, InputError } from '../core/errors.js';
import type { LossNode } from '../core/graph.js';
import type { DistillInputs, HeadOutputs, SideOutputs } from '../core/outputs.js';
import { ROLE_CODES } from '../core/roles.js';
import type { Reduction } from '../core/selection.js';
import type { LoweringBackend } from '../core/target.js';
import { student as s, teacher as t } from '../core/views.js';
import { feature, kl, supervisedCE } from '../losses/index.js';
import { match } from '../matching/builders.js';
import { type DistillationBatch, distillationBatch, temperature, unitInterval } from './arbitraries.js';
import { type Build, chunkedLowering, divergenceBuilds, responseStudent, responseTeacher } from './divergence-builds.js';
import { activate, runs, targetLowering, targets } from './harness.js';
import { aklWeights, logSoftmax } from './reference/index.js';
import { rowOf } from './reference/log-softmax.js';
import { expectClose, loosen, toleranceFor } from './tolerances.js';

const T = responseTeacher;
const S = responseStudent;
const builds: ReadonlyArray<readonly [string, Build]> = [
  ...divergenceBuilds,
  [
    'supervised CE',
    (o) =>
      supervisedCE(S(), {
        ...(o.temperature === undefined ? {} : { temperature: o.temperature }),
        ...(o.reduction === undefined ? {} : { reduction: o.reduction }),
      }),
  ],
];

/** Which sides hand over a head. */
type Layout = 'student' | 'teacher' | 'both';

interface Case {
  readonly batch: DistillationBatch;
  readonly H: number;
  readonly bias: boolean;
  readonly layout: Layout;
  readonly temperature: number;
  readonly scaleT2: boolean;
  readonly reduction: Reduction;
  readonly x: number;
  readonly chunkRows: number;
  readonly seed: number;
}

const caseOf = (batch: fc.Arbitrary<DistillationBatch>): fc.Arbitrary<Case> =>
  fc.record({
    batch,
    H: fc.integer({ min: 1, max: 6 }),
    bias: fc.boolean(),
    layout: fc.constantFrom<Layout>('student', 'teacher', 'both'),
    temperature,
    scaleT2: fc.boolean(),
    reduction: fc.constantFrom<Reduction>('mean', 'sum', 'sampleMean'),
    x: unitInterval,
    chunkRows: fc.constantFrom(1, 2, 3),
    seed: fc.integer({ min: 1, max: 1000 }),
  });

/** Deterministic values in [−scale, scale]. */
const wave = (n: number, seed: number, scale: number): Float64Array =>
  Float64Array.from({ length: n }, (_, k) => scale * Math.sin(seed * 12.9898 + k * 78.233));

/** A head on the host: hidden [R, H], weight [V, H], bias [V], and its logits in float64. */
interface HostHead {
  readonly rows: number;
  readonly H: number;
  readonly V: number;
  readonly hidden: Float64Array;
  readonly weight: Float64Array;
  readonly bias: Float64Array | undefined;
}

function hostHead(rows: number, H: number, V: number, bias: boolean, seed: number): HostHead {
  return { rows, H, V, hidden: wave(rows * H, seed, 2), weight: wave(V * H, seed + 0.5, 1), bias: bias ? wave(V, seed + 0.25, 1) : undefined };
}

function logitsOf(h: HostHead): Float32Array {
  const out = new Float32Array(h.rows * h.V);
  for (let r = 0; r < h.rows; r++)
    for (let v = 0; v < h.V; v++) {
      let z = h.bias?.[v] ?? 0;
      for (let k = 0; k < h.H; k++) z += h.hidden[r * h.H + k]! * h.weight[v * h.H + k]!;
      out[r * h.V + v] = z;
    }
  return out;
}

/** The materialised logits gradient G [R, V] carried through the head: G·W, Gᵀ·hidden, Σ G. */
function throughHead(h: HostHead, g: ArrayLike<number>): { hidden: Float64Array; weight: Float64Array; bias: Float64Array } {
  const hidden = new Float64Array(h.rows * h.H);
  const weight = new Float64Array(h.V * h.H);
  const bias = new Float64Array(h.V);
  for (let r = 0; r < h.rows; r++)
    for (let v = 0; v < h.V; v++) {
      const gv = g[r * h.V + v]!;
      bias[v]! += gv;
      for (let k = 0; k < h.H; k++) {
        hidden[r * h.H + k]! += gv * h.weight[v * h.H + k]!;
        weight[v * h.H + k]! += gv * h.hidden[r * h.H + k]!;
      }
    }
  return { hidden, weight, bias };
}

const headSide = (h: HostHead, B: number, steps: number, roles: Int32Array): HeadOutputs => ({
  hidden: tf.tensor3d(Float32Array.from(h.hidden), [B, steps, h.H]),
  head: {
    weight: tf.tensor2d(Float32Array.from(h.weight), [h.V, h.H]),
    ...(h.bias === undefined ? {} : { bias: tf.tensor1d(Float32Array.from(h.bias)) }),
  },
  roles,
});
const logitsSide = (logits: Float32Array, B: number, steps: number, V: number, roles: Int32Array): SideOutputs => ({
  logits: tf.tensor3d(logits, [B, steps, V]),
  roles,
});

function dispose(inputs: DistillInputs): void {
  for (const side of [inputs.teacher, inputs.student]) {
    tf.dispose(
      [side.logits, side.hidden, 'head' in side ? side.head.weight : undefined, 'head' in side ? side.head.bias : undefined].filter((x) => x !== undefined),
    );
  }
}

async function lossAndGrads(graph: LossNode, inputs: DistillInputs, backend: LoweringBackend): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
  const compiled = compile(graph, inputs, { backend });
  try {
    const result = await compiled.valueAndGrad(inputs);
    try {
      const grads: Record<string, Float32Array> = {};
      for (const [name, g] of Object.entries(result.grads)) grads[name] = (await g.data()) as Float32Array;
      return { loss: (await result.loss.data())[0]!, grads };
    } finally {
      result.dispose();
    }
  } finally {
    compiled.dispose();
  }
}

/**
 * Whether AKL's head/tail split of every teacher row is clear of float32 rounding (the divergence
 * laws' rule): a head computes its logits on the device, so a token within rounding of μ's cut,
 * or tied with the last head token, may fall on either side, and neither path is then wrong.
 */
function aklSplitIsRobust(logits: Float32Array, V: number, temperature: number, mu: number): boolean {
  for (let r = 0; r * V < logits.length; r++) {
    const logP = logSoftmax(rowOf(logits, r, V), temperature);
    if (!(aklWeights(logP, logP, mu).margin > 1e-4)) return false;
  }
  return true;
}

/** Tokens the student's `next('response')` view selects. */
function selected(batch: DistillationBatch): number {
  const { roles, B, T: steps } = batch.student;
  let n = 0;
  for (let b = 0; b < B; b++) for (let i = 0; i + 1 < steps; i++) if (roles[b * steps + i + 1] === ROLE_CODES.response) n++;
  return n;
}

for (const target of targets()) {
  describe(`an LM head's logits view equals its materialised logits on ${target.label}`, () => {
    beforeAll(() => activate(target));

    /** Builds both inputs (head and materialised) for one case and compares loss and gradients. */
    const agree = async (name: string, build: Build, c: Case, vocab: { teacher: number; student: number } = { teacher: c.batch.V, student: c.batch.V }) => {
      const { batch } = c;
      const options = { temperature: c.temperature, scaleT2: c.scaleT2, reduction: c.reduction, truncateVocab: vocab.teacher !== vocab.student };
      const graph = build(options, c.x);
      const supervised = name === 'supervised CE';
      const layout: Layout = supervised ? 'student' : c.layout;
      const th = hostHead(batch.teacher.B * batch.teacher.T, c.H, vocab.teacher, c.bias, c.seed);
      const sh = hostHead(batch.student.B * batch.student.T, c.H, vocab.student, c.bias, c.seed + 7);
      const tLogits = logitsOf(th);
      const sLogits = logitsOf(sh);
      if (name === 'AKL(μ)') fc.pre(aklSplitIsRobust(tLogits, vocab.teacher, c.temperature, c.x));
      const labels = vocab.student === batch.V ? batch.labels : batch.labels.map((y) => (y < 0 ? y : y % vocab.student));
      const side = (who: 'teacher' | 'student', h: HostHead, logits: Float32Array, head: boolean) => {
        const r = batch[who];
        return head ? headSide(h, r.B, r.T, r.roles) : logitsSide(logits, r.B, r.T, h.V, r.roles);
      };
      const viaHead: DistillInputs = {
        teacher: side('teacher', th, tLogits, layout !== 'student'),
        student: side('student', sh, sLogits, layout !== 'teacher'),
        labels,
      };
      const materialised: DistillInputs = {
        teacher: side('teacher', th, tLogits, false),
        student: side('student', sh, sLogits, false),
        labels,
      };
      try {
        const reference = await lossAndGrads(graph, materialised, targetLowering());
        const actual = await lossAndGrads(graph, viaHead, chunkedLowering(targetLowering(), c.chunkRows));
        const scale = 2 * (c.reduction === 'sum' ? Math.max(1, selected(batch)) : 1) * (c.scaleT2 ? c.temperature ** 2 : 1);
        const what = `${name}, head on ${layout}, chunks of ${c.chunkRows}`;
        expectClose(actual.loss, reference.loss, loosen(toleranceFor(target.backend, 'value'), scale), `${what}: value`);
        const g = reference.grads['student.logits']!;
        if (layout === 'teacher') {
          expectClose(actual.grads['student.logits']!, g, loosen(toleranceFor(target.backend, 'gradient'), scale), `${what}: student.logits gradient`);
          return;
        }
        expect(Object.keys(actual.grads).sort(), what).toEqual(['student.hidden', 'student.head.weight', ...(c.bias ? ['student.head.bias'] : [])].sort());
        const want = throughHead(sh, g);
        // Each entry of a carried gradient sums V (hidden) or N (weight, bias) entries of G, each
        // within the table: the allowance grows with the sum's length.
        const gradient = toleranceFor(target.backend, 'gradient');
        expectClose(actual.grads['student.hidden']!, want.hidden, loosen(gradient, scale * vocab.student), `${what}: student.hidden`);
        expectClose(actual.grads['student.head.weight']!, want.weight, loosen(gradient, scale * sh.rows), `${what}: student.head.weight`);
        if (c.bias) expectClose(actual.grads['student.head.bias']!, want.bias, loosen(gradient, scale * sh.rows), `${what}: student.head.bias`);
      } finally {
        dispose(viaHead);
        dispose(materialised);
      }
    };

    for (const [name, build] of builds) {
      it(`${name}: value and gradients through the head equal the materialised path's (masks, T, reductions, chunks of 1–3 rows)`, async () => {
        await fc.assert(
          fc.asyncProperty(caseOf(distillationBatch({ sameVisual: true })), (c) => agree(name, build, c)),
          { numRuns: runs(8) },
        );
      });
    }

    it('a truncated vocabulary (teacher V + 3 rows of padding): the head past min(V) gets zero gradient', async () => {
      await fc.assert(
        fc.asyncProperty(caseOf(distillationBatch({ sameVisual: true })), async (c) => {
          for (const [name, build] of builds.slice(0, 3)) {
            await agree(name, build, { ...c, layout: 'both' }, { teacher: c.batch.V, student: c.batch.V + 3 });
          }
        }),
        { numRuns: runs(4) },
      );
    });

    it('an empty selection gives 0 with zero gradients for the head', async () => {
      const roles = new Int32Array(4).fill(ROLE_CODES.prompt);
      const h = hostHead(4, 3, 5, true, 3);
      const inputs: DistillInputs = { teacher: headSide(h, 1, 4, roles), student: headSide(h, 1, 4, roles) };
      try {
        for (const [name, build] of builds.slice(0, 8)) {
          const out = await lossAndGrads(build({}, 0.5), inputs, targetLowering());
          expect(out.loss, name).toBe(0);
          for (const [k, g] of Object.entries(out.grads))
            expect(
              Array.from(g).every((x) => x === 0),
              `${name} ${k}`,
            ).toBe(true);
        }
      } finally {
        dispose(inputs);
      }
    });

    it('valueAndGrad through a head never holds [N × V]: peak tensor bytes stay under a quarter of N × V × 4', async () => {
      // N = 1024 response rows, V = 4096, H = 8, chunks of 8 rows: each chunk makes about twenty
      // [8 × V] temporaries (both sides' logits and log-probabilities, the rule's terms, the
      // gradient), 128 KiB each, against 16 MiB for one [N × V] tensor.
      const [rows, V, H] = [1024, 4096, 8];
      const roles = new Int32Array(rows).fill(ROLE_CODES.response);
      const inputs: DistillInputs = {
        teacher: headSide(hostHead(rows, H, V, true, 5), 1, rows, roles),
        student: headSide(hostHead(rows, H, V, true, 6), 1, rows, roles),
      };
      const graph = kl.forward(t.logits.at('response'), s.logits.at('response'));
      const compiled = compile(graph, inputs, { backend: chunkedLowering(targetLowering(), 8) });
      try {
        const before = tf.memory().numTensors;
        let loss = 0;
        const profile = await tf.profile(async () => {
          const result = await compiled.valueAndGrad(inputs);
          loss = (await result.loss.data())[0]!;
          result.dispose();
        });
        expect(Number.isFinite(loss)).toBe(true);
        expect(tf.memory().numTensors).toBe(before);
        const whole = rows * V * 4;
        expect(profile.peakBytes, `peak ${profile.peakBytes} B against N × V × 4 = ${whole} B`).toBeLessThan(whole / 4);
        console.log(
          `${target.label}: valueAndGrad through a ${rows} × ${H} → ${V} head: peak ${(profile.peakBytes / 2 ** 20).toFixed(2)} MiB, N × V × 4 = ${whole / 2 ** 20} MiB`,
        );
      } finally {
        compiled.dispose();
        dispose(inputs);
      }
    });
  });
}

describe("an LM head's logits view: what validation and the input checks refuse", () => {
  beforeAll(() => activate({ backend: 'cpu', lowering: 'generic', label: 'cpu' }));
  const roles = Int32Array.from([ROLE_CODES.visual, ROLE_CODES.prompt, ROLE_CODES.response, ROLE_CODES.response]);
  const head = () => headSide(hostHead(4, 3, 5, true, 1), 1, 4, roles);
  const logits = () => logitsSide(new Float32Array(20), 1, 4, 5, roles);

  it('losses that would need the whole [N × V] logits (features, matchers) are a validation error naming the path', () => {
    const inputs: DistillInputs = { teacher: logits(), student: head() };
    try {
      expect(() => compile(feature.mse(t.logits.at('visual'), s.logits.at('visual')), inputs)).toThrow(
        /objective\.student: student\.logits are an LM head's view .* which featureMSE cannot read chunk by chunk/,
      );
      expect(() =>
        compile(kl.reverse(match.hungarian(t.logits.at('visual'), s.logits.at('visual')).of(t.logits.at('visual')), s.logits.at('visual')), inputs),
      ).toThrow(GraphValidationError);
      expect(() =>
        compile(kl.reverse(match.hungarian(t.logits.at('visual'), s.logits.at('visual')).of(t.logits.at('visual')), s.logits.at('visual')), inputs),
      ).toThrow(/match\.student: student\.logits are an LM head's view .* which the matcher hungarian cannot read/);
      // The head's hidden states stay an ordinary hidden view.
      expect(() => compile(feature.mse(t.logits.at('visual'), s.hidden.at('visual')), inputs)).not.toThrow(/LM head/);
    } finally {
      dispose(inputs);
    }
  });

  it('a head that does not fit its hidden states, or logits beside a head, is an InputError naming the tensors', () => {
    const graph = kl.forward(T(), S());
    const bad = (student: unknown, pattern: RegExp) => {
      const inputs = { teacher: logits(), student } as DistillInputs;
      try {
        expect(() => compile(graph, inputs)).toThrow(InputError);
        expect(() => compile(graph, inputs)).toThrow(pattern);
      } finally {
        dispose(inputs);
      }
    };
    const h = hostHead(4, 3, 5, true, 1);
    bad({ ...headSide(h, 1, 4, roles), head: { weight: tf.zeros([5, 4]) } }, /student\.head\.weight must be \[V, 3\] .* got \[5, 4\]/);
    bad({ ...headSide(h, 1, 4, roles), head: { weight: tf.zeros([5, 3]), bias: tf.zeros([6]) } }, /student\.head\.bias must be \[5\]/);
    bad({ ...headSide(h, 1, 4, roles), logits: tf.zeros([1, 4, 5]) }, /student has both logits and an LM head/);
    bad({ head: { weight: tf.zeros([5, 3]) }, roles }, /student\.head needs student\.hidden/);
  });
});
