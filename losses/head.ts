import * as tf from '@tensorflow/tfjs-core';
import type { LoweringContext, TokenRows } from '../core/definitions.js';
import { rowsShape } from '../core/definitions.js';
import { formatShape, InputError } from '../core/errors.js';
import { addAll } from '../core/tensor-ops.js';

/**
 * Token-row losses on an LM head's logits view (Liger-Kernel's fused linear losses): the rows'
 * logits z = hidden · Wᵀ + b are made one chunk of rows at a time, never [N × V] whole, and the
 * gradient is computed in closed form in the forward pass, chunk by chunk:
 *   G = ∂ℓ/∂z = (w_i / T) · (h − q ⊙ Σ_v h_v)      (h = ∂ℓ_i/∂log q, the rule's; q = softmax(z/T))
 *   ∂ℓ/∂hidden = G · W,   ∂ℓ/∂W = Σ_chunks Gᵀ · hidden,   ∂ℓ/∂b = Σ_rows G
 * so what outlives the forward pass is [N × H] + [V × H] + [V], and the backward pass only
 * multiplies them by dy. A student given as materialised logits (beside a teacher given as a
 * head) gets its [N × V] gradient the same way, chunk by chunk.
 *
 * Each chunk holds whole rows, so its log-softmax is exact (no statistics across chunks).
 * Columns past `vocab` (a truncated vocabulary) are not computed and get zero gradient.
 */
export interface HeadLossOperands {
  readonly ctx: LoweringContext;
  /** The student's rows: an LM head's view (`head`), or materialised logits. */
  readonly student: TokenRows;
  readonly temperature: number;
  /** Columns compared: the first `vocab` logits of every row. */
  readonly vocab: number;
  /** Per-row weights of the reduction (0 for rows that do not count). */
  readonly weights: Float32Array;
  /** Rows a chunk. */
  readonly chunkRows: number;
  /**
   * One chunk's per-row loss ℓ [n] from the student's log-probabilities log q [n, vocab], and,
   * when `grad`, h = ∂ℓ_i/∂log q [n, vocab] (any multiple of q may be added or dropped).
   */
  perChunk(r0: number, n: number, logQ: tf.Tensor2D, grad: boolean): { readonly loss: tf.Tensor1D; readonly h?: tf.Tensor2D };
}

/** Σ_i w_i ℓ_i over the student's rows, differentiable in the student's head (or logits); see `HeadLossOperands`. */
export function chunkedHeadLoss(op: HeadLossOperands): tf.Scalar {
  const { ctx, student, temperature, vocab, weights, chunkRows } = op;
  const [rows, width] = rowsShape(student);
  const chunks: Array<readonly [number, number]> = [];
  for (let r = 0; r < rows; r += chunkRows) chunks.push([r, Math.min(chunkRows, rows - r)]);
  const head = student.head;
  const sources: tf.Tensor[] = head === undefined ? [student.values] : [head.hidden, head.weight, ...(head.bias === undefined ? [] : [head.bias])];

  const run = (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const inputs = args.slice(0, sources.length) as tf.Tensor[];
    const rowsOf: { readonly values?: tf.Tensor2D; readonly head?: Head } = inputs.length === 1 ? { values: inputs[0] as tf.Tensor2D } : headOf(inputs);
    // The head's first `vocab` rows, sliced once (a truncated vocabulary computes no more).
    const cut = rowsOf.head === undefined ? undefined : truncatedHead(rowsOf.head, vocab);
    const grad = ctx.differentiating;
    let gW: tf.Tensor2D | undefined;
    let gB: tf.Tensor1D | undefined;
    const gRows: tf.Tensor2D[] = [];
    const sums: tf.Scalar[] = [];
    for (const [r0, n] of chunks) {
      const out = tf.tidy(() => {
        const z = cut === undefined ? sliceColumns(rowsOf.values!, r0, n, vocab) : chunkLogits(cut, r0, n);
        const logQ = tf.logSoftmax(temperature === 1 ? z : tf.div(z, temperature)) as tf.Tensor2D;
        const w = tf.tensor1d(weights.subarray(r0, r0 + n));
        const { loss, h } = op.perChunk(r0, n, logQ, grad);
        const sum = tf.sum(tf.mul(loss, w)) as tf.Scalar;
        if (!grad) return { sum };
        const g = tf.mul(tf.sub(h!, tf.mul(tf.exp(logQ), tf.sum(h!, 1, true))), tf.reshape(tf.div(w, temperature), [n, 1])) as tf.Tensor2D;
        if (cut === undefined)
          return {
            sum,
            rows:
              vocab === width
                ? g
                : (tf.pad(g, [
                    [0, 0],
                    [0, width - vocab],
                  ]) as tf.Tensor2D),
          };
        const hidden = tf.slice(cut.hidden, [r0, 0], [n, cut.hidden.shape[1]]);
        const dW = tf.matMul(g, hidden, true, false) as tf.Tensor2D;
        const dB = cut.bias === undefined ? undefined : (tf.sum(g, 0) as tf.Tensor1D);
        return {
          sum,
          rows: tf.matMul(g, cut.weight) as tf.Tensor2D,
          w: gW === undefined ? dW : (tf.add(gW, dW) as tf.Tensor2D),
          b: dB === undefined ? undefined : gB === undefined ? dB : (tf.add(gB, dB) as tf.Tensor1D),
        };
      });
      sums.push(out.sum);
      if (out.rows !== undefined) gRows.push(out.rows);
      if (out.w !== undefined) {
        gW?.dispose();
        gW = out.w;
      }
      if (out.b !== undefined) {
        gB?.dispose();
        gB = out.b;
      }
    }
    if (cut !== undefined && cut !== rowsOf.head) tf.dispose([cut.weight, ...(cut.bias === undefined ? [] : [cut.bias])]);
    const value = sums.length === 1 ? sums[0]! : (addAll(sums, ctx.maxKernelInputs) as tf.Scalar);
    // The gradients, computed here, wait for the backward pass that follows every differentiating
    // evaluation (kept, as the chunked kernel keeps its rows); it releases them.
    const kept: tf.Tensor[] = [];
    if (grad) {
      const all = gRows.length === 1 ? gRows[0]! : tf.concat(gRows, 0);
      if (gRows.length > 1) tf.dispose(gRows);
      kept.push(all);
      if (rowsOf.head !== undefined) {
        const [fullV, hiddenWidth] = rowsOf.head.weight.shape;
        kept.push(vocab === fullV ? gW! : padRows(gW!, fullV - vocab, hiddenWidth));
        if (rowsOf.head.bias !== undefined) kept.push(vocab === fullV ? gB! : (tf.pad(gB!, [[0, fullV - vocab]]) as tf.Tensor1D));
      }
      for (const t of kept) tf.keep(t);
    }
    return {
      value,
      gradFunc: (dy: tf.Scalar) => {
        if (!grad) throw new Error('internal: an LM-head loss evaluated without gradients was differentiated');
        const out = kept.map((g) => tf.mul(g, dy));
        tf.dispose(kept);
        return out;
      },
    };
  };
  // tfjs types the custom function's arguments as one loose rest array (see `withGradient`).
  return tf.customGrad(run as unknown as Parameters<typeof tf.customGrad>[0])(...sources) as tf.Scalar;
}

