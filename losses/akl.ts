import * as tf from '@tensorflow/tfjs-core';
import { forwardKLRule } from './forward-kl.js';
import { paramCodec, unitInterval } from './params.js';
import { reverseKLRule } from './reverse-kl.js';
import { type DivergenceBuilder, divergenceBuilder, divergenceRule } from './rule.js';

/**
 * The rule of `akl`. Both endpoints of μ are included. μ = 0: the head is the top token alone
 * (its mass is > 0 = μ, but the first rank always belongs to the head, as in the authors'
 * `mask[:, :, 0] = False`). μ = 1:
 * every cumulative mass is ≤ 1, so the head is the whole vocabulary, g_tail = 0 and ℓ is the
 * forward KL; taken literally in floating point, a cumulative sum that rounds to 1 + ε would put
 * the last tokens in the tail, so μ = 1 is read as the definition says: all head.
 */
export const aklRule = divergenceRule({
  name: 'akl',
  summary: 'adaptive KL: head/tail-weighted forward and reverse KL (Wu et al. 2024)',
  params: paramCodec({ mu: unitInterval('μ', 0.5) }),
  formula: ({ mu }) => `AKL_μ=${mu}(p, q)`,
  perToken: (logP, logQ, params) => {
    const { head, tail } = ratios(logP, logQ, params.mu);
    return tf.add(tf.mul(head, forwardKLRule.perToken(logP, logQ, params)), tf.mul(tail, reverseKLRule.perToken(logP, logQ, params))) as tf.Tensor1D;
  },
  gradLogQ: (logP, logQ, params) => {
    const { head, tail } = ratios(logP, logQ, params.mu);
    const [forward, reverse] = [forwardKLRule.gradLogQ(logP, logQ, params), reverseKLRule.gradLogQ(logP, logQ, params)];
    return tf.add(tf.mul(tf.reshape(head, [-1, 1]), forward), tf.mul(tf.reshape(tail, [-1, 1]), reverse)) as tf.Tensor2D;
  },
  row: ({ vocab, sP, eP, invP, logSumP, sQ, eQ, invQ, logSumQ }, h, { mu }) => {
    const p = new Float64Array(vocab);
    for (let v = 0; v < vocab; v++) p[v] = eP[v]! * invP;
    const inHead = headOfRow(p, vocab, mu);
    const shift = logSumP - logSumQ; // log q − log p = sQ − sP + shift
    let gHead = 0;
    let gTotal = 0;
    let fkl = 0;
    let rkl = 0;
    for (let v = 0; v < vocab; v++) {
      const q = eQ[v]! * invQ;
      const e = Math.abs(p[v]! - q);
      gTotal += e;
      if (inHead(v)) gHead += e;
      const f = sQ[v]! - sP[v]! + shift;
      fkl -= p[v]! * f;
      rkl += q * f;
    }
    const wHead = gTotal > 0 ? gHead / gTotal : 0.5;
    if (h) {
      for (let v = 0; v < vocab; v++) h[v] = -wHead * p[v]! + (1 - wHead) * eQ[v]! * invQ * (sQ[v]! - sP[v]! + shift);
    }
    return wHead * fkl + (1 - wHead) * rkl;
  },
});

/**
 * Adaptive KL (AKL, Wu et al. 2024, "Rethinking Kullback-Leibler Divergence in Knowledge
 * Distillation for Large Language Models"), token by token: a mix of forward and reverse KL,
 * weighted by where the student's error lies. Sort the teacher's probabilities p in descending
 * order; the head is the prefix whose cumulative mass is ≤ μ (the first token always belongs to
 * it), the tail the rest. With g_head = Σ_head |p − q| and g_tail = Σ_tail |p − q|:
 *
 *   ℓ = g_head/(g_head + g_tail) · KL(p ‖ q) + g_tail/(g_head + g_tail) · KL(q ‖ p)
 *
 * The weights are computed from detached probabilities (as in the authors' code), so they carry
 * no gradient; both are ½ when p = q exactly.
 *
 * Shapes: `teacher` and `student` are logits views [B, T, V] selecting the same number of tokens
 * per sample; the loss is a scalar. μ ∈ [0, 1], default ½.
 *
 * @example
 * const adaptive = akl(teacher.logits.next('response'), student.logits.next('response'), { mu: 0.5 });
 * const compiled = compile(objective({ adaptive }), outputs);
 * const { loss, grads } = await compiled.valueAndGrad(outputs);
 */
