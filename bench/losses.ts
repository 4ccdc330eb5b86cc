/**
 * `npm run bench -- losses [--backends wasm,cpu] [--rows 1024] [--vocab 32000] [--reps 3]`
 *
 * For each divergence, the value and the gradient with respect to the student's logits, through
 * mmkd's compiled objective and through the plain tfjs composite a user would write (log-softmax,
 * exp, multiply, sum, differentiated by tfjs's autodiff), on the same inputs in the same run.
 * Prints the median time of each, the speed-up, the peak bytes of tensors alive during a call
 * (`tf.profile`) and the relative difference of the two loss values.
 */
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backends/index.js';
import type { DistillInputs } from '../core/outputs.js';
import { ROLE_CODES } from '../core/roles.js';
import { compile, teacher as t, student as s } from '../index.js';
import { akl, jsd, kl, skewKL, skewReverseKL, softCE, tvd } from '../losses/index.js';
import type { LossNode } from '../core/graph.js';
import { machineDescription, median, parseOptions, timeAsync } from './util.js';

type Composite = (teacher: tf.Tensor2D, student: tf.Tensor2D) => tf.Scalar;

interface Case {
  readonly name: string;
  readonly node: LossNode;
  /** What a tfjs user writes: the divergence from log-softmaxes, averaged over rows. */
  readonly composite: Composite;
  /** Work done outside autodiff (AKL's detached head/tail weights), timed with the composite. */
  readonly detached?: (teacher: tf.Tensor2D, student: tf.Tensor2D) => tf.Tensor;
}

const lsm = (x: tf.Tensor2D) => tf.logSoftmax(x);
const rowMean = (x: tf.Tensor) => tf.mean(tf.sum(x, 1)) as tf.Scalar;

function cases(): Case[] {
  const T = t.logits.at('response');
  const S = s.logits.at('response');
  return [
    {
      name: 'forward KL',
      node: kl.forward(T, S),
      composite: (a, b) => rowMean(tf.mul(tf.exp(lsm(a)), tf.sub(lsm(a), lsm(b)))),
    },
    {
      name: 'reverse KL',
      node: kl.reverse(T, S),
      composite: (a, b) => rowMean(tf.mul(tf.exp(lsm(b)), tf.sub(lsm(b), lsm(a)))),
    },
    {
      name: 'JSD(0.5)',
      node: jsd(T, S, { beta: 0.5 }),
      composite: (a, b) => {
        const [lp, lq] = [lsm(a), lsm(b)];
        const lm = tf.log(tf.add(tf.mul(tf.exp(lp), 0.5), tf.mul(tf.exp(lq), 0.5)));
        return rowMean(tf.add(tf.mul(tf.mul(tf.exp(lp), tf.sub(lp, lm)), 0.5), tf.mul(tf.mul(tf.exp(lq), tf.sub(lq, lm)), 0.5)));
      },
    },
    {
      name: 'skew KL(0.1)',
      node: skewKL(T, S, { alpha: 0.1 }),
      composite: (a, b) => {
        const [lp, lq] = [lsm(a), lsm(b)];
        const lm = tf.log(tf.add(tf.mul(tf.exp(lp), 0.1), tf.mul(tf.exp(lq), 0.9)));
        return rowMean(tf.mul(tf.exp(lp), tf.sub(lp, lm)));
      },
    },
    {
      name: 'skew RKL(0.1)',
      node: skewReverseKL(T, S, { alpha: 0.1 }),
      composite: (a, b) => {
        const [lp, lq] = [lsm(a), lsm(b)];
        const lm = tf.log(tf.add(tf.mul(tf.exp(lq), 0.1), tf.mul(tf.exp(lp), 0.9)));
        return rowMean(tf.mul(tf.exp(lq), tf.sub(lq, lm)));
      },
    },
    {
      name: 'TVD',
      node: tvd(T, S),
      composite: (a, b) => rowMean(tf.mul(tf.abs(tf.sub(tf.softmax(a), tf.softmax(b))), 0.5)),
    },
    {
      name: 'AKL(0.5)',
      node: akl(T, S),
      detached: aklHeadWeight,
      composite: (a, b) => {
        throw new Error(`AKL's composite needs its detached weights (${a.shape}, ${b.shape})`);
      },
    },
    {
      name: 'soft CE',
      node: softCE(T, S),
      composite: (a, b) => rowMean(tf.neg(tf.mul(tf.exp(lsm(a)), lsm(b)))),
    },
  ];
}

