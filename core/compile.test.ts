/**
 * The seam from backend and registry to lowering, through `compile` as a user calls it: kernels
 * belong to loss definitions (never to names), the planner aligns with the registry `compile`
 * was given, and every path checks its inputs, the training one included.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cpu, useBackend, wasm } from '../backends/index.js';
import { compile } from '../compile/compile.js';
import { standardRegistry } from '../compile/standard-registry.js';
import { kl, standardLosses } from '../losses/index.js';
import { gatherAlignment } from '../matching/alignment.js';
import type { MatcherImplementation } from '../matching/matcher.js';
import type { LossDefinition, Registry } from './definitions.js';
import { GraphValidationError, InputError } from './errors.js';
import type { AlignedNode, MatchNode } from './graph.js';
import type { DistillInputs, IntegerArray } from './outputs.js';
import { emptyPlan } from './plan.js';
import { ROLE_CODES } from './roles.js';
import { genericLowering, ruleFor } from './target.js';
import { student as s, teacher as t } from './views.js';

const { prompt, visual, response } = ROLE_CODES;

/** One sample: a prompt token, three vision tokens, two response tokens; vocabulary 4. */
function inputs(teacherVision: number[][], studentVision: number[][]): DistillInputs {
  const row = (v: number) => [v, -v, 0.5 * v, 1];
  const seq = (vision: number[][]) => [row(1), ...vision, row(2), row(3)];
  const roles = Int32Array.from([prompt, visual, visual, visual, response, response]);
  return {
    teacher: { logits: tf.tensor3d([seq(teacherVision)]), roles },
    student: { logits: tf.tensor3d([seq(studentVision)]), roles },
  };
}

const dispose = (x: DistillInputs) => tf.dispose([x.teacher.logits, x.student.logits]);
const vision = [
  [0, 1, 2, 3],
  [3, 0, 1, 0],
  [-1, 2, 0, 1],
];

describe('compile: the backend and the registry reach lowering', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it("keys a backend's kernels by loss definition, so a user's loss named 'forwardKL' keeps its own lowering", async () => {
    const builtIn = standardLosses['forwardKL']!;
    expect(ruleFor(cpu, builtIn)).not.toBe(builtIn.lower);
    expect(ruleFor(wasm, builtIn)).toBe(ruleFor(cpu, builtIn));
    expect(ruleFor(genericLowering, builtIn)).toBe(builtIn.lower);

    // Same name, same checks, another lowering: a constant 42 that the host kernel would replace
    // if kernels were looked up by name.
    const mine: LossDefinition = { ...builtIn, lower: (ctx, node, path) => tf.add(tf.mul(builtIn.lower(ctx, node, path), 0), 42) };
    const registry = { ...standardRegistry, losses: { ...standardRegistry.losses, forwardKL: mine } };
    const x = inputs(
      vision,
      vision.map((r) => r.map((v) => v + 0.3 * Math.sin(v))),
    );
    try {
      const graph = kl.forward(t.logits.next('response'), s.logits.next('response'));
      for (const backend of [cpu, genericLowering]) {
        expect((await compile(graph, x, { registry, backend }).evaluate(x)).loss).toBe(42);
        expect((await compile(graph, x, { backend }).evaluate(x)).loss).not.toBe(42);
      }
      expect((await compile(graph, x, { registry }).evaluate(x)).loss).toBe(42); // the active backend's (cpu's) kernels
    } finally {
      dispose(x);
    }
  });

  it('plans a custom matcher with the registry compile was given, end to end', async () => {
    // Pairs the k-th student token with the k-th teacher token from the end.
    const reversed: MatcherImplementation = {
      method: 'reversed',
      summary: 'k-th student token with the k-th teacher token from the end',
      defaults: {},
      checkParams: () => [],
      shapeRule: () => [],
      explain: (_node, a, b) => `reversed(${a}, ${b})`,
      align: async ({ teacher, student }) => {
        const { counts, offsets } = student.selection;
        const rows = new Int32Array(student.selection.positions.length);
        for (let b = 0; b < counts.length; b++) {
          const kt = teacher.selection.counts[b]!;
          for (let k = 0; k < counts[b]!; k++) rows[offsets[b]! + k] = teacher.selection.offsets[b]! + kt - 1 - k;
        }
        return gatherAlignment(rows);
      },
    };
    const registry: Registry<MatcherImplementation> = { ...standardRegistry, matchers: { ...standardRegistry.matchers, reversed } };
    const node: MatchNode = { kind: 'match', method: 'reversed', teacher: t.logits.at('visual'), student: s.logits.at('visual'), params: {} };
    const aligned: AlignedNode<'logits'> = { kind: 'aligned', match: node, source: t.logits.at('visual') };
    const graph = kl.reverse(aligned, s.logits.at('visual'));
    // The teacher's vision tokens are the student's in reverse order: reversed matching gives 0.
    const x = inputs([...vision].reverse(), vision);
    try {
      expect((await compile(graph, x, { registry }).evaluate(x)).loss).toBeCloseTo(0, 6);
      const identity = kl.reverse({ ...aligned, match: { ...node, method: 'identity' } }, s.logits.at('visual'));
      expect((await compile(identity, x, { registry }).evaluate(x)).loss).toBeGreaterThan(0.1);
      // Without it in the registry, the method is unknown: a validation error naming it and the path.
      expect(() => compile(graph, x)).toThrow(GraphValidationError);
      expect(() => compile(graph, x)).toThrow(/objective\.teacher\.match: unknown matcher "reversed": known matchers are hungarian, identity/);
    } finally {
      dispose(x);
    }
  });

  it('checks inputs on the training path too: loss() inside variableGrads rejects bad roles naming the tensor', async () => {
    const graph = kl.forward(t.logits.next('response'), s.logits.next('response'));
    const x = inputs(vision, vision);
    const compiled = compile(graph, x);
    const student = tf.variable(x.student.logits!);
    const step = (roles: IntegerArray) => () => tf.variableGrads(() => compiled.loss({ ...x, student: { logits: student, roles } }, emptyPlan).loss);
    try {
      expect(step(Int32Array.from([1, 2, 2, 7, 3, 3]))).toThrow(InputError);
      expect(step(Int32Array.from([1, 2, 2, 7, 3, 3]))).toThrow('student.roles holds 7 at [0, 3]');
      expect(step(Int32Array.from([1, 2, 3]))).toThrow('student.roles has 3 entries, but student.logits is [1, 6, …] (needs 6)');
      const { value, grads } = step(x.student.roles)();
      expect(Number.isFinite((await value.data())[0]!)).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
    } finally {
      compiled.dispose();
      student.dispose();
      dispose(x);
    }
  });
});
