/**
 * `mmkd loss` on an inputs file whose sides hand over an LM head (`student.head.weight`,
 * `student.head.bias`, with `student.hidden` as its input) instead of logits: the same loss and
 * terms as the file with the logits hidden · Wᵀ + b written out, and gradient norms named for the
 * head. Files are written to disk and read by the CLI running from source.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backends/index.js';
import { compile } from '../compile/compile.js';
import { objective, weighted } from '../core/combinators.js';
import { graphToJson } from '../core/json.js';
import type { DistillInputs } from '../core/outputs.js';
import { ROLE_CODES } from '../core/roles.js';
import { student as s, teacher as t } from '../core/views.js';
import { type HostTensor, hostTensor, writeSafetensors } from '../io/index.js';
import { jsd, kl, supervisedCE } from '../losses/index.js';
import { expectCleanFailure, runCli } from './testing/run-cli.js';
import { scratchFolder } from './testing/scratch.js';

const { file } = scratchFolder('mmkd-cli-lm-head-');
const [B, T, H, V] = [2, 5, 6, 37];
const wave = (n: number, seed: number, scale: number): Float32Array =>
  Float32Array.from({ length: n }, (_, k) => scale * Math.sin(seed * 12.9898 + k * 78.233));
const { prompt, response, pad } = ROLE_CODES;
const roles = Int32Array.from([prompt, prompt, response, response, response, prompt, response, response, response, pad]);
const labels = Int32Array.from([-100, -100, 3, 17, 36, -100, 0, 5, -100, -100]);

interface Head {
  readonly hidden: Float32Array;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}
const head = (seed: number): Head => ({ hidden: wave(B * T * H, seed, 2), weight: wave(V * H, seed + 0.5, 1), bias: wave(V, seed + 0.25, 1) });
function logitsOf(h: Head): Float32Array {
  const out = new Float32Array(B * T * V);
  for (let r = 0; r < B * T; r++)
    for (let v = 0; v < V; v++) {
      let z = h.bias[v]!;
      for (let k = 0; k < H; k++) z += h.hidden[r * H + k]! * h.weight[v * H + k]!;
      out[r * V + v] = z;
    }
  return out;
}
const headTensors = (side: string, h: Head): Record<string, HostTensor> => ({
  [`${side}.hidden`]: hostTensor('float32', [B, T, H], h.hidden),
  [`${side}.head.weight`]: hostTensor('float32', [V, H], h.weight),
  [`${side}.head.bias`]: hostTensor('float32', [V], h.bias),
});

const teacher = head(1);
const student = head(2);
const common = { roles: hostTensor('int32', [B, T], roles), labels: hostTensor('int32', [B, T], labels) };
const graph = objective({
  ce: weighted(0.5, supervisedCE(s.logits.next('response'))),
  fkl: weighted(0.3, kl.forward(t.logits.next('response'), s.logits.next('response'), { temperature: 2 })),
  jsd: weighted(0.2, jsd(t.logits.at('response'), s.logits.at('response'), { beta: 0.3 })),
});

interface Report {
  readonly loss: number;
  readonly terms: Record<string, number>;
  readonly gradNorms: Record<string, number>;
}

describe('mmkd loss with an LM head in the inputs file', () => {
  let objectiveFile = '';
  beforeAll(async () => {
    await useBackend('cpu');
    objectiveFile = file('objective.json', new TextEncoder().encode(graphToJson(graph)));
  });
  const loss = async (inputs: string): Promise<Report> => {
    const result = await runCli(['loss', '--objective', objectiveFile, '--inputs', inputs, '--backend', 'cpu', '--json']);
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Report;
  };

  it('gives the materialised file’s loss and terms, and gradient norms named student.hidden, student.head.weight, student.head.bias', async () => {
    const materialised = file(
      'logits.safetensors',
      writeSafetensors({
        'teacher.logits': hostTensor('float32', [B, T, V], logitsOf(teacher)),
        'student.logits': hostTensor('float32', [B, T, V], logitsOf(student)),
        ...common,
      }),
    );
    const heads = file('heads.safetensors', writeSafetensors({ ...headTensors('teacher', teacher), ...headTensors('student', student), ...common }));
    const studentOnly = file(
      'student-head.safetensors',
      writeSafetensors({ 'teacher.logits': hostTensor('float32', [B, T, V], logitsOf(teacher)), ...headTensors('student', student), ...common }),
    );
    const [a, b, c] = await Promise.all([loss(materialised), loss(heads), loss(studentOnly)]);
    for (const x of [b, c]) {
      expect(x.loss).toBeCloseTo(a.loss, 5);
      for (const [name, v] of Object.entries(a.terms)) expect(x.terms[name], name).toBeCloseTo(v, 5);
      expect(Object.keys(x.gradNorms).sort()).toEqual(['student.head.bias', 'student.head.weight', 'student.hidden']);
    }
    expect(Object.keys(a.gradNorms)).toEqual(['student.logits']);
    // The norms are those of the library's gradients on the same head (the library's own laws
    // carry them to the materialised path, properties/lm-head.test.ts).
    const [weight, bias] = [tf.tensor2d(student.weight, [V, H]), tf.tensor1d(student.bias)];
    const inputs: DistillInputs = {
      teacher: { logits: tf.tensor3d(logitsOf(teacher), [B, T, V]), roles },
      student: {
        hidden: tf.tensor3d(student.hidden, [B, T, H]),
        head: { weight, bias },
        roles,
      },
      labels,
    };
    const compiled = compile(graph, inputs);
    const result = await compiled.valueAndGrad(inputs);
    for (const [name, g] of Object.entries(result.grads)) expect(c.gradNorms[name], name).toBeCloseTo((await tf.norm(g).data())[0]!, 4);
    result.dispose();
    compiled.dispose();
    tf.dispose([inputs.teacher.logits!, inputs.student.hidden!, weight, bias]);
  });

  it('refuses logits beside a head, a head without hidden states, and a weight that does not fit them', async () => {
    const both = file(
      'both.safetensors',
      writeSafetensors({
        'teacher.logits': hostTensor('float32', [B, T, V], logitsOf(teacher)),
        'student.logits': hostTensor('float32', [B, T, V], logitsOf(student)),
        ...headTensors('student', student),
        ...common,
      }),
    );
    const { 'student.hidden': _, ...noHiddenHead } = headTensors('student', student);
    const noHidden = file(
      'no-hidden.safetensors',
      writeSafetensors({ 'teacher.logits': hostTensor('float32', [B, T, V], logitsOf(teacher)), ...noHiddenHead, ...common }),
    );
    const wide = file(
      'wide.safetensors',
      writeSafetensors({
        'teacher.logits': hostTensor('float32', [B, T, V], logitsOf(teacher)),
        ...headTensors('student', student),
        'student.head.weight': hostTensor('float32', [V, H + 1], wave(V * (H + 1), 3, 1)),
        ...common,
      }),
    );
    const run = (inputs: string) => runCli(['loss', '--objective', objectiveFile, '--inputs', inputs, '--backend', 'cpu']);
    expectCleanFailure(await run(both), /'student\.logits' and 'student\.head\.weight' are both given/);
    expectCleanFailure(await run(noHidden), /'student\.head\.weight' needs 'student\.hidden'/);
    expectCleanFailure(await run(wide), /'student\.head\.weight' must be \[V, 6\] to match student\.hidden \[2, 5, 6\], got \[37, 7\]/);
  });
});
