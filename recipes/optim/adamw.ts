import * as tf from '@tensorflow/tfjs-core';
import { FLOAT_DTYPES, type HostTensor, hostTensor, TensorFileError, toFloat32 } from '../../io/index.js';

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), with its state as an
 * explicit value so a checkpoint can save and restore it exactly.
 *
 * For step t = 1, 2, … and a parameter p with gradient g:
 *   m ← β₁ m + (1 − β₁) g            v ← β₂ v + (1 − β₂) g²
 *   m̂ = m / (1 − β₁ᵗ)                v̂ = v / (1 − β₂ᵗ)
 *   p ← p − lr · (m̂ / (√v̂ + ε) + λ p)     (λ only for parameters that decay)
 * which is PyTorch's `torch.optim.AdamW` (decay scaled by lr, applied to the pre-update p).
 */
export interface AdamWConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** λ, decoupled. LLaVA-KD's released scripts use 0. */
  readonly weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/** First and second moment estimates of one parameter. */
export interface Moments {
  readonly m: tf.Tensor;
  readonly v: tf.Tensor;
}

/**
 * The optimizer state: updates applied so far and the moments of every parameter that has had a
 * gradient (moments start at zero the first time a parameter is updated, so a stage can add
 * parameter groups). The state owns its moment tensors.
 */
export interface AdamWState {
  readonly step: number;
  readonly moments: ReadonlyMap<string, Moments>;
}

export const initAdamW = (): AdamWState => ({ step: 0, moments: new Map() });

/** Which parameters decay: by default those of rank ≥ 2 (matrices), not biases or norm gains. */
export type DecayRule = (name: string, shape: readonly number[]) => boolean;
export const decayMatrices: DecayRule = (_name, shape) => shape.length >= 2;

/**
 * One AdamW update of one parameter, as a pure function of tensors (nothing is assigned or
 * disposed): returns the new parameter value and moments. `t` is the 1-based step number.
 */
export function adamwUpdate(
  p: tf.Tensor,
  g: tf.Tensor,
  moments: Moments,
  t: number,
  lr: number,
  config: AdamWConfig,
  decay: boolean,
): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  return tf.tidy(() => {
    const { beta1: b1, beta2: b2, epsilon, weightDecay } = config;
    const m = tf.add(tf.mul(moments.m, b1), tf.mul(g, 1 - b1));
    const v = tf.add(tf.mul(moments.v, b2), tf.mul(tf.square(g), 1 - b2));
    const mHat = tf.div(m, 1 - b1 ** t);
    const vHat = tf.div(v, 1 - b2 ** t);
    let direction = tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon));
    if (decay && weightDecay !== 0) direction = tf.add(direction, tf.mul(p, weightDecay));
    return { p: tf.sub(p, tf.mul(direction, lr)), m, v };
  });
}

export interface ApplyOptions {
  /** The learning rate of this step (from a schedule). */
  readonly lr: number;
  readonly config?: AdamWConfig;
  readonly decay?: DecayRule;
}

/**
 * Applies one AdamW step: assigns the new values to the variables that have a gradient, and
 * returns the next state. Consumes `state`: the moment tensors it replaces are disposed, so only
 * the returned state may be used afterwards. Gradients stay owned by the caller.
 */
export function applyAdamW(
  variables: ReadonlyMap<string, tf.Variable>,
  grads: ReadonlyMap<string, tf.Tensor>,
  state: AdamWState,
  options: ApplyOptions,
): AdamWState {
  const config = options.config ?? DEFAULT_ADAMW;
  const decay = options.decay ?? decayMatrices;
  for (const [name, g] of grads) {
    const v = variables.get(name);
    if (v === undefined) throw new Error(`applyAdamW: gradient for '${name}', which is not among the variables being trained`);
    if (g.shape.join() !== v.shape.join()) {
      throw new Error(`applyAdamW: gradient for '${name}' has shape [${g.shape.join(', ')}], the variable has [${v.shape.join(', ')}]`);
    }
  }
  const t = state.step + 1;
  const moments = new Map(state.moments);
  for (const [name, g] of grads) {
    const variable = variables.get(name) as tf.Variable;
    const old = state.moments.get(name);
    const current = old ?? { m: tf.zerosLike(variable), v: tf.zerosLike(variable) };
    const next = adamwUpdate(variable, g, current, t, options.lr, config, decay(name, variable.shape));
    variable.assign(next.p);
    next.p.dispose();
    current.m.dispose();
    current.v.dispose();
    moments.set(name, { m: next.m, v: next.v });
  }
  return { step: t, moments };
}

