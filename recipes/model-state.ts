import type * as tf from '@tensorflow/tfjs-core';
import { type HostTensor, hostTensor, toFloat32 } from '../io/index.js';
import { exportWeights, type LlavaModel, loadWeights } from '../models/index.js';
import { CheckpointError } from './checkpoint.js';

/** A float32 host tensor: what tfjs takes back (values and a shape). */
export interface Float32Entry extends HostTensor {
  readonly dtype: 'float32';
  readonly data: Float32Array;
}

/** Host tensors (any dtype a checkpoint may hold) as float32 ones, converted with checks. */
export function float32Entries(tensors: ReadonlyMap<string, HostTensor>, source: string): Map<string, Float32Entry> {
  return new Map([...tensors].map(([name, t]) => [name, { dtype: 'float32', shape: t.shape, data: toFloat32(t, name, source) }]));
}

/** The model's weights by stable name, read back to the host for a checkpoint. */
export async function modelWeights(model: LlavaModel): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, w] of await exportWeights(model)) out.set(name, hostTensor('float32', w.shape, w.data));
  return out;
}

/** Variables (an objective's own parameters) read back to the host, by name. */
export async function variableValues(variables: ReadonlyMap<string, tf.Variable>): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, v] of variables) out.set(name, hostTensor('float32', v.shape, (await v.data()) as Float32Array, name));
  return out;
}

/** Loads a checkpoint's weights into the model, all or nothing; an error names the checkpoint. */
export function loadCheckpointWeights(model: LlavaModel, weights: ReadonlyMap<string, HostTensor>, path: string): void {
  try {
    loadWeights(model, weights, { source: path });
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${path} does not fit the model: ${(e as Error).message}`);
  }
}
