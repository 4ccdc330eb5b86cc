/**
 * The studio's sample inspector: for one held-out question, which teacher patches each student
 * vision token is matched to (Hungarian and nearest on the L1 cost between vision-token logits,
 * EM-KD's default, and the geometric 2×2 grid pooling of the efficient student), the teacher's
 * and the student's vision–text affinity matrices (VLAD's cos(V, X)), and the two models'
 * distributions over the first answer token. Host arrays out; every tensor made is released.
 * Free of Node's modules.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ROLE_CODES } from '../core/roles.js';
import type { Batch } from '../data/batch.js';
import { solveAssignment } from '../matching/assignment/solve.js';
import { pairwiseCost } from '../matching/costs.js';
import { sinkhornMatcher, plan as sinkhornPlan } from '../matching/matchers/sinkhorn.js';
import { type LlavaModel, numVisionTokens, visionGridSide } from '../models/index.js';
import { evalBatches, type RunEnvironment } from '../recipes/environment.js';
import type { ModelKind } from '../recipes/recipe.js';

/** A matrix, row-major. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly values: Float32Array;
}

/** The most probable first answer tokens of a model. */
export interface AnswerDistribution {
  readonly top: readonly { readonly token: string; readonly probability: number }[];
  /** The probability of the gold answer token. */
  readonly gold: number;
}

export interface SampleInspection {
  readonly index: number;
  readonly sampleId: string;
  readonly kind: string;
  /** The question and the gold answer, as text. */
  readonly question: string;
  readonly answer: string;
  /** The image: side × side × channels, values in [0, 1]. */
  readonly image: { readonly side: number; readonly channels: number; readonly pixels: Float32Array };
  /** Vision-token grid sides of the teacher and of the student. */
  readonly teacherGrid: number;
  readonly studentGrid: number;
  /** For each student vision token (row-major), the teacher patches it is matched to. */
  readonly matches: {
    readonly hungarian: readonly number[];
    readonly nearest: readonly number[];
    readonly pooling: readonly (readonly number[])[];
    /** Sinkhorn's soft plan (the matcher's default ε and iterations): each student token's weights over the teacher patches (summing to 1). */
    readonly sinkhorn: readonly (readonly number[])[];
  };
  /** cos(vision token, prompt token) of each model's hidden states: [vision tokens, prompt tokens]. */
  readonly affinity: { readonly teacher: Matrix; readonly student: Matrix };
  readonly answers: { readonly gold: string; readonly teacher: AnswerDistribution; readonly student: AnswerDistribution };
}

const positionsOf = (batch: Batch, role: number): number[] => [...batch.roles].flatMap((r, i) => (r === role ? [i] : []));

/** Rows `positions` of a [1, T, D] tensor, as [N, D]. */
const rowsOf = (x: tf.Tensor3D, positions: readonly number[]): tf.Tensor2D =>
  tf.gather(tf.squeeze(x, [0]) as tf.Tensor2D, tf.tensor1d(Int32Array.from(positions), 'int32')) as tf.Tensor2D;

/** cos between rows of `a` [N, H] and rows of `b` [M, H]: [N, M]. */
function cosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const unit = (x: tf.Tensor2D) => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12));
  return tf.matMul(unit(a), unit(b), false, true);
}

async function matrix(x: tf.Tensor2D): Promise<Matrix> {
  return { rows: x.shape[0], cols: x.shape[1], values: Float32Array.from(await x.data()) };
}

