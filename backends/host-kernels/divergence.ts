import * as tf from '@tensorflow/tfjs-core';
import type { TokenRows } from '../../core/definitions.js';
import { InputError } from '../../core/errors.js';
import type { JsonValue } from '../../core/graph.js';
import { withGradient } from '../../core/tensor-ops.js';
import type { DivergenceKernel, DivergenceOperands, DivergenceRule, RowView } from '../../losses/divergence.js';
import { expNonPositive, ROW_KINDS, type RowJob, type RowKind, rowOf, type Scratch, scratchFor } from './rows.js';
import { hostSimd } from './rows-simd.js';
import { runRows, threadedFor } from './threads.js';

/**
 * A divergence computed on the host in float64, one row at a time, for backends whose tensors
 * the host can read synchronously (cpu, wasm), where the tfjs composite runs a dozen kernels over
 * the whole [N, V] block and keeps their outputs for the backward pass.
 *
 * The shipped divergences but AKL have a closed-form row (`rows.ts`): two exponentials per entry
 * (a table-driven softplus more for JSD and the skew divergences), the loss and the gradient,
 * log-softmax step included, in float64 in the same sweep, rows shared out between threads
 * (`threads.ts`). AKL, whose head/tail split needs a selection per row, runs its rule's own
 * float64 row here, on the calling thread.
 *
 * Memory: the rows are read where the backend keeps them (on wasm a view of the module's heap,
 * which does not move while the kernel runs: nothing is allocated on it until the gradient is
 * handed over; on cpu `dataSync`, the backend's own array), and the gradient is written where its
 * tensor will live (on wasm straight into a block of the heap that becomes the gradient tensor, on
 * cpu an array the tensor keeps). Threads add two chunks of shared copies, a few MiB. A view
 * that selects some tokens of the logits (`next('response')`, one role among several) is read in
 * place, by row index, rather than gathered, and its gradient is written in the logits' own shape
 * (zeros at the rows not selected): a gather would copy both sides' selected rows, and scattering
 * a gradient of the selected rows back would make the gradient a second time. So a call holds one
 * [B·T × V] float array beyond its inputs: the gradient, which the backward pass needs.
 */
export const hostDivergenceKernel: DivergenceKernel = (op) => {
  const { rule, params, temperature, vocab, weights } = op;
  const [teacher, rowsA] = inPlace(op.teacher);
  const [studentRows, rowsB] = inPlace(op.student);
  const kind = rowKindOf(rule, params);
  return withGradient<tf.Scalar>(studentRows, (student) => {
    const [height, widthB] = student.shape as [number, number];
    const rows = rowsB?.length ?? height;
    const widthA = teacher.shape[1]!;
    // Allocated before the inputs are read: on wasm it may grow the heap, which moves its views.
    // Cleared where a row or column is not written: rows not selected, columns past `vocab`.
    const clear = rowsB !== null || vocab !== widthB || kind?.kind === ROW_KINDS.zero;
    let store: GradientStore | null = op.ctx.differentiating ? gradientStore(height, widthB, clear) : null;
    const grad = store?.view() ?? null;
    let loss = 0;
    if (kind === undefined) {
      loss = genericRows(op, hostRows(teacher), hostRows(student), rows, widthA, widthB, grad, rowsA, rowsB);
    } else if (kind.kind !== ROW_KINDS.zero) {
      const rowLoss = new Float64Array(rows);
      const job: RowJob = {
        kind: kind.kind,
        param: kind.param,
        a: hostRows(teacher),
        b: hostRows(student),
        widthA,
        widthB,
        vocab,
        invT: 1 / temperature,
        weights,
        rowLoss,
        grad,
        simd: hostSimd(),
        rowsA,
        rowsB,
      };
      scratch = scratchFor(vocab, scratch);
      runRows(job, rows, scratch, threadedFor(rows, vocab));
      // Summed in row order, whatever thread computed each row.
      for (let i = 0; i < rows; i++) loss += weights[i]! * rowLoss[i]!;
    }
    // The upstream scalar dy is applied on the host, sparing a backend multiply over [N, V].
    return {
      value: tf.scalar(loss),
      gradFunc: (dy) => {
        if (store === null) return tf.zerosLike(student);
        const tensor = store.tensor(dy.dataSync()[0]!);
        store = null;
        return tensor;
      },
    };
  });
};

/**
 * The tensor a kernel reads a side's rows from, with the row of each selected token in it: a
 * view's [B·T, V] logits and its selection's positions (null when they are every row in order),
 * else the rows themselves (an aligned teacher's gathered rows).
 */
function inPlace(rows: TokenRows): readonly [tf.Tensor2D, Int32Array | null] {
  if (rows.source === undefined) return [rows.values, null];
  const positions = rows.selection.positions;
  const every = positions.length === rows.source.shape[0] && positions.every((p, i) => p === i);
  return [rows.source, every ? null : positions];
}

