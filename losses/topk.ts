import * as tf from '@tensorflow/tfjs-core';
import type { TokenRows, TopKRows } from '../core/definitions.js';
import { InputError } from '../core/errors.js';
import type { JsonValue } from '../core/graph.js';
import { withGradient } from '../core/tensor-ops.js';
import type { DivergenceRule } from './divergence.js';

/**
 * A divergence between a teacher given by offline top-k signals and the student's logits, under
 * the teacher view's policy for the missing mass. Each policy turns (top-k log-probs, tail mass)
 * and the student's logits b into two distributions P and Q over one support, and the rule
 * compares them as it compares dense rows:
 *
 * - `renormalize` (support: the k ids): log P = lp − logΣexp(lp), log Q = z_ids − logΣexp(z_ids);
 * - `tailBucket` (the k ids and one tail class): log P = (lp, log r), log Q = (log q_ids, log Σ_{v∉ids} q_v);
 * - `uniform` (all V ids): log P_v = lp at the ids, log(r / (V − k)) elsewhere; log Q = log softmax(z);
 *
 * with z = b / T and q = softmax(z). Each Q sums to 1 identically in b, so the rule's ∂ℓ/∂log Q
 * (which may omit multiples of Q) carries the right gradient back through Q's own construction
 * (tfjs autodiff of the gathers and log-sum-exps). A zero mass is floored at 1e-30 before its log
 * (the tail of k = V, an underflowed uniform share), so no −∞ reaches a kernel; its class then
 * contributes about 1e-30 · 0. Memory: `uniform` and `tailBucket` hold a few [N × V] tensors (the
 * student's softmax and the top-k mask); this lowering is not chunked.
 */
export function topkDivergence(
  rule: DivergenceRule,
  teacher: TopKRows,
  student: TokenRows,
  temperature: number,
  weights: Float32Array,
  params: Readonly<Record<string, JsonValue>>,
  path: string,
  paddedVocab?: number,
): tf.Scalar {
  if (student.head !== undefined) {
    throw new InputError(
      `${path}: a teacher.topk view with the student's logits as an LM head's view is not supported; give the student's materialised logits`,
    );
  }
  const [n, width] = student.values.shape;
  const { k } = teacher;
  // With padded heads, the first V₀ columns: padding rows get no mass and a zero gradient (the slice's).
  const vocab = paddedVocab ?? teacher.vocab;
  if (paddedVocab === undefined && width !== vocab)
    throw new Error(`internal: top-k signals over V = ${vocab} met student logits of width ${width} unvalidated`);
  if (paddedVocab !== undefined) {
    const bad = teacher.ids.findIndex((id) => id >= paddedVocab);
    if (bad >= 0) {
      throw new InputError(
        `${path}: teacher.topk id ${teacher.ids[bad]} (entry ${bad % k} of selected token ${Math.floor(bad / k)}) is a padding row: paddedVocab is ${paddedVocab}, the real vocabulary`,
      );
    }
  }
  const b = vocab === width ? student.values : tf.slice(student.values, [0, 0], [n, vocab]);
  const z = temperature === 1 ? b : tf.div(b, temperature);
  const zTop = gatherTop(z as tf.Tensor2D, teacher);
  const rows: TopKRows = { ...teacher, vocab };
  const lp = tf.tensor2d(teacher.logProbs, [n, k]);
  const floor = Math.log(MASS_FLOOR);
  const logTail = tf.tensor2d(
    Float32Array.from(teacher.logTail, (v) => Math.max(v, floor)),
    [n, 1],
  );
  let logP: tf.Tensor2D;
  let logQ: tf.Tensor2D;
  switch (teacher.missingMass) {
    case 'renormalize':
      logP = tf.sub(lp, tf.logSumExp(lp, 1, true)) as tf.Tensor2D;
      logQ = tf.sub(zTop, tf.logSumExp(zTop, 1, true)) as tf.Tensor2D;
      break;
    case 'tailBucket': {
      const lse = tf.logSumExp(z, 1, true);
      const rest = tf.sum(tf.mul(tf.sub(1, topMask(rows, n)), tf.exp(tf.sub(z, lse))), 1, true);
      logP = tf.concat([lp, logTail], 1) as tf.Tensor2D;
      logQ = tf.concat([tf.sub(zTop, lse), tf.log(tf.maximum(rest, MASS_FLOOR))], 1) as tf.Tensor2D;
      break;
    }
    case 'uniform': {
      const mask = topMask(rows, n);
      const share = Float32Array.from(teacher.logTail, (v) => (k === vocab ? 0 : Math.max(v - Math.log(vocab - k), floor)));
      const scattered = tf.scatterND(tf.tensor2d(scatterIndices(teacher, n), [n * k, 2], 'int32'), tf.reshape(lp, [n * k]), [n, vocab]);
      logP = tf.add(scattered, tf.mul(tf.sub(1, mask), tf.tensor2d(share, [n, 1]))) as tf.Tensor2D;
      logQ = tf.logSoftmax(z) as tf.Tensor2D;
      break;
    }
  }
  const constantP = logP;
  const perToken = withGradient<tf.Tensor1D>(logQ, (q, save) => {
    save([q, constantP]);
    return {
      value: rule.perToken(constantP, q as tf.Tensor2D, params),
      gradFunc: (dy, [savedQ, savedP]) => tf.mul(tf.reshape(dy, [n, 1]), rule.gradLogQ(savedP as tf.Tensor2D, savedQ as tf.Tensor2D, params)),
    };
  });
  return tf.sum(tf.mul(perToken, tf.tensor1d(weights))) as tf.Scalar;
}

/**
 * [n, k]: each row's entries at its top-k ids. The gradient scatters back with `scatterND`
 * (present on every backend, where tfjs's own gather gradient needs UnsortedSegmentSum, which
 * wasm lacks); the flat indices are distinct (ids are distinct within a row), so it is exact.
 */
function gatherTop(z: tf.Tensor2D, teacher: TopKRows): tf.Tensor2D {
  const [n, vocab] = z.shape;
  const { k } = teacher;
  const flat = Int32Array.from({ length: n * k }, (_, i) => Math.floor(i / k) * vocab + teacher.ids[i]!);
  return withGradient<tf.Tensor2D>(z, (input, save) => {
    const index = tf.tensor1d(flat, 'int32');
    save([index]);
    return {
      value: tf.reshape(tf.gather(tf.reshape(input, [n * vocab]), index), [n, k]) as tf.Tensor2D,
      gradFunc: (dy, [saved]) => tf.reshape(tf.scatterND(tf.reshape(saved!, [n * k, 1]), tf.reshape(dy, [n * k]), [n * vocab]), [n, vocab]),
    };
  });
}

/** The least mass whose log is taken (a zero tail, an underflowed uniform share). */
export const MASS_FLOOR = 1e-30;

/** [n·k, 2] (row, id) pairs of the top-k ids. */
function scatterIndices(teacher: TopKRows, n: number): Int32Array {
  const out = new Int32Array(n * teacher.k * 2);
  for (let i = 0; i < n * teacher.k; i++) {
    out[2 * i] = Math.floor(i / teacher.k);
    out[2 * i + 1] = teacher.ids[i]!;
  }
  return out;
}

/** [n, V]: 1 at each row's top-k ids, 0 elsewhere. */
function topMask(teacher: TopKRows, n: number): tf.Tensor2D {
  return tf.scatterND(tf.tensor2d(scatterIndices(teacher, n), [n * teacher.k, 2], 'int32'), tf.ones([n * teacher.k]), [n, teacher.vocab]) as tf.Tensor2D;
}
