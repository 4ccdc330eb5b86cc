/**
 * The math several losses (and the matching costs) share: stable log-mixtures, row dot products
 * and row KLs,
 * and one safe cosine with its row normalisation.
 *
 * Cosines are scale invariant, but computing them naively is not: ⟨x, y⟩ / √(‖x‖²‖y‖²) squares
 * each operand twice, so inputs of size 1e-3 (a Gram matrix, which is already quadratic) or 1e-10
 * (a plain vector) underflow float32, and a floor on the denominator then decides the value
 * instead of the inputs. Here every operand is first rescaled by a power of two that brings its
 * largest |entry| near 1. Multiplying by a power of two is exact in floating point, so wherever
 * the naive formula did not underflow or overflow, the rescaled one gives bit-for-bit the same
 * numbers and gradients; where it did, the rescaled one is still right. The only special case
 * left is an operand that is exactly zero, whose cosine is defined as 0 with a zero gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { withGradient } from './tensor-ops.js';

/** log(e^a + e^b), elementwise and stable. */
export function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const m = tf.maximum(a, b);
  return tf.add(m, tf.log1p(tf.exp(tf.neg(tf.abs(tf.sub(a, b))))));
}

/** log(w·x + (1−w)·y) elementwise from log x and log y, for w strictly inside (0, 1). */
export const logMixtureOf = (logX: tf.Tensor, logY: tf.Tensor, w: number): tf.Tensor => logAddExp(tf.add(logX, Math.log(w)), tf.add(logY, Math.log(1 - w)));

/**
 * The same on the host, for one entry: log(w·x + (1−w)·y) given x, y and the logs of the two
 * summands: the plain log where the sum is a normal number, else log-add-exp of the logs, which
 * stays finite where both underflow.
 */
export function logMixture(x: number, y: number, w: number, logWx: number, logWy: number): number {
  const m = w * x + (1 - w) * y;
  if (m > 1e-300) return Math.log(m);
  const hi = Math.max(logWx, logWy);
  return hi + Math.log1p(Math.exp(-Math.abs(logWx - logWy)));
}

/** Row sums of x ⊙ y. */
export const rowDot = (x: tf.Tensor, y: tf.Tensor): tf.Tensor1D => tf.sum(tf.mul(x, y), 1) as tf.Tensor1D;

/** KL(x ‖ y) = Σ_v x_v (log x_v − log y_v) of each row pair, [N], from log x and log y ([N, V] each). */
export const rowKL = (logX: tf.Tensor, logY: tf.Tensor): tf.Tensor1D => rowDot(tf.exp(logX), tf.sub(logX, logY));

/**
 * x times 2^−k, with 2^k the power of two nearest its largest |entry|: over each row (`'rows'`,
 * x [N, D]) or over the whole tensor (`'whole'`). Entries of an all-zero row (or tensor) are left
 * as they are. The factor is held constant for gradients: the cosines that use this do not
 * depend on it, so ∂/∂x is the exact gradient, and no gradient flows through the maximum.
 * k stays within ±126, so the factor is a normal float32 on every backend.
 */
export function rescaled<T extends tf.Tensor>(x: T, over: 'rows' | 'whole'): T {
  return withGradient<T>(x, (input, save) => {
    const largest = over === 'rows' ? tf.max(tf.abs(input), -1, true) : tf.max(tf.abs(input));
    const safe = tf.where(tf.greater(largest, 0), largest, tf.onesLike(largest));
    const exponent = tf.clipByValue(tf.round(tf.div(tf.log(safe), Math.LN2)), -126, 126);
    const factor = tf.pow(tf.scalar(2), tf.neg(exponent));
    save([factor]);
    return { value: tf.mul(input, factor) as T, gradFunc: (dy, [saved]) => tf.mul(dy, saved!) };
  });
}

/**
 * The safe cosine: ⟨x, y⟩ / √(‖x‖²·‖y‖²) from the dot product and the two squared norms of
 * operands that were `rescaled` (so neither square underflows nor overflows), elementwise over
 * tensors of one shape. Where either operand is exactly zero the cosine is 0 with a zero
 * gradient (the direction of a zero vector is undefined; 0 is what makes 1 − cos a loss of 1
 * that pushes nowhere), never NaN: the root is taken of a sanitised product, then masked.
 */
export function safeCosine(dot: tf.Tensor, xx: tf.Tensor, yy: tf.Tensor): tf.Tensor {
  const product = tf.mul(xx, yy);
  const nonzero = isPositive(product);
  const safe = tf.where(nonzero, product, tf.onesLike(product));
  return tf.where(nonzero, tf.div(dot, tf.sqrt(safe)), tf.zerosLike(dot));
}

/** The cosine of each row pair of x and y ([N, D] each), [N]: the safe cosine of rescaled rows. */
export function rowCosine(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  const [a, b] = [rescaled(x, 'rows'), rescaled(y, 'rows')];
  return safeCosine(rowDot(a, b), rowDot(a, a), rowDot(b, b)) as tf.Tensor1D;
}

/**
 * Row normalisation: each row of x [N, D] divided by its Euclidean norm, so that products of
 * normalised rows are cosines (the safe cosine, computed once per row rather than per pair).
 * A zero row stays zero, with a zero gradient.
 */
export function unitRows(x: tf.Tensor2D): tf.Tensor2D {
  const y = rescaled(x, 'rows');
  const squares = tf.sum(tf.square(y), 1, true);
  const nonzero = isPositive(squares);
  const safe = tf.where(nonzero, squares, tf.onesLike(squares));
  return tf.where(nonzero, tf.div(y, tf.sqrt(safe)), tf.zerosLike(y)) as tf.Tensor2D;
}

/**
 * x > 0 for x ≥ 0 (a sum of squares), as a mask on the gradient tape: tfjs's comparison ops have
 * no gradient and break backpropagation through anything computed from them, while sign and cast
 * pass a zero gradient.
 */
const isPositive = (x: tf.Tensor): tf.Tensor => tf.cast(tf.sign(x), 'bool');