/** Inspects held-out question `index` with the teacher and a student of kind `kind`. */
export async function inspectSample(
  environment: RunEnvironment,
  teacher: LlavaModel,
  student: LlavaModel,
  kind: ModelKind,
  index: number,
): Promise<SampleInspection> {
  const teacherBatch = evalBatches(environment, 'teacher', 1)[index];
  const studentBatch = evalBatches(environment, kind, 1)[index];
  if (teacherBatch === undefined || studentBatch === undefined)
    throw new Error(`there are ${environment.evalSamples} held-out questions; ${index} is not one of them`);
  const vocab = environment.tokenizer.vocab;
  const words = (batch: Batch, role: number) => positionsOf(batch, role).map((i) => vocab[batch.tokens[i] as number] ?? '?');
  const responseAt = positionsOf(studentBatch, ROLE_CODES.response);
  const goldId = studentBatch.tokens[responseAt[0] as number] as number;

  const teacherOut = teacher.forward(teacherBatch);
  const studentOut = student.forward(studentBatch);
  const scope: tf.Tensor[] = [
    teacherOut.logits,
    studentOut.logits,
    ...(teacherOut.hidden ? [teacherOut.hidden] : []),
    ...(studentOut.hidden ? [studentOut.hidden] : []),
  ];
  try {
    if (teacherOut.hidden === undefined || studentOut.hidden === undefined) throw new Error('the models gave no hidden states');
    const [tv, sv] = [positionsOf(teacherBatch, ROLE_CODES.visual), positionsOf(studentBatch, ROLE_CODES.visual)];
    const [tp, sp] = [positionsOf(teacherBatch, ROLE_CODES.prompt), positionsOf(studentBatch, ROLE_CODES.prompt)];

    // Matching: student vision tokens (rows) against teacher patches (columns), L1 between logits.
    const cost = tf.tidy(() => pairwiseCost(rowsOf(studentOut.logits, sv), rowsOf(teacherOut.logits, tv), 'l1'));
    const costs = Float64Array.from(await cost.data());
    cost.dispose();
    const [n, m] = [sv.length, tv.length];
    const assignment = solveAssignment(costs, n, m);
    const hungarian = Array.from({ length: n }, (_, row) => assignment.cols[assignment.rows.indexOf(row)] as number);
    const nearest = Array.from({ length: n }, (_, row) => {
      let best = 0;
      for (let col = 1; col < m; col++) if ((costs[row * m + col] as number) < (costs[row * m + best] as number)) best = col;
      return best;
    });
    const teacherByStudent = Float32Array.from({ length: n * m }, (_, k) => costs[(k % n) * m + Math.floor(k / n)] as number);
    const { epsilon, iterations } = sinkhornMatcher.defaults as { epsilon: number; iterations: number };
    const soft = sinkhornPlan(teacherByStudent, m, n, epsilon, iterations);
    const sinkhorn = Array.from({ length: n }, (_, row) => Array.from(soft.subarray(row * m, (row + 1) * m)));
    const teacherGrid = visionGridSide(environment.configs.teacher.vision) / environment.configs.teacher.projector.pool;
    const studentGrid = Math.round(Math.sqrt(numVisionTokens(environment.configs[kind])));
    const factor = teacherGrid / studentGrid;
    const pooling = Array.from({ length: n }, (_, row) => {
      const [i, j] = [Math.floor(row / studentGrid), row % studentGrid];
      const cells: number[] = [];
      for (let a = 0; a < factor; a++) for (let b = 0; b < factor; b++) cells.push((i * factor + a) * teacherGrid + (j * factor + b));
      return cells;
    });

    const teacherAffinity = tf.tidy(() => cosine(rowsOf(teacherOut.hidden!, tv), rowsOf(teacherOut.hidden!, tp)));
    const studentAffinity = tf.tidy(() => cosine(rowsOf(studentOut.hidden!, sv), rowsOf(studentOut.hidden!, sp)));
    const affinity = { teacher: await matrix(teacherAffinity), student: await matrix(studentAffinity) };
    tf.dispose([teacherAffinity, studentAffinity]);

    // The first answer token is predicted at the position before it.
    const distribution = async (logits: tf.Tensor3D, batch: Batch): Promise<AnswerDistribution> => {
      const at = (positionsOf(batch, ROLE_CODES.response)[0] as number) - 1;
      const probs = tf.tidy(() => tf.squeeze(tf.softmax(rowsOf(logits, [at])), [0]));
      const p = Float32Array.from(await probs.data());
      probs.dispose();
      const order = [...p.keys()].sort((a, b) => (p[b] as number) - (p[a] as number)).slice(0, 5);
      return { top: order.map((id) => ({ token: vocab[id] ?? String(id), probability: p[id] as number })), gold: p[goldId] as number };
    };
    const side = environment.configs[kind].vision.imageSize;
    const channels = studentBatch.pixels.length / (side * side);
    return {
      index,
      sampleId: studentBatch.sampleIds[0] as string,
      kind: studentBatch.kinds[0] as string,
      question: words(studentBatch, ROLE_CODES.prompt).join(' '),
      answer: words(studentBatch, ROLE_CODES.response).join(' '),
      image: { side, channels, pixels: Float32Array.from(studentBatch.pixels) },
      teacherGrid,
      studentGrid,
      matches: { hungarian, nearest, pooling, sinkhorn },
      affinity,
      answers: {
        gold: vocab[goldId] ?? String(goldId),
        teacher: await distribution(teacherOut.logits, teacherBatch),
        student: await distribution(studentOut.logits, studentBatch),
      },
    };
  } finally {
    tf.dispose(scope);
  }
}
