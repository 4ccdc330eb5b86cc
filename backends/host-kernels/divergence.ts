import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../core/errors.js';
import type { JsonValue } from '../../core/graph.js';
import { withGradient } from '../../core/tensor-ops.js';
import type { DivergenceKernel, DivergenceOperands, DivergenceRule, RowView } from '../../losses/divergence.js';
import { expNonPositive, ROW_KINDS, type RowJob, type RowKind, type Scratch, scratchFor } from './rows.js';
import { runRows, threadedFor } from './threads.js';

/**
 * A divergence computed on the host in float64, one row at a time, for backends whose tensors
 * the host can read synchronously (cpu, wasm), where the tfjs composite runs a dozen kernels over
 * the whole [N, V] block and keeps their outputs for the backward pass.
 *
 * The shipped divergences but AKL have a closed-form row (`rows.ts`): two exponentials per entry
 * (a `log` more for JSD and the skew divergences), the loss and the gradient, log-softmax step
 * included, in float64 in the same sweep, rows shared out between threads (`threads.ts`). AKL,
 * whose head/tail split needs a selection per row, runs its rule's own float64 row here, on the
 * calling thread. The gradient becomes a tensor only when the backward pass asks for it.
 *
 * Reading: on wasm the rows are read in place from the module's heap when single-threaded (the
 * heap does not move while the kernel runs: nothing is allocated on it until the loss), and
 * copied once into shared memory when threaded; on cpu `dataSync` returns the backend's own
 * array, copied only when threaded.
 */
export const hostDivergenceKernel: DivergenceKernel = (op) => {
  const { rule, params, temperature, vocab, weights } = op;
  const teacher = op.teacher.values;
  const kind = rowKindOf(rule, params);
  return withGradient<tf.Scalar>(op.student.values, (student) => {
    const [rows, widthB] = student.shape as [number, number];
    const widthA = teacher.shape[1]!;
    const differentiating = op.ctx.differentiating;
    let loss = 0;
    let grad: Float32Array | null = null;
    if (kind === undefined) {
      grad = differentiating ? new Float32Array(rows * widthB) : null;
      loss = genericRows(op, hostRows(teacher), hostRows(student), rows, widthA, widthB, grad);
    } else {
      const threaded = threadedFor(rows, vocab);
      const floats = (n: number) => (threaded ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n));
      const rowsOf = (t: tf.Tensor, slot: 0 | 1) => {
        const view = hostRows(t);
        if (!threaded) return view;
        const copy = stagingFloats(slot, view.length);
        copy.set(view);
        return copy;
      };
      grad = differentiating ? gradBuffer(rows * widthB, threaded, vocab !== widthB || kind.kind === ROW_KINDS.zero) : null;
      const rowLoss = threaded ? new Float64Array(new SharedArrayBuffer(8 * rows)) : new Float64Array(rows);
      const shared = threaded ? floats(rows) : weights;
      if (threaded) shared.set(weights);
      const job: RowJob = {
        kind: kind.kind,
        param: kind.param,
        a: rowsOf(teacher, 0),
        b: rowsOf(student, 1),
        widthA,
        widthB,
        vocab,
        invT: 1 / temperature,
        weights: shared,
        rowLoss,
        grad,
      };
      scratch = scratchFor(vocab, scratch);
      runRows(job, rows, scratch, threaded);
      // Summed in row order, whatever thread computed each row.
      for (let i = 0; i < rows; i++) loss += weights[i]! * rowLoss[i]!;
    }
    // The upstream scalar dy is applied on the host, sparing a backend multiply over [N, V].
    return {
      value: tf.scalar(loss),
      gradFunc: (dy) => {
        if (grad === null) return tf.zerosLike(student);
        checkHeap(grad.byteLength, [rows, widthB]);
        const scale = dy.dataSync()[0]!;
        if (scale !== 1) for (let k = 0; k < grad.length; k++) grad[k]! *= scale;
        const tensor = tf.tensor2d(grad, [rows, widthB]);
        // wasm copied the values into its heap: the buffer can serve a later call.
        if (tf.getBackend() === 'wasm') releaseGradBuffer(grad);
        grad = null;
        return tensor;
      },
    };
  });
};

