import * as tf from '@tensorflow/tfjs-core';
import { FLOAT_DTYPES, type HostTensor, hostTensor, TensorFileError, toFloat32 } from '../io/index.js';
import type { LlavaModel } from './llava.js';
import type { ParamGroup } from './params.js';
import { sizeOf } from './params.js';

/**
 * One tensor of a checkpoint: the host tensor `io/` reads and writes, in any float dtype a
 * checkpoint may hold (PyTorch users save float16, bfloat16 or float64 as often as float32).
 */
export type WeightEntry = HostTensor;

/** A checkpoint as a flat map from stable dotted names to tensors (safetensors-shaped). */
export type FlatWeights = ReadonlyMap<string, WeightEntry>;

export interface SelectOptions {
  /** Only these groups (default: all). */
  readonly groups?: readonly ParamGroup[];
}

const selected = (model: LlavaModel, o: SelectOptions): string[] =>
  [...model.variables.keys()].filter((name) => o.groups === undefined || o.groups.includes(model.groups.get(name) as ParamGroup));

/** Reads the model's weights to host memory as float32 (asynchronously, so it also works on GPU backends). */
export async function exportWeights(model: LlavaModel, options: SelectOptions = {}): Promise<Map<string, WeightEntry>> {
  const out = new Map<string, WeightEntry>();
  for (const name of selected(model, options)) {
    const v = model.variables.get(name) as tf.Variable;
    const data = (await v.data()) as Float32Array;
    out.set(name, hostTensor('float32', v.shape, Float32Array.from(data), name));
  }
  return out;
}

export interface LoadOptions extends SelectOptions {
  /** Accept names in `weights` that the model does not have, or that lie outside `groups`. */
  readonly allowUnexpected?: boolean;
  /** Where the weights come from (a file or folder), to name it in conversion errors. */
  readonly source?: string;
}

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Every reason `weights` cannot be loaded into `model` (empty when it can): a missing variable,
 * an unexpected name, a shape mismatch or a data length that disagrees with the shape, each
 * naming the variable.
 */
export function weightErrors(model: LlavaModel, weights: FlatWeights, options: LoadOptions = {}): string[] {
  const errors: string[] = [];
  const wanted = new Set(selected(model, options));
  for (const name of wanted) {
    const entry = weights.get(name);
    const v = model.variables.get(name) as tf.Variable;
    if (entry === undefined) {
      errors.push(`missing weight '${name}' (shape ${fmt(v.shape)})`);
      continue;
    }
    if (!FLOAT_DTYPES.has(entry.dtype)) {
      errors.push(`weight '${name}' is ${entry.dtype}; a weight must be a float tensor (${[...FLOAT_DTYPES].join(', ')})`);
    } else if (entry.shape.length !== v.shape.length || entry.shape.some((d, i) => d !== v.shape[i])) {
      errors.push(`shape mismatch for '${name}': the model has ${fmt(v.shape)}, the weights have ${fmt(entry.shape)}`);
    } else if (entry.data.length !== sizeOf(entry.shape)) {
      errors.push(`weight '${name}' has ${entry.data.length} values but its shape ${fmt(entry.shape)} needs ${sizeOf(entry.shape)}`);
    }
  }
  if (options.allowUnexpected !== true) {
    for (const name of weights.keys()) {
      if (wanted.has(name)) continue;
      errors.push(
        model.variables.has(name)
          ? `weight '${name}' belongs to group '${model.groups.get(name)}', which is not being loaded`
          : `unexpected weight '${name}': the model '${model.config.name}' has no such variable`,
      );
    }
  }
  return errors;
}

/**
 * Assigns `weights` to the model's variables, all or nothing: every name, dtype and shape is
 * checked and every tensor converted to float32 first (a float64 value beyond the float32 range
 * is an error naming the tensor and its index, not a silent ±Infinity), and one error lists
 * every problem.
 */
export function loadWeights(model: LlavaModel, weights: FlatWeights, options: LoadOptions = {}): void {
  const fail = (errors: readonly string[]): never => {
    throw new Error(`cannot load weights into '${model.config.name}':\n  ${errors.join('\n  ')}`);
  };
  const errors = weightErrors(model, weights, options);
  if (errors.length > 0) fail(errors);
  const values = new Map<string, Float32Array>();
  for (const name of selected(model, options)) {
    try {
      values.set(name, toFloat32(weights.get(name) as WeightEntry, name, options.source ?? 'weights'));
    } catch (e) {
      if (!(e instanceof TensorFileError)) throw e;
      errors.push(e.message);
    }
  }
  if (errors.length > 0) fail(errors);
  for (const [name, data] of values) {
    const v = model.variables.get(name) as tf.Variable;
    tf.tidy(() => v.assign(tf.tensor(data, [...v.shape], 'float32')));
  }
}

/**
 * Copies the variables of `groups` from one model to another on the backend, without a host
 * round trip: how a student takes the teacher's trained vision encoder (LLaVA-KD's students load
 * the teacher's frozen vision tower). Shapes must agree, name by name.
 */
export function copyGroups(from: LlavaModel, to: LlavaModel, groups: readonly ParamGroup[]): void {
  const names = selected(to, { groups });
  const errors: string[] = [];
  for (const name of names) {
    const src = from.variables.get(name);
    const dst = to.variables.get(name) as tf.Variable;
    if (src === undefined) errors.push(`'${from.config.name}' has no variable '${name}'`);
    else if (src.shape.join() !== dst.shape.join()) {
      errors.push(`shape mismatch for '${name}': '${from.config.name}' has ${fmt(src.shape)}, '${to.config.name}' has ${fmt(dst.shape)}`);
    }
  }
  const extra = selected(from, { groups }).filter((n) => !to.variables.has(n));
  for (const name of extra) errors.push(`'${to.config.name}' has no variable '${name}'`);
  if (errors.length > 0) {
    throw new Error(`cannot copy groups ${groups.join(', ')} from '${from.config.name}' to '${to.config.name}':\n  ${errors.join('\n  ')}`);
  }
  for (const name of names) (to.variables.get(name) as tf.Variable).assign(from.variables.get(name) as tf.Variable);
}
