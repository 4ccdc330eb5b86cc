/**
 * What every law file shares: the backends (and lowerings) the suite runs on, turning generated
 * batches into tfjs inputs and reference inputs, and evaluating an objective with its gradients
 * while releasing every tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Backend, type BackendName, nodeBackends, useBackend } from '../backends/index.js';
import { skipGpuTests, withInstallHint } from '../backends/testing/gpu-test-gate.js';
import { type CompileOptions, compile } from '../compile/compile.js';
import type { ScalarNode } from '../core/graph.js';
import type { CompiledObjective } from '../core/lower.js';
import type { DistillInputs } from '../core/outputs.js';
import type { LoweringBackend } from '../core/target.js';
import type { DistillationBatch, RoleBatch } from './arbitraries.js';
import type { SequenceTensor } from './reference/index.js';

/**
 * A backend and a way of lowering onto it. Each backend runs the generic lowering (tfjs ops,
 * what WebGPU uses) and, where it has them, its fused kernels, so both paths meet every law.
 */
export interface Target {
  readonly backend: BackendName;
  readonly lowering: 'fused' | 'generic';
  readonly label: string;
}

/**
 * The targets under test: `MMKD_TEST_BACKENDS` (comma-separated), or cpu, wasm and webgpu
 * (webgpu left out only when MMKD_SKIP_GPU_TESTS=1; CI installs what it needs). Backends without
 * kernels of their own run the generic lowering only.
 */
export function targets(): Target[] {
  const fallback = skipGpuTests ? 'cpu,wasm' : 'cpu,wasm,webgpu';
  const names = (process.env['MMKD_TEST_BACKENDS'] ?? fallback).split(',').map((s) => s.trim()) as BackendName[];
  return names.flatMap((backend): Target[] => {
    const generic: Target = { backend, lowering: 'generic', label: `${backend} (generic lowering)` };
    const fused = (nodeBackends[backend]?.kernels.size ?? 0) > 0;
    return fused ? [{ backend, lowering: 'fused', label: `${backend} (fused kernels)` }, generic] : [generic];
  });
}

export async function activate(target: Target): Promise<void> {
  let backend: Backend;
  try {
    backend = await useBackend(target.backend);
  } catch (e) {
    throw withInstallHint(e);
  }
  // WebGPU hands small tensors to the CPU by default; the suite's tensors are small.
  if (target.backend === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
  // Generic: the backend's capabilities (its kernel fan-in) without its kernels.
  lowering = target.lowering === 'fused' ? backend : { kernels: new Map(), capabilities: backend.capabilities };
}

let lowering: LoweringBackend | undefined;

/** What the active target lowers for: the backend with its kernels (fused) or without (generic). */
export function targetLowering(): LoweringBackend {
  if (lowering === undefined) throw new Error('harness: activate(target) first');
  return lowering;
}

/** `compile` as a user calls it, lowered for the active target: the one path every law takes. */
export function compileOn(graph: ScalarNode, shapes: Parameters<typeof compile>[1], options: CompileOptions = {}): CompiledObjective {
  return compile(graph, shapes, { ...options, backend: targetLowering() });
}

/** How many examples each law tries: `MMKD_PROPERTY_RUNS`, or the law's own default. */
export const runs = (fallback: number): number => Number(process.env['MMKD_PROPERTY_RUNS'] ?? fallback);

/** Hidden states to go with a generated batch: [B, T, width] per side. */
export interface HiddenStates {
  readonly teacher: Float32Array;
  readonly student: Float32Array;
  readonly width: readonly [number, number];
}

/** Tensors for a generated batch (the caller disposes them with `disposeInputs`). */
export function toInputs(batch: DistillationBatch, hidden?: HiddenStates): DistillInputs {
  const side = (s: RoleBatch & { readonly logits: Float32Array }, h?: Float32Array, width?: number) => ({
    logits: tf.tensor3d(s.logits, [s.B, s.T, batch.V]),
    roles: s.roles,
    ...(h === undefined ? {} : { hidden: tf.tensor3d(h, [s.B, s.T, width!]) }),
  });
  return {
    teacher: side(batch.teacher, hidden?.teacher, hidden?.width[0]),
    student: side(batch.student, hidden?.student, hidden?.width[1]),
    labels: batch.labels,
  };
}

export function disposeInputs(inputs: DistillInputs): void {
  tf.dispose([inputs.teacher.logits, inputs.student.logits, inputs.teacher.hidden, inputs.student.hidden].filter((t) => t !== undefined));
}

/** The reference's view of one side's logits (or of another [B, T, width] array). */
export function sequence(side: RoleBatch, data: ArrayLike<number>, width: number): SequenceTensor {
  return { data, B: side.B, T: side.T, width, roles: side.roles };
}

export interface Outcome {
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
  /** Gradients as host arrays, by source (`student.logits`, `student.hidden`, parameter names). */
  readonly grads: Readonly<Record<string, Float32Array>>;
  /** Objective-owned parameter values at evaluation time. */
  readonly parameters: Readonly<Record<string, Float32Array>>;
}

/** Compiles and evaluates `graph` with its gradients on the active target. */
export async function evaluate(graph: ScalarNode, inputs: DistillInputs, seed = 0): Promise<Outcome> {
  const compiled = compileOn(graph, inputs, { seed });
  try {
    const result = await compiled.valueAndGrad(inputs);
    try {
      const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
      const grads: Record<string, Float32Array> = {};
      for (const [name, g] of Object.entries(result.grads)) grads[name] = await read(g);
      const terms: Record<string, number> = {};
      for (const [name, t] of Object.entries(result.terms)) terms[name] = (await read(t))[0]!;
      const parameters: Record<string, Float32Array> = {};
      for (const [name, p] of compiled.parameters) parameters[name] = await read(p);
      return { loss: (await read(result.loss))[0]!, terms, grads, parameters };
    } finally {
      result.dispose();
    }
  } finally {
    compiled.dispose();
  }
}

/** `evaluate` on a generated batch, its tensors made for the call and disposed after it. */
export async function evaluateBatch(graph: ScalarNode, batch: DistillationBatch, hidden?: HiddenStates): Promise<Outcome> {
  const inputs = toInputs(batch, hidden);
  try {
    return await evaluate(graph, inputs);
  } finally {
    disposeInputs(inputs);
  }
}