/** The calling thread's scratch rows, reused from call to call. */
let scratch: Scratch | undefined;

/**
 * Shared buffers the logits are copied into for the workers, kept and reused (grown as needed):
 * a fresh SharedArrayBuffer per call costs its page faults every step, and the runtime frees
 * them lazily. Read only during a forward pass, so reuse is safe; the gradient, which outlives
 * the call until the backward pass, gets a buffer of its own.
 */
const staging: SharedArrayBuffer[] = [];

/**
 * Gradient buffers handed back by backward passes on wasm (whose tensors copy their values into
 * the heap), for later calls: a [N × V] buffer per step would otherwise wait for the collector
 * (shared buffers are freed lazily), and the process's memory grow by one per step until it runs.
 * At most two are kept. On cpu the gradient tensor keeps its buffer, so none comes back.
 */
const freeGrads: ArrayBufferLike[] = [];
function gradBuffer(n: number, shared: boolean, clear: boolean): Float32Array {
  const k = freeGrads.findIndex((b) => b.byteLength >= 4 * n && b instanceof SharedArrayBuffer === shared);
  if (k < 0) return new Float32Array(shared ? new SharedArrayBuffer(4 * n) : new ArrayBuffer(4 * n));
  const view = new Float32Array(freeGrads.splice(k, 1)[0]!, 0, n);
  // Rows write the first `vocab` columns only; the rest must be 0.
  if (clear) view.fill(0);
  return view;
}
function releaseGradBuffer(grad: Float32Array): void {
  if (freeGrads.length < 2) freeGrads.push(grad.buffer);
}
function stagingFloats(slot: 0 | 1, n: number): Float32Array {
  const held = staging[slot];
  if (held === undefined || held.byteLength < 4 * n) staging[slot] = new SharedArrayBuffer(4 * n);
  return new Float32Array(staging[slot]!, 0, n);
}

/**
 * The closed-form row of a shipped divergence with its parameter, the endpoints of β and α
 * resolved (JSD at β = 0 / 1 is the forward / reverse KL; a skew divergence at α = 0 is its
 * plain KL, at α = 1 identically 0); undefined for AKL.
 */
function rowKindOf(rule: DivergenceRule, params: Readonly<Record<string, JsonValue>>): { kind: RowKind; param: number } | undefined {
  const own = (key: string) => Number(params[key] ?? rule.defaults[key]);
  const plain = (kind: RowKind) => ({ kind, param: 0 });
  switch (rule.name) {
    case 'forwardKL':
      return plain(ROW_KINDS.forwardKL);
    case 'reverseKL':
      return plain(ROW_KINDS.reverseKL);
    case 'softCE':
      return plain(ROW_KINDS.softCE);
    case 'tvd':
      return plain(ROW_KINDS.tvd);
    case 'jsd': {
      const beta = own('beta');
      return beta === 0 ? plain(ROW_KINDS.forwardKL) : beta === 1 ? plain(ROW_KINDS.reverseKL) : { kind: ROW_KINDS.jsd, param: beta };
    }
    case 'skewKL':
    case 'skewReverseKL': {
      const alpha = own('alpha');
      const atZero = rule.name === 'skewKL' ? ROW_KINDS.forwardKL : ROW_KINDS.reverseKL;
      if (alpha === 0) return plain(atZero);
      if (alpha === 1) return plain(ROW_KINDS.zero);
      return { kind: rule.name === 'skewKL' ? ROW_KINDS.skewKL : ROW_KINDS.skewReverseKL, param: alpha };
    }
    default:
      return undefined;
  }
}

/**
 * A float32 tensor's values on the host: on wasm a view of the module's heap (valid until the
 * heap grows, so read before anything is allocated on it), elsewhere `dataSync`.
 */