/** Releases every moment tensor of `state`. */
export function disposeAdamW(state: AdamWState): void {
  for (const { m, v } of state.moments.values()) {
    m.dispose();
    v.dispose();
  }
}

/**
 * One tensor of a saved state: the host tensor `io/` reads and writes. Saved as float32; restored
 * from any float dtype (a checkpoint converted by another tool may hold float16, bfloat16 or float64).
 */
export type SavedTensor = HostTensor;

/**
 * The state as plain values: the step count and, for every parameter, its moments under the keys
 * `m.<name>` and `v.<name>`. Read asynchronously so it works on any backend.
 */
export interface SavedAdamW {
  readonly step: number;
  readonly tensors: ReadonlyMap<string, SavedTensor>;
}

export async function saveAdamW(state: AdamWState): Promise<SavedAdamW> {
  const tensors = new Map<string, SavedTensor>();
  for (const [name, { m, v }] of state.moments) {
    tensors.set(`m.${name}`, hostTensor('float32', m.shape, Float32Array.from((await m.data()) as Float32Array), `m.${name}`));
    tensors.set(`v.${name}`, hostTensor('float32', v.shape, Float32Array.from((await v.data()) as Float32Array), `v.${name}`));
  }
  return { step: state.step, tensors };
}

/**
 * Rebuilds a state on the active backend; every m has its v and every key is `m.` or `v.`.
 * Moments of any float dtype are converted to float32 with checks (a float64 value beyond the
 * float32 range is an error naming `source`, the tensor and its index); other dtypes are refused.
 */
export function restoreAdamW(saved: SavedAdamW, source = 'optimizer state'): AdamWState {
  if (!Number.isInteger(saved.step) || saved.step < 0) throw new Error(`restoreAdamW: step must be a non-negative integer, got ${saved.step}`);
  const names = new Set<string>();
  for (const key of saved.tensors.keys()) {
    const match = /^(m|v)\.(.+)$/.exec(key);
    if (match === null) throw new Error(`restoreAdamW: unexpected key '${key}' (expected 'm.<name>' or 'v.<name>')`);
    names.add(match[2] as string);
  }
  const errors: string[] = [];
  for (const name of names) {
    const m = saved.tensors.get(`m.${name}`);
    const v = saved.tensors.get(`v.${name}`);
    if (m === undefined || v === undefined) errors.push(`'${name}' lacks its ${m === undefined ? 'm' : 'v'} moment`);
    else if (m.shape.join() !== v.shape.join()) errors.push(`'${name}': m has shape [${m.shape.join(', ')}], v has [${v.shape.join(', ')}]`);
    else if (m.data.length !== m.shape.reduce((a, b) => a * b, 1) || v.data.length !== m.data.length) {
      errors.push(`'${name}': data length does not match shape [${m.shape.join(', ')}]`);
    }
  }
  const values = new Map<string, Float32Array>();
  for (const [key, t] of saved.tensors) {
    if (!FLOAT_DTYPES.has(t.dtype)) {
      errors.push(`'${key}' is ${t.dtype}; a moment must be a float tensor (${[...FLOAT_DTYPES].join(', ')})`);
      continue;
    }
    try {
      values.set(key, toFloat32(t, key, source));
    } catch (e) {
      if (!(e instanceof TensorFileError)) throw e;
      errors.push(e.message);
    }
  }
  if (errors.length > 0) throw new Error(`restoreAdamW: invalid saved state:\n  ${errors.join('\n  ')}`);
  const moments = new Map<string, Moments>();
  for (const name of names) {
    const m = saved.tensors.get(`m.${name}`) as SavedTensor;
    const v = saved.tensors.get(`v.${name}`) as SavedTensor;
    moments.set(name, { m: tf.tensor(values.get(`m.${name}`)!, [...m.shape], 'float32'), v: tf.tensor(values.get(`v.${name}`)!, [...v.shape], 'float32') });
  }
  return { step: saved.step, moments };
}