/** AKL's head weight per row, from detached probabilities (the authors' get_ratio). */
function aklHeadWeight(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor {
  const p = tf.softmax(a);
  const q = tf.softmax(b);
  const sorted = tf.topk(p, p.shape[1]);
  // A flat gather: tfjs-backend-wasm 4.22's gather with batchDims = 1 returns wrong values.
  const [rows, vocab] = p.shape;
  const flat = tf.add(sorted.indices, tf.reshape(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocab, 'int32')), [rows, 1]));
  const err = tf.abs(tf.sub(sorted.values, tf.reshape(tf.gather(tf.reshape(q, [-1]), tf.reshape(flat, [-1])), [rows, vocab])));
  const cum = tf.cumsum(sorted.values, 1);
  const first = tf.concat([tf.ones([p.shape[0], 1]), tf.zeros([p.shape[0], p.shape[1] - 1])], 1);
  const head = tf.maximum(tf.cast(tf.lessEqual(cum, 0.5), 'float32'), first);
  return tf.div(tf.sum(tf.mul(err, head), 1), tf.sum(err, 1));
}

function aklComposite(h: tf.Tensor): Composite {
  return (a, b) => {
    const [lp, lq] = [lsm(a), lsm(b)];
    const fkl = tf.sum(tf.mul(tf.exp(lp), tf.sub(lp, lq)), 1);
    const rkl = tf.sum(tf.mul(tf.exp(lq), tf.sub(lq, lp)), 1);
    return tf.mean(tf.add(tf.mul(h, fkl), tf.mul(tf.sub(1, h), rkl))) as tf.Scalar;
  };
}

export async function run(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv, { backends: 'wasm,cpu', rows: '1024', vocab: '32000', reps: '3', only: '' });
  const rows = Number(options['rows']);
  const vocab = Number(options['vocab']);
  const reps = Number(options['reps']);
  const only = options['only'] ? options['only'].split(',') : undefined;
  console.log(`# losses: value + gradient w.r.t. the student's logits, B·T = ${rows}, V = ${vocab}`);
  console.log(`# ${machineDescription()}`);
  console.log('| backend | divergence | mmkd ms | tfjs composite ms | speed-up | mmkd peak MB | composite peak MB | memory ratio | |Δ loss| / loss |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const backendName of options['backends']!.split(',')) {
    await useBackend(backendName);
    const teacherLogits = tf.randomNormal([1, rows, vocab], 0, 2, 'float32', 1) as tf.Tensor3D;
    const studentLogits = tf.randomNormal([1, rows, vocab], 0, 2, 'float32', 2) as tf.Tensor3D;
    const roles = new Int32Array(rows).fill(ROLE_CODES.response);
    const inputs: DistillInputs = { teacher: { logits: teacherLogits, roles }, student: { logits: studentLogits, roles } };
    const a2 = tf.reshape(teacherLogits, [rows, vocab]) as tf.Tensor2D;
    const b2 = tf.reshape(studentLogits, [rows, vocab]) as tf.Tensor2D;
    for (const c of cases()) {
      if (only && !only.some((o) => c.name.toLowerCase().includes(o.toLowerCase()))) continue;
      const compiled = compile(c.node, inputs);
      let oursLoss = 0;
      const ours = async () => {
        const r = await compiled.valueAndGrad(inputs);
        oursLoss = (await r.loss.data())[0]!;
        await r.grads['student.logits']!.data();
        r.dispose();
      };
      let compositeLoss = 0;
      const composite = async () => {
        const h = c.detached ? tf.tidy(() => c.detached!(a2, b2)) : undefined;
        const f = h ? aklComposite(h) : c.composite;
        const { value, grads } = tf.tidy(() => tf.valueAndGrads((b: tf.Tensor) => f(a2, b as tf.Tensor2D))([b2]));
        compositeLoss = (await value.data())[0]!;
        await grads[0]!.data();
        tf.dispose([value, ...grads, ...(h ? [h] : [])]);
      };
      const oursTimes = await timeAsync(ours, reps);
      const compositeTimes = await timeAsync(composite, reps);
      const oursPeak = (await tf.profile(ours)).peakBytes;
      const compositePeak = (await tf.profile(composite)).peakBytes;
      compiled.dispose();
      const [mo, mc] = [median(oursTimes), median(compositeTimes)];
      const mb = (b: number) => (b / 2 ** 20).toFixed(0);
      console.log(
        `| ${backendName} | ${c.name} | ${mo.toFixed(0)} | ${mc.toFixed(0)} | ${(mc / mo).toFixed(2)}× | ${mb(oursPeak)} | ${mb(compositePeak)} | ${(
          compositePeak / oursPeak
        ).toFixed(2)}× | ${(Math.abs(oursLoss - compositeLoss) / Math.abs(compositeLoss)).toExponential(1)} |`,
      );
    }
    tf.dispose([teacherLogits, studentLogits, a2, b2]);
  }
}