function hostRows(t: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm') {
    const backend = tf.backend() as unknown as {
      dataIdMap?: { get(id: object): { memoryOffset?: number; dtype?: string } | undefined };
      wasm?: { HEAPU8?: Uint8Array };
    };
    const entry = backend.dataIdMap?.get(t.dataId);
    const heap = backend.wasm?.HEAPU8;
    if (entry?.dtype === 'float32' && typeof entry.memoryOffset === 'number' && heap !== undefined && entry.memoryOffset % 4 === 0) {
      return new Float32Array(heap.buffer, heap.byteOffset + entry.memoryOffset, t.size);
    }
  }
  return t.dataSync() as Float32Array;
}

/**
 * A rule's own float64 row (AKL): exponentials as in `rows.ts`, then the rule's ℓ and ∂ℓ/∂log q,
 * projected through the log-softmax, ∂/∂b_v = (w/T)·(h_v − q_v Σ_u h_u), in float64.
 */
function genericRows(
  op: DivergenceOperands,
  a: Float32Array,
  b: Float32Array,
  rows: number,
  widthA: number,
  widthB: number,
  grad: Float32Array | null,
): number {
  const { rule, params, temperature, vocab, weights } = op;
  const [sP, eP, sQ, eQ] = [new Float64Array(vocab), new Float64Array(vocab), new Float64Array(vocab), new Float64Array(vocab)];
  const h = grad === null ? null : new Float64Array(vocab);
  const invT = 1 / temperature;
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const [oa, ob] = [i * widthA, i * widthB];
    let maxA = -Infinity;
    let maxB = -Infinity;
    for (let v = 0; v < vocab; v++) {
      if (a[oa + v]! > maxA) maxA = a[oa + v]!;
      if (b[ob + v]! > maxB) maxB = b[ob + v]!;
    }
    let sumA = 0;
    let sumB = 0;
    for (let v = 0; v < vocab; v++) {
      const da = (a[oa + v]! - maxA) * invT;
      const db = (b[ob + v]! - maxB) * invT;
      sP[v] = da;
      sQ[v] = db;
      const ea = expNonPositive(da);
      const eb = expNonPositive(db);
      eP[v] = ea;
      eQ[v] = eb;
      sumA += ea;
      sumB += eb;
    }
    const view: RowView = { vocab, sP, eP, invP: 1 / sumA, logSumP: Math.log(sumA), sQ, eQ, invQ: 1 / sumB, logSumQ: Math.log(sumB) };
    loss += weights[i]! * rule.row(view, h, params);
    if (h !== null && grad !== null) {
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += h[v]!;
      const coefficient = weights[i]! * invT;
      const qScale = view.invQ * sum;
      for (let v = 0; v < vocab; v++) grad[ob + v] = coefficient * (h[v]! - eQ[v]! * qScale);
    }
  }
  return loss;
}

/**
 * wasm's heap stops at 4 GiB, and tfjs-backend-wasm reports an exhausted heap as a crash
 * ("memory access out of bounds") or an abort, not an error; a gradient that cannot fit beside
 * the tensors alive is refused here, naming the sizes and the limit.
 */
function checkHeap(bytes: number, shape: readonly number[]): void {
  if (tf.getBackend() !== 'wasm') return;
  const live = tf.memory().numBytes;
  if (live + bytes > WASM_HEAP_LIMIT) {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    throw new InputError(
      `the gradient of the student's logits [${shape.join(', ')}] needs ${mib(bytes)} of wasm's heap beside ${mib(live)} of tensors alive, ` +
        `past its limit of 4 GiB (${mib(WASM_HEAP_LIMIT)} usable); use fewer tokens per step, or the cpu backend`,
    );
  }
}

/** What tfjs's wasm module can hold: 4 GiB less what it needs for itself. */
const WASM_HEAP_LIMIT = 4 * 2 ** 30 - 256 * 2 ** 20;
