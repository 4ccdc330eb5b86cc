import * as tf from '@tensorflow/tfjs-core';
import type { TokenRows, TopKRows } from '../core/definitions.js';
import { InputError } from '../core/errors.js';
import type { Alignment } from '../core/plan.js';
import type { Selection } from '../core/selection.js';

/**
 * Each student token takes one teacher token: `teacherRow[k]` is the row of the teacher's view
 * (0 … N_t−1) paired with the k-th selected student token. A one-to-one matching (Hungarian,
 * identity) or not (nearest neighbour). The teacher is frozen, so the gather needs no gradient.
 */
export function gatherAlignment(teacherRow: Int32Array): Alignment {
  return {
    apply: (teacher: TokenRows, student: Selection): TokenRows =>
      teacher.topk !== undefined
        ? gatherSignals(teacher.topk, teacherRow, student)
        : {
            values:
              teacherRow.length === 0
                ? tf.slice(teacher.values, [0, 0], [0, teacher.values.shape[1]])
                : tf.gather(teacher.values, tf.tensor1d(teacherRow, 'int32')),
            selection: student,
          },
  };
}

/** Offline top-k signals' rows gathered by a one-to-one (or nearest) matching: host arrays, no tensor. */
function gatherSignals(topk: TopKRows, teacherRow: Int32Array, student: Selection): TokenRows {
  const { k } = topk;
  const n = teacherRow.length;
  const out: TopKRows = { ...topk, ids: new Int32Array(n * k), logProbs: new Float32Array(n * k), logTail: new Float32Array(n) };
  teacherRow.forEach((r, i) => {
    out.ids.set(topk.ids.subarray(r * k, (r + 1) * k), i * k);
    out.logProbs.set(topk.logProbs.subarray(r * k, (r + 1) * k), i * k);
    out.logTail[i] = topk.logTail[r]!;
  });
  return {
    get values(): tf.Tensor2D {
      throw new Error('internal: aligned teacher.topk rows hold top-k signals, not logits rows; this lowering must read TokenRows.topk');
    },
    selection: student,
    topk: out,
  };
}

/**
 * Each student token takes a weighted mix of its sample's teacher tokens: `weights[b]` is a
 * [K_s(b), K_t(b)] row-major matrix whose rows sum to 1 (grid average pooling, a Sinkhorn plan).
 */
export function mixAlignment(weights: readonly Float32Array[]): Alignment {
  return {
    apply: (teacher: TokenRows, student: Selection): TokenRows => {
      if (teacher.topk !== undefined) {
        throw new InputError(
          'a soft plan (pooling, Sinkhorn) mixes teacher rows, which top-k signals cannot be: align teacher.topk with a one-to-one matcher (hungarian, identity, nearest)',
        );
      }
      const width = teacher.values.shape[1];
      const parts: tf.Tensor2D[] = [];
      for (let b = 0; b < student.batch; b++) {
        const ks = student.counts[b]!;
        const kt = teacher.selection.counts[b]!;
        if (ks === 0) continue;
        const rows = tf.slice(teacher.values, [teacher.selection.offsets[b]!, 0], [kt, width]);
        parts.push(tf.matMul(tf.tensor2d(weights[b]!, [ks, kt]), rows));
      }
      const values = parts.length === 0 ? tf.zeros([0, width]) : parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
      return { values: values as tf.Tensor2D, selection: student };
    },
  };
}
