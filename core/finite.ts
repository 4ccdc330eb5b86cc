import * as tf from '@tensorflow/tfjs-core';
import { formatShape, InputError } from './errors.js';

/**
 * Throws an `InputError` naming the tensor and the first non-finite entry (as a multi-index) if
 * x holds NaN or ±Infinity. The common case costs one reduction on the backend and one scalar
 * read: 0·x sums to NaN exactly when some entry is not finite. The full read happens only to
 * locate a bad entry.
 */
export async function assertFinite(x: tf.Tensor, name: string): Promise<void> {
  if (x.size === 0) return;
  const probe = tf.tidy(() => tf.sum(tf.mul(x, 0)));
  const [value] = await probe.data();
  probe.dispose();
  if (Number.isFinite(value)) return;
  const data = await x.data();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      throw new InputError(`${name} ${formatShape(x.shape)} holds ${v} at index ${formatIndex(i, x.shape)}`);
    }
  }
}

/** Flat index → `[b, t, v]`. */
export function formatIndex(flat: number, shape: readonly number[]): string {
  const index: number[] = [];
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(rest % shape[d]!);
    rest = Math.floor(rest / shape[d]!);
  }
  return `[${index.join(', ')}]`;
}