/** The calling thread's scratch rows, reused from call to call. */
let scratch: Scratch | undefined;

/**
 * Where a kernel writes the gradient of the student's logits [rows × width] in its forward pass,
 * and how the backward pass hands it over as a tensor without a copy.
 */
interface GradientStore {
  /** The floats, row-major; on wasm a view of the heap, valid until something is allocated on it. */
  view(): Float32Array;
  /** The gradient times `scale`, as a tensor; called once. */
  tensor(scale: number): tf.Tensor;
}

function gradientStore(rows: number, width: number, clear: boolean): GradientStore {
  if (tf.getBackend() === 'wasm') {
    const heap = wasmHeapStore(rows, width, clear);
    if (heap !== undefined) return heap;
  }
  // cpu: a tensor made from an array keeps that array.
  const values = new Float32Array(rows * width);
  return {
    view: () => values,
    tensor: (scale) => {
      if (scale !== 1) for (let k = 0; k < values.length; k++) values[k]! *= scale;
      return tf.tensor2d(values, [rows, width]);
    },
  };
}

/** What the host kernels use of tfjs-backend-wasm's backend object (not part of its typed API). */
interface WasmBackendInternals {
  wasm?: { HEAPU8?: Uint8Array; _malloc?: (bytes: number) => number; _free?: (offset: number) => void };
  makeOutput?: (shape: number[], dtype: 'float32', memoryOffset: number) => tf.TensorInfo;
  dataIdMap?: { get(id: object): { memoryOffset?: number; dtype?: string } | undefined };
}

/**
 * Heap blocks of gradients whose backward pass never came (a forward pass differentiated but not
 * followed by one): freed when the gradient function holding them is collected.
 */
const unclaimed = new FinalizationRegistry<{ free: (offset: number) => void; offset: number }>(({ free, offset }) => free(offset));

/**
 * The gradient in a block of wasm's heap, allocated in the forward pass and handed to tfjs as the
 * gradient tensor's own memory (`makeOutput` with that offset, as a wasm kernel's output is): the
 * host copy and the copy into the heap that `tf.tensor` would make are both saved. Undefined if
 * the backend does not expose what this needs.
 */
function wasmHeapStore(rows: number, width: number, clear: boolean): GradientStore | undefined {
  const backend = tf.backend() as unknown as WasmBackendInternals;
  const module = backend.wasm;
  const { _malloc: malloc, _free: free } = module ?? {};
  if (module === undefined || malloc === undefined || free === undefined || backend.makeOutput === undefined) return undefined;
  const n = rows * width;
  // The allocator says whether the block fits (0 when the heap cannot grow to it; tfjs's own
  // writes abort instead). tfjs's count of live bytes is no guide: it counts a reshape's alias of
  // a buffer as a buffer of its own.
  const offset = malloc(4 * n) >>> 0;
  if (offset === 0) heapExhausted(4 * n, [rows, width], module.HEAPU8?.length ?? 0);
  // Held by `tensor` below, so alive as long as the gradient function is.
  const token = {};
  unclaimed.register(token, { free, offset }, token);
  const view = () => new Float32Array(module.HEAPU8!.buffer, offset, n);
  if (clear) view().fill(0);
  return {
    view,
    tensor: (scale) => {
      unclaimed.unregister(token);
      if (scale !== 1) {
        const values = view();
        for (let k = 0; k < n; k++) values[k]! *= scale;
      }
      // The tensor owns the block from here: disposing it frees it.
      return tf.engine().makeTensorFromTensorInfo(backend.makeOutput!([rows, width], 'float32', offset));
    },
  };
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
    const backend = tf.backend() as unknown as WasmBackendInternals;
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
  rowsA: Int32Array | null,
  rowsB: Int32Array | null,
): number {
  const { rule, params, temperature, vocab, weights } = op;
  const [sP, eP, sQ, eQ] = [new Float64Array(vocab), new Float64Array(vocab), new Float64Array(vocab), new Float64Array(vocab)];
  const h = grad === null ? null : new Float64Array(vocab);
  const invT = 1 / temperature;
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const [oa, ob] = [rowOf(rowsA, i) * widthA, rowOf(rowsB, i) * widthB];
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
 * ("memory access out of bounds") or an abort, not an error; a gradient that cannot be allocated
 * beside the tensors alive is refused here, naming the sizes and the limit.
 */
function heapExhausted(bytes: number, shape: readonly number[], heapBytes: number): never {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  throw new InputError(
    `the gradient of the student's logits [${shape.join(', ')}] needs ${mib(bytes)} of wasm's heap, which holds ${mib(heapBytes)} already ` +
      `and cannot grow past 4 GiB; use fewer tokens per step, or the cpu backend`,
  );
}
