/**
 * The tfjs kernels mmkd's distillation losses lower to, each run forward and (where tfjs defines
 * one) through its gradient, on fixed pseudo-random inputs. Used to check a backend against the
 * cpu reference, in Node and in a browser tab. Shapes are deliberately not multiples of common
 * workgroup tiles (8, 16, 32), so edge handling is exercised.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type NumericCheck, seededNormals, type Tolerance } from './numeric-checks.js';

function normal(seed: number, shape: number[], scale = 1): tf.Tensor {
  return tf.tensor(
    seededNormals(
      seed,
      shape.reduce((a, b) => a * b, 1),
      scale,
    ),
    shape,
    'float32',
  );
}

function ints(values: number[], shape?: number[]): tf.Tensor {
  return tf.tensor(values, shape ?? [values.length], 'int32');
}

/** Reads every output asynchronously (WebGPU in Node cannot read synchronously), then frees them. */
async function read(tensors: readonly tf.Tensor[]): Promise<number[]> {
  const out: number[] = [];
  try {
    for (const tensor of tensors) for (const value of await tensor.data()) out.push(Number(value));
  } finally {
    tf.dispose([...tensors]);
  }
  return out;
}

function check(name: string, kernels: readonly string[], build: () => tf.Tensor[], tolerance?: Tolerance): NumericCheck {
  return {
    name,
    kernels,
    ...(tolerance ? { tolerance } : {}),
    run: () => read(tf.tidy(build)),
  };
}

/** Σ w ⊙ f(x): a scalar whose gradient is w pushed back through f. */
function weighted(y: tf.Tensor, seed: number): tf.Scalar {
  return tf.sum(tf.mul(y, normal(seed, y.shape)));
}

const grad1 = (f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, seed: number): tf.Tensor => tf.grad((v: tf.Tensor) => weighted(f(v), seed))(x);

const grads = (f: (xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], seed: number): tf.Tensor[] => tf.grads((...vs: tf.Tensor[]) => weighted(f(vs), seed))(xs);

/** KL(p_t ‖ p_s) per row, from logits, averaged: the core of every divergence in mmkd. */
function forwardKl(teacher: tf.Tensor, student: tf.Tensor): tf.Scalar {
  const logT = tf.logSoftmax(teacher);
  const logS = tf.logSoftmax(student);
  return tf.mean(tf.sum(tf.mul(tf.exp(logT), tf.sub(logT, logS)), -1));
}

function reverseKl(teacher: tf.Tensor, student: tf.Tensor): tf.Scalar {
  return forwardKl(student, teacher);
}

