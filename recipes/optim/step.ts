import * as tf from '@tensorflow/tfjs-core';
import type { AdamWConfig, AdamWState, DecayRule } from './adamw.js';
import { applyAdamW } from './adamw.js';
import { clipByGlobalNorm } from './clip.js';

/**
 * Gradients of `loss` with respect to the given variables only, keyed by their stable names.
 * Variables outside `trainable` (frozen groups, the teacher) get no gradient and stay unchanged.
 * Everything `loss` makes is released except the returned tensors, which the caller owns.
 */
export function namedGrads(loss: () => tf.Scalar, trainable: ReadonlyMap<string, tf.Variable>): { value: tf.Scalar; grads: Map<string, tf.Tensor> } {
  if (trainable.size === 0) throw new Error('namedGrads: no trainable variables');
  // tf.variableGrads keys gradients by the engine's variable names, which tfjs assigns; map back.
  const stable = new Map<string, string>();
  for (const [name, v] of trainable) stable.set(v.name, name);
  const { value, grads } = tf.variableGrads(loss, [...trainable.values()]);
  const named = new Map<string, tf.Tensor>();
  for (const [engineName, g] of Object.entries(grads)) {
    const name = stable.get(engineName);
    if (name === undefined) throw new Error(`namedGrads: gradient for an unknown variable '${engineName}'`);
    named.set(name, g);
  }
  return { value, grads: named };
}

export interface StepOptions {
  /** The learning rate of this step (from a schedule). */
  readonly lr: number;
  readonly config?: AdamWConfig;
  readonly decay?: DecayRule;
  /** Clips the gradients' global L2 norm to this value before the update (HF Trainer's max_grad_norm). */
  readonly clipNorm?: number;
}

export interface StepResult {
  /** The loss before the update; the caller owns it (read it, then dispose it). */
  readonly loss: tf.Scalar;
  /** The next optimizer state (the input state is consumed). */
  readonly state: AdamWState;
}

/**
 * One training step: gradients of `loss` for the `trainable` variables (the stage's trainable
 * groups), optional clipping, one AdamW update. Every intermediate tensor is released.
 */
export function trainStep(loss: () => tf.Scalar, trainable: ReadonlyMap<string, tf.Variable>, state: AdamWState, options: StepOptions): StepResult {
  const { value, grads } = namedGrads(loss, trainable);
  let used = grads;
  try {
    if (options.clipNorm !== undefined) used = clipByGlobalNorm(grads, options.clipNorm);
    const next = applyAdamW(trainable, used, state, {
      lr: options.lr,
      ...(options.config === undefined ? {} : { config: options.config }),
      ...(options.decay === undefined ? {} : { decay: options.decay }),
    });
    return { loss: value, state: next };
  } finally {
    for (const g of grads.values()) g.dispose();
    if (used !== grads) for (const g of used.values()) g.dispose();
  }
}
