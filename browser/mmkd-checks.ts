/**
 * mmkd's own checks for the browser page, compared value by value with the same checks in Node on
 * wasm: every loss's value and gradient on fixed inputs (the cross-backend subset of the property
 * suite), the two papers' objectives (EM-KD's with Hungarian matching), and a few steps of real
 * recipe stages (models, objective, AdamW). Browser-safe: nothing here imports Node modules.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NumericCheck, Tolerance } from '../backends/testing/numeric-checks.js';
import { seededNormals } from '../backends/testing/numeric-checks.js';
import { compile } from '../compile/compile.js';
import type { ScalarNode } from '../core/graph.js';
import type { DistillInputs } from '../core/outputs.js';
import { ROLE_CODES } from '../core/roles.js';
import { student as s, teacher as t } from '../core/views.js';
import { affinity, akl, feature, jsd, kl, relation, skewKL, skewReverseKL, softCE, supervisedCE, tvd } from '../losses/index.js';
import { copyGroups, createLlava } from '../models/index.js';
import { TOLERANCES } from '../properties/tolerances.js';
import { QUICK_SCALE, recipes } from '../recipes/catalog.js';
import { runEnvironment } from '../recipes/environment.js';
import { emKdObjective } from '../recipes/objectives/em-kd.js';
import { llavaKdObjective } from '../recipes/objectives/llava-kd.js';
import { stageTrainer } from '../recipes/stage-trainer.js';

const { pad, prompt, visual, response } = ROLE_CODES;

/** WebGPU against wasm's fused float64 kernels: the looser of webgpu's value and gradient rows. */
const LOSS_TOLERANCE: Tolerance = { abs: TOLERANCES.webgpu.value.atol * 10, rel: TOLERANCES.webgpu.gradient.rtol };
/**
 * After an update the backends drift apart a little, for a reason that is not a bug: Adam's first
 * update is lr·sign(g), so gradient entries within float32 noise of 0 can flip between backends
 * (and a matching can then pair other tokens). The first step's loss is compared at the loss
 * tolerance; the trajectory of a few steps at this one.
 */
const TRAINING_TOLERANCE: Tolerance = { abs: 1e-3, rel: 2e-2 };

/** Two sequences, LLaVA layout; the teacher has 4 vision tokens, the efficient student 1 when `efficient`. */
function inputs(efficient: boolean): DistillInputs {
  const teacherRow = [prompt, visual, visual, visual, visual, prompt, prompt, response, response, pad];
  const studentRow = efficient ? [prompt, visual, prompt, prompt, response, response, pad] : teacherRow;
  const side = (row: number[], width: number, hidden: number, seed: number) => ({
    logits: tf.tensor3d(seededNormals(seed, 2 * row.length * width, 2), [2, row.length, width]),
    hidden: tf.tensor3d(seededNormals(seed + 1, 2 * row.length * hidden), [2, row.length, hidden]),
    roles: Int32Array.from([...row, ...row]),
  });
  const labels = Int32Array.from([...studentRow, ...studentRow], (role, i) => (role === response ? (i * 5) % 7 : -100));
  return { teacher: side(teacherRow, 7, 6, 11), student: side(studentRow, 7, 6, 21), labels };
}

function lossCheck(name: string, graph: ScalarNode, efficient = false): NumericCheck {
  return {
    name: `mmkd.${name}`,
    kernels: ['(mmkd objective: value and gradients)'],
    tolerance: LOSS_TOLERANCE,
    async run() {
      const x = inputs(efficient);
      const compiled = compile(graph, x);
      try {
        const result = await compiled.valueAndGrad(x);
        try {
          const out = [...(await result.loss.data())];
          for (const name of Object.keys(result.grads).sort()) out.push(...(await result.grads[name]!.data()));
          return out;
        } finally {
          result.dispose();
        }
      } finally {
        compiled.dispose();
        tf.dispose([x.teacher.logits, x.teacher.hidden!, x.student.logits, x.student.hidden!]);
      }
    },
  };
}

const at = (role: 'visual' | 'prompt') => ({ t: t.logits.at(role), s: s.logits.at(role) });
const next = { t: t.logits.next('response'), s: s.logits.next('response') };

/** The losses of the property suite, one check each, plus the two papers' objectives. */
export const lossChecks: readonly NumericCheck[] = [
  lossCheck('forwardKL', kl.forward(next.t, next.s, { temperature: 2, scaleT2: true })),
  lossCheck('reverseKL', kl.reverse(at('visual').t, at('visual').s)),
  lossCheck('jsd', jsd(next.t, next.s, { beta: 0.3 })),
  lossCheck('skewKL', skewKL(at('visual').t, at('visual').s, { alpha: 0.1 })),
  lossCheck('skewReverseKL', skewReverseKL(at('prompt').t, at('prompt').s, { alpha: 0.1, reduction: 'sampleMean' })),
  lossCheck('tvd', tvd(next.t, next.s, { reduction: 'sum' })),
  lossCheck('akl', akl(at('visual').t, at('visual').s)),
  lossCheck('softCE', softCE(next.t, next.s)),
  lossCheck('supervisedCE', supervisedCE(s.logits.next('response'))),
  lossCheck('relation', relation(at('visual').t, at('visual').s)),
  lossCheck(
    'affinity',
    affinity({
      teacher: { vision: t.hidden.at('visual'), text: t.hidden.at('prompt') },
      student: { vision: s.hidden.at('visual'), text: s.hidden.at('prompt') },
    }),
  ),
  lossCheck('featureCosine', feature.cosine(t.hidden.at('visual'), s.hidden.at('visual'))),
  lossCheck('llava-kd objective', llavaKdObjective()),
  lossCheck('em-kd objective (Hungarian matching)', emKdObjective(), true),
];

/**
 * A few steps of a real recipe stage: the teacher and student built from seeded initialisations
 * (no checkpoint needed), the stage's objective, data and AdamW, as `mmkd run` trains it.
 */
function stageCheck(recipeName: string, stageName: string, steps: number): NumericCheck {
  return {
    name: `mmkd.stage ${recipeName}/${stageName} (${steps} step${steps === 1 ? '' : 's'})`,
    kernels: ['(a recipe stage: forward, objective, backward, AdamW)'],
    tolerance: steps === 1 ? LOSS_TOLERANCE : TRAINING_TOLERANCE,
    async run() {
      const environment = runEnvironment({ evalSamples: 0 });
      const recipe = recipes(QUICK_SCALE).get(recipeName)!;
      const stage = { ...recipe.stages.find((st) => st.name === stageName)!, batchSize: 4 };
      const teacher = createLlava(environment.configs.teacher, { seed: 1 });
      const student = createLlava(environment.configs[recipe.model], { seed: 2 });
      copyGroups(teacher, student, ['vision']);
      const trainer = stageTrainer({ environment, kind: recipe.model, seed: 3, stage, model: student, teacher });
      try {
        const losses: number[] = [];
        for (let step = 0; step < steps; step++) losses.push((await trainer.step(step)).loss);
        return losses;
      } finally {
        trainer.dispose();
        teacher.dispose();
        student.dispose();
      }
    },
  };
}

export const stageChecks: readonly NumericCheck[] = [
  stageCheck('llava-kd', 'dft', 1),
  stageCheck('llava-kd', 'dft', 3),
  stageCheck('em-kd', 'phase2', 1),
  stageCheck('em-kd', 'phase2', 3),
];

export const mmkdChecks: readonly NumericCheck[] = [...lossChecks, ...stageChecks];