export const kernelChecks: readonly NumericCheck[] = [
  check('logSoftmax', ['Max', 'Sub', 'Exp', 'Sum', 'Log'], () => [tf.logSoftmax(normal(1, [5, 37], 3))]),
  check('logSoftmax.grad', ['Exp', 'Sum', 'Mul', 'Sub'], () => [grad1((x) => tf.logSoftmax(x), normal(2, [5, 37], 3), 3)]),
  check('softmax', ['Softmax'], () => [tf.softmax(normal(4, [6, 41], 2))]),
  check('softmax.grad', ['Softmax', 'Mul', 'Sum', 'Sub'], () => [grad1((x) => tf.softmax(x), normal(5, [6, 41], 2), 6)]),
  check('exp.log', ['Exp', 'Log'], () => {
    const x = normal(7, [9, 19]);
    return [tf.exp(x), tf.log(tf.add(tf.abs(x), 0.25))];
  }),
  check('exp.log.grad', ['Exp', 'Log', 'RealDiv'], () => {
    const x = normal(8, [9, 19]);
    return [grad1((v) => tf.exp(v), x, 9), grad1((v) => tf.log(tf.add(tf.square(v), 0.25)), x, 10)];
  }),
  check('sum.max', ['Sum', 'Max'], () => {
    const x = normal(11, [7, 53]);
    return [tf.sum(x, 1), tf.max(x, 1), tf.sum(x), tf.max(x, 0)];
  }),
  check('sum.max.grad', ['Sum', 'Max', 'Equal', 'Cast', 'Mul'], () => {
    const x = normal(12, [7, 53]);
    return [grad1((v) => tf.sum(v, 1), x, 13), grad1((v) => tf.max(v, 1), x, 14)];
  }),
  check('matMul', ['BatchMatMul'], () => {
    const a = normal(15, [17, 40]);
    const b = normal(16, [40, 23]);
    return [tf.matMul(a, b), tf.matMul(a, normal(17, [23, 40]), false, true)];
  }),
  check('matMul.grad', ['BatchMatMul'], () => grads(([a, b]) => tf.matMul(a!, b!), [normal(18, [17, 40]), normal(19, [40, 23])], 20)),
  check('batchMatMul', ['BatchMatMul'], () => [tf.matMul(normal(21, [3, 9, 16]), normal(22, [3, 16, 11]))]),
  check('batchMatMul.grad', ['BatchMatMul', 'Sum'], () => grads(([a, b]) => tf.matMul(a!, b!), [normal(23, [3, 9, 16]), normal(24, [3, 16, 11])], 25)),
  check('gather', ['GatherV2'], () => {
    const x = normal(26, [8, 13]);
    return [tf.gather(x, ints([7, 0, 3, 3, 5]), 0), tf.gather(x, ints([12, 1, 1, 4]), 1)];
  }),
  check('gather.grad', ['GatherV2', 'UnsortedSegmentSum', 'Transpose'], () => {
    const x = normal(27, [8, 13]);
    return [grad1((v) => tf.gather(v, ints([7, 0, 3, 3, 5]), 0), x, 28), grad1((v) => tf.gather(v, ints([12, 1, 1, 4]), 1), x, 29)];
  }),
  // tfjs registers no gradient for ScatterNd or TopK on any backend; they are used outside autograd.
  check('scatterND', ['ScatterNd'], () => [tf.scatterND(ints([1, 3, 1, 5], [4, 1]), normal(30, [4, 6]), [7, 6])]),
  check('topk', ['TopK'], () => {
    const { values, indices } = tf.topk(normal(31, [4, 50]), 5, true);
    return [values, indices];
  }),
  check('cumsum', ['Cumsum'], () => {
    const x = normal(32, [5, 21]);
    return [tf.cumsum(x, 1), tf.cumsum(x, 1, true, false), tf.cumsum(x, 0, false, true)];
  }),
  check('cumsum.grad', ['Cumsum'], () => [grad1((v) => tf.cumsum(v, 1), normal(33, [5, 21]), 34)]),
  // Several lengths in one process: shaders are cached by a key, and a length inlined into the
  // shader but missing from the key makes later calls reuse a shader built for another length.
  check('cumsum.lengths', ['Cumsum', 'Reverse'], () =>
    [3, 8, 21, 2, 130].flatMap((n, i) => {
      const x = normal(80 + i, [2, n]);
      return [tf.cumsum(x, 1), tf.cumsum(x, 1, false, true), tf.cumsum(x, 1, true, true), tf.cumsum(x, 0, true, false)];
    }),
  ),
  check('softmax.topk.gather.lengths', ['Softmax', 'TopK', 'GatherV2', 'Max', 'Sum'], () =>
    [7, 33, 300, 1030].flatMap((n, i) => {
      const x = normal(90 + i, [3, n], 2);
      const { values, indices } = tf.topk(x, Math.min(5, n));
      return [tf.softmax(x), tf.logSoftmax(x), values, indices, tf.gather(x, ints([n - 1, 0, 2]), 1), tf.max(x, 1), tf.sum(x, 1)];
    }),
  ),
  check('abs.sign', ['Abs', 'Sign'], () => {
    const x = tf.concat([normal(35, [40]), tf.zeros([3])]);
    return [tf.abs(x), tf.sign(x)];
  }),
  check('abs.sign.grad', ['Abs', 'Step', 'Sign', 'ZerosLike'], () => {
    const x = normal(36, [40]);
    return [grad1((v) => tf.abs(v), x, 37), grad1((v) => tf.sign(v), x, 38)];
  }),
  check('where', ['Select', 'Greater'], () => {
    const x = normal(39, [6, 15]);
    const y = normal(40, [6, 15]);
    return [tf.where(tf.greater(x, 0), x, y)];
  }),
  check('where.grad', ['Select', 'ZerosLike', 'LogicalNot'], () => {
    const mask = tf.greater(normal(41, [6, 15]), 0);
    return grads(([x, y]) => tf.where(mask, tf.mul(x!, 2), y!), [normal(42, [6, 15]), normal(43, [6, 15])], 44);
  }),
  check('oneHot', ['OneHot'], () => [tf.oneHot(ints([0, 10, 3, 3, 7]), 11)]),
  check('oneHot.crossEntropy.grad', ['OneHot', 'Mul', 'Sum'], () => {
    const labels = tf.oneHot(ints([0, 10, 3, 3, 7]), 11);
    return [tf.grad((logits: tf.Tensor) => tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(logits)))))(normal(45, [5, 11], 2))];
  }),
  check('erf', ['Erf'], () => [tf.erf(normal(46, [64], 1.5))]),
  check('erf.grad', ['Erf', 'Exp', 'Square'], () => [grad1((v) => tf.erf(v), normal(47, [64], 1.5), 48)]),
  check('concat.slice.transpose', ['Concat', 'Slice', 'Transpose'], () => {
    const a = normal(49, [4, 9]);
    const b = normal(50, [4, 5]);
    const c = tf.concat([a, b], 1);
    return [c, tf.slice(c, [1, 3], [2, 8]), tf.transpose(c), tf.transpose(normal(51, [2, 3, 5]), [2, 0, 1])];
  }),
  check('concat.slice.transpose.grad', ['Concat', 'Slice', 'Transpose', 'Pad'], () =>
    grads(([a, b]) => tf.transpose(tf.slice(tf.concat([a!, b!], 1), [1, 3], [2, 8])), [normal(52, [4, 9]), normal(53, [4, 5])], 54),
  ),
  check('kl.forward', ['Max', 'Exp', 'Sum', 'Log', 'Mean'], () => [forwardKl(normal(55, [6, 1000], 3), normal(56, [6, 1000], 3))]),
  check('kl.forward.grad', ['Max', 'Exp', 'Sum', 'Log', 'Mean'], () => {
    const teacher = normal(57, [6, 1000], 3);
    return [tf.grad((s: tf.Tensor) => forwardKl(teacher, s))(normal(58, [6, 1000], 3))];
  }),
  check('kl.reverse.grad', ['Max', 'Exp', 'Sum', 'Log', 'Mean'], () => {
    const teacher = normal(59, [6, 1000], 3);
    return [tf.grad((s: tf.Tensor) => reverseKl(teacher, s))(normal(60, [6, 1000], 3))];
  }),
];