export const akl: DivergenceBuilder<{ readonly mu?: number }> = divergenceBuilder(aklRule);

/**
 * The head of one row: ranks ordered by probability, descending, ties by index; rank k is in the
 * head when the cumulative mass up to k is ≤ μ, and the first rank always is. Returns a
 * membership test. A weighted quickselect finds the boundary in O(V) expected time, where a full
 * sort would cost O(V log V) per row.
 */
export function headOfRow(p: Float64Array, vocab: number, mu: number): (v: number) => boolean {
  if (mu >= 1) return () => true; // every cumulative mass is ≤ 1, whatever rounding says
  // Order: a before b when p[a] > p[b], or p[a] = p[b] and a < b.
  const before = (a: number, b: number) => p[a]! > p[b]! || (p[a] === p[b] && a < b);
  const idx = new Int32Array(vocab);
  for (let v = 0; v < vocab; v++) idx[v] = v;
  let lo = 0;
  let hi = vocab; // the boundary lies in idx[lo..hi)
  let massBefore = 0; // mass of everything ranked before idx[lo..hi)
  let boundary = -1; // the first tail token, or -1 when every token is in the head
  let seed = 0x2545f491;
  while (lo < hi) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const pivot = idx[lo + (seed % (hi - lo))]!;
    // Three-way split of idx[lo..hi): ranked before the pivot, the pivot, after it.
    let store = lo;
    let mass = 0;
    for (let i = lo; i < hi; i++) {
      const v = idx[i]!;
      if (before(v, pivot)) {
        idx[i] = idx[store]!;
        idx[store++] = v;
        mass += p[v]!;
      }
    }
    if (massBefore + mass > mu) {
      hi = store; // the crossing is among the tokens ranked before the pivot
    } else if (massBefore + mass + p[pivot]! > mu) {
      boundary = pivot;
      break;
    } else {
      massBefore += mass + p[pivot]!;
      // Continue after the pivot: move it out of the way of the remaining range.
      let j = store;
      while (idx[j] !== pivot) j++;
      idx[j] = idx[store]!;
      idx[store] = pivot;
      lo = store + 1;
    }
  }
  if (boundary === -1) return () => true;
  const first = boundary;
  // The first rank is in the head even when its mass alone exceeds μ.
  let top = 0;
  for (let v = 1; v < vocab; v++) if (before(v, top)) top = v;
  return (v) => v === top || before(v, first);
}

/** The head and tail weights of each row, [N] each. */
function ratios(logP: tf.Tensor2D, logQ: tf.Tensor2D, mu: number) {
  const [rows, vocab] = logP.shape;
  const p = tf.exp(logP);
  const q = tf.exp(logQ);
  const sorted = tf.topk(p, vocab, true);
  // q in the teacher's order. A flat gather (row·V + index), because tfjs-backend-wasm 4.22's
  // gather with batchDims = 1 returns wrong values.
  const rowStart = tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocab, 'int32'));
  const flatIndex = tf.add(sorted.indices, tf.reshape(rowStart, [rows, 1]));
  const qSorted = tf.reshape(tf.gather(tf.reshape(q, [-1]), tf.reshape(flatIndex, [-1])), [rows, vocab]);
  const error = tf.abs(tf.sub(sorted.values, qSorted));
  const cumulative = tf.cumsum(sorted.values, 1);
  // Head: cumulative mass ≤ μ, plus the first rank whatever its mass.
  const first = tf.concat([tf.ones([rows, 1]), tf.zeros([rows, vocab - 1])], 1);
  // At μ = 1 every rank is in the head, though a float32 cumulative sum may round past 1.
  const headMask = mu >= 1 ? tf.onesLike(cumulative) : tf.maximum(tf.cast(tf.lessEqual(cumulative, mu), 'float32'), first);
  const gHead = tf.sum(tf.mul(error, headMask), 1);
  const gTotal = tf.sum(error, 1);
  const safeTotal = tf.where(tf.greater(gTotal, 0), gTotal, tf.onesLike(gTotal));
  const head = tf.where(tf.greater(gTotal, 0), tf.div(gHead, safeTotal), tf.fill([rows], 0.5));
  return { head, tail: tf.sub(1, head) };
}
