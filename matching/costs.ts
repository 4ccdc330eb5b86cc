import * as tf from '@tensorflow/tfjs-core';
import type { JsonValue } from '../core/graph.js';
import { unitRows } from '../core/safe-math.js';

/** How far apart two token vectors are. */
export type CostMetric = 'l1' | 'l2' | 'cosine';

export const COST_METRICS: readonly CostMetric[] = ['l1', 'l2', 'cosine'];

export const isCostMetric = (value: JsonValue | undefined): value is CostMetric =>
  typeof value === 'string' && (COST_METRICS as readonly string[]).includes(value);

/** What a cost-based matcher's params say about its cost. */
export type CostParams = {
  readonly cost: CostMetric;
  /** Compare softmax rows rather than raw vectors. */
  readonly probabilities: boolean;
};

/**
 * The cost params of a validated matcher node (`checkCostParams` reported anything else), so
 * matchers read a typed metric instead of casting the JSON.
 */
export function decodeCostParams(params: Readonly<Record<string, JsonValue>>): CostParams {
  const { cost, probabilities } = params;
  if (!isCostMetric(cost) || typeof probabilities !== 'boolean') {
    throw new Error(`internal: cost params reached a matcher unvalidated: ${JSON.stringify({ cost, probabilities })}`);
  }
  return { cost, probabilities };
}

/**
 * Pairwise costs between the rows of a [n, D] and b [m, D], as an [n, m] tensor:
 * - `l1`: Σ_d |a_d − b_d| (EM-KD's Manhattan distance between vision logits);
 * - `l2`: ‖a − b‖₂, from ‖a‖² + ‖b‖² − 2a·b (clamped at 0 before the root);
 * - `cosine`: 1 − ⟨a, b⟩ / (‖a‖·‖b‖), with the safe row normalisation of `core/safe-math.ts` (exact
 *   at any scale; a zero row has cosine 0, so cost 1, with every other row).
 * L1 has no matrix-product form, so it is computed over chunks of a's rows, each chunk's
 * [c, m, D] difference kept under `budget` elements: never the whole [n × m × D] tensor (576 ×
 * 144 × 151936 floats would be 50 GB). `probabilities` compares softmax rows instead of raw values.
 */
export function pairwiseCost(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  metric: CostMetric,
  options: { readonly probabilities?: boolean; readonly budget?: number } = {},
): tf.Tensor2D {
  return tf.tidy(() => {
    const [x, y] = options.probabilities ? [tf.softmax(a), tf.softmax(b)] : [a, b];
    if (metric === 'l2') {
      const squares = tf.add(tf.sum(tf.square(x), 1, true), tf.transpose(tf.sum(tf.square(y), 1, true)));
      return tf.sqrt(tf.relu(tf.sub(squares, tf.mul(tf.matMul(x, y, false, true), 2)))) as tf.Tensor2D;
    }
    if (metric === 'cosine') {
      return tf.sub(1, tf.matMul(unitRows(x), unitRows(y), false, true)) as tf.Tensor2D;
    }
    const [n, width] = x.shape;
    const m = y.shape[0];
    const rows = Math.max(1, Math.floor((options.budget ?? 2 ** 24) / Math.max(1, m * width)));
    const chunks: tf.Tensor2D[] = [];
    for (let start = 0; start < n; start += rows) {
      const size = Math.min(rows, n - start);
      const chunk = tf.slice(x, [start, 0], [size, width]);
      chunks.push(tf.sum(tf.abs(tf.sub(tf.expandDims(chunk, 1), tf.expandDims(y, 0))), 2) as tf.Tensor2D);
    }
    return chunks.length === 1 ? chunks[0]! : (tf.concat(chunks, 0) as tf.Tensor2D);
  });
}
