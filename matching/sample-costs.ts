import * as tf from '@tensorflow/tfjs-core';
import type { TokenRows } from '../core/definitions.js';
import { type CostMetric, pairwiseCost } from './costs.js';

/**
 * Each sample's cost matrix between its teacher tokens (rows) and student tokens (columns),
 * [K_t(b) × K_s(b)] row-major, computed on the backend and read back together, asynchronously
 * (WebGPU in Node can only read that way). Samples without tokens on a side get an empty matrix.
 */
export async function sampleCosts(teacher: TokenRows, student: TokenRows, metric: CostMetric, probabilities: boolean): Promise<Float32Array[]> {
  const batch = student.selection.batch;
  const tensors: (tf.Tensor2D | undefined)[] = [];
  for (let b = 0; b < batch; b++) {
    const kt = teacher.selection.counts[b]!;
    const ks = student.selection.counts[b]!;
    if (kt === 0 || ks === 0) {
      tensors.push(undefined);
      continue;
    }
    const rows = (r: TokenRows, k: number) => tf.slice(r.values, [r.selection.offsets[b]!, 0], [k, r.values.shape[1]]);
    tensors.push(tf.tidy(() => pairwiseCost(rows(teacher, kt), rows(student, ks), metric, { probabilities })));
  }
  try {
    return await Promise.all(tensors.map(async (t) => (t === undefined ? new Float32Array(0) : ((await t.data()) as Float32Array))));
  } finally {
    tf.dispose(tensors.filter((t): t is tf.Tensor2D => t !== undefined));
  }
}