type Head = NonNullable<TokenRows['head']>;

const headOf = (inputs: readonly tf.Tensor[]): { readonly head: Head } => ({
  head: {
    hidden: inputs[0] as tf.Tensor2D,
    weight: inputs[1] as tf.Tensor2D,
    ...(inputs[2] === undefined ? {} : { bias: inputs[2] as tf.Tensor1D }),
  },
});

/** The head restricted to its first `vocab` output rows (itself when nothing is cut). */
function truncatedHead(head: Head, vocab: number): Head {
  const [v, h] = head.weight.shape;
  if (vocab === v) return head;
  return {
    hidden: head.hidden,
    weight: tf.slice(head.weight, [0, 0], [vocab, h]),
    ...(head.bias === undefined ? {} : { bias: tf.slice(head.bias, [0], [vocab]) }),
  };
}

/** Rows r0 … r0+n−1 of the head's logits: hidden · Wᵀ + b. */
export function chunkLogits(head: Head, r0: number, n: number): tf.Tensor2D {
  const hidden = r0 === 0 && n === head.hidden.shape[0] ? head.hidden : tf.slice(head.hidden, [r0, 0], [n, head.hidden.shape[1]]);
  const z = tf.matMul(hidden, head.weight, false, true) as tf.Tensor2D;
  return head.bias === undefined ? z : (tf.add(z, head.bias) as tf.Tensor2D);
}

/** Rows r0 … r0+n−1 and the first `vocab` columns of materialised rows, or of a head's view. */
export function logitsChunk(rows: TokenRows, r0: number, n: number, vocab: number): tf.Tensor2D {
  if (rows.head === undefined) return sliceColumns(rows.values, r0, n, vocab);
  return chunkLogits(truncatedHead(rows.head, vocab), r0, n);
}

function sliceColumns(x: tf.Tensor2D, r0: number, n: number, vocab: number): tf.Tensor2D {
  return r0 === 0 && n === x.shape[0] && vocab === x.shape[1] ? x : tf.slice(x, [r0, 0], [n, vocab]);
}

const padRows = (x: tf.Tensor2D, extra: number, width: number): tf.Tensor2D => tf.concat([x, tf.zeros([extra, width])], 0) as tf.Tensor2D;

/**
 * Rows a chunk for an LM-head loss: as many as fit `chunkBytes` at `vocab` float32 columns (each
 * chunk makes a few [chunk × vocab] temporaries), never a block larger than one binding. A head
 * whose weight is larger than one binding cannot be multiplied by any tfjs kernel: an error naming
 * the sizes.
 */
export function headChunkRows(
  name: string,
  sides: ReadonlyArray<readonly [string, TokenRows]>,
  vocab: number,
  limit: number,
  chunkBytes: number,
  chunkRows?: number,
): number {
  for (const [side, rows] of sides) {
    const t = rows.head === undefined ? rows.values : rows.head.weight;
    const bytes = 4 * t.size;
    if (bytes > limit) {
      throw new InputError(
        `${name}: the ${side}'s ${rows.head === undefined ? 'logits rows' : 'LM-head weight'} ${formatShape(t.shape)} take ${mib(bytes)}, more than one storage binding of this backend (${mib(limit)}); use fewer tokens per step or a smaller head`,
      );
    }
  }
  const [rows] = rowsShape(sides[sides.length - 1]![1]);
  const fit = Math.floor(Math.min(chunkBytes, limit) / (4 * vocab));
  return Math.max(1, Math.min(rows, chunkRows ?? fit));
}

/** Bytes of one [chunk × V] float32 block of an LM-head loss by default (as the chunked divergences). */
export const DEFAULT_HEAD_CHUNK_BYTES = 32 * 2 ** 20;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
