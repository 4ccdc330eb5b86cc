/**
 * Fused WebGPU kernels for the shipped divergences (WGSL in wgsl/divergence.ts), keyed by their
 * loss definitions like the host kernels (backends/host-kernels), and carried by the webgpu
 * backend value: nothing registers on import.
 *
 * The kernels run on tfjs's own device and tensors but bind their buffers themselves, by row
 * block: a [rows × V] float32 tensor may be larger than one storage binding
 * (`maxStorageBufferBindingSize`, 128 MiB on lavapipe and SwiftShader; 1024 × 151936 logits are
 * 622 MB), and no tfjs kernel can bind such a tensor at all. Each dispatch binds the rows that fit
 * (at an offset aligned to `minStorageBufferOffsetAlignment`) and runs one workgroup per row.
 *
 * Forward: one dispatch per row block writes each row's stats (both log-sum-exps, ℓ, Σ ∂ℓ/∂log q,
 * AKL's head weight); the loss is Σ_i w_i ℓ_i. Backward (a custom gradient, only when one is
 * asked for): one dispatch per row block writes the gradient rows, dy applied on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { JsonValue } from '../../core/graph.js';
import type { LoweringOverrides } from '../../core/target.js';
import { withGradient } from '../../core/tensor-ops.js';
import { type DivergenceKernel, type DivergenceOperands, lowerDivergenceWith, tfjsDivergenceKernel } from '../../losses/divergence.js';
import { divergenceRules, standardLosses } from '../../losses/index.js';
import { backwardShader, forwardShader, type KernelVariant, PARAMS_BYTES, STATS_WIDTH } from './wgsl/divergence.js';

/** What the kernels use of a WebGPU device (structural: no @webgpu/types in the public build). */
interface Device {
  readonly limits: { readonly maxStorageBufferBindingSize: number; readonly minStorageBufferOffsetAlignment: number };
  readonly queue: {
    submit(buffers: unknown[]): void;
    writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  createShaderModule(descriptor: { code: string }): unknown;
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): Pipeline;
  createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  createBindGroup(descriptor: { layout: unknown; entries: { binding: number; resource: { buffer: GpuBuffer; offset?: number; size?: number } }[] }): unknown;
  createCommandEncoder(): {
    beginComputePass(): { setPipeline(p: Pipeline): void; setBindGroup(i: number, g: unknown): void; dispatchWorkgroups(x: number): void; end(): void };
    finish(): unknown;
  };
}
interface Pipeline {
  getBindGroupLayout(index: number): unknown;
}
interface GpuBuffer {
  readonly size: number;
  destroy(): void;
}

/** What the kernels use of tfjs's WebGPU backend (public members, and the pending encoder). */
interface TfjsWebGPU {
  readonly device: Device;
  readonly tensorMap: { get(dataId: object): { resource?: unknown } | undefined };
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
  submitQueue(): void;
  endComputePassEncoder(): void;
}

// GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, without the browser global.
const UNIFORM_USAGE = 0x40 | 0x8;

/**
 * A rule's own parameter (β, α, μ), decoded by the rule's codec (which checked it at validation)
 * where the rule carries one, else read with the rule's default.
 */
function ownParam(op: Pick<DivergenceOperands, 'rule' | 'params'>, key: 'beta' | 'alpha' | 'mu'): number {
  const codec = (op.rule as { readonly params?: { decode(params: Readonly<Record<string, JsonValue>>): Readonly<Record<string, JsonValue>> } }).params;
  const own = codec === undefined ? { ...op.rule.defaults, ...op.params } : codec.decode(op.params);
  const value = own[key];
  if (typeof value !== 'number') throw new Error(`internal: the divergence '${op.rule.name}' has no numeric parameter '${key}'`);
  return value;
}

/** The device-side variant and its constants (c0, c1, c2, μ) for a divergence node, or 'zero' (skew at α = 1). */
export function kernelVariant(
  op: Pick<DivergenceOperands, 'rule' | 'params'>,
): { variant: KernelVariant; constants: [number, number, number, number] } | 'zero' {
  const none: [number, number, number, number] = [0, 0, 0, 0];
  const mixing = (w: number): [number, number, number, number] => [Math.log(w), Math.log(1 - w), w, 0];
  switch (op.rule.name) {
    case 'forwardKL':
    case 'reverseKL':
    case 'softCE':
    case 'tvd':
      return { variant: op.rule.name, constants: none };
    case 'jsd': {
      const beta = ownParam(op, 'beta');
      if (beta === 0) return { variant: 'forwardKL', constants: none };
      if (beta === 1) return { variant: 'reverseKL', constants: none };
      return { variant: 'jsd', constants: mixing(beta) };
    }
    case 'skewKL':
    case 'skewReverseKL': {
      const alpha = ownParam(op, 'alpha');
      if (alpha === 1) return 'zero';
      if (alpha === 0) return { variant: op.rule.name === 'skewKL' ? 'forwardKL' : 'reverseKL', constants: none };
      return { variant: op.rule.name, constants: mixing(alpha) };
    }
    case 'akl':
      return { variant: 'akl', constants: [0, 0, 0, ownParam(op, 'mu')] };
    default:
      throw new Error(`internal: no fused WebGPU kernel for the divergence '${op.rule.name}'`);
  }
}

/** Compiled pipelines per device, by variant and pass. */
const pipelines = new WeakMap<Device, Map<string, Pipeline>>();

function pipeline(device: Device, variant: KernelVariant, pass: 'forward' | 'backward'): Pipeline {
  let cache = pipelines.get(device);
  if (cache === undefined) {
    cache = new Map();
    pipelines.set(device, cache);
  }
  const key = `${variant}:${pass}`;
  let found = cache.get(key);
  if (found === undefined) {
    const code = pass === 'forward' ? forwardShader(variant) : backwardShader(variant);
    found = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    cache.set(key, found);
  }
  return found;
}

/** A contiguous run of rows that fits one storage binding on every [rows × width] operand. */
interface RowBlock {
  readonly first: number;
  readonly count: number;
}

/**
 * Rows per dispatch: as many as fit one binding (less the alignment slack of its offset) on the
 * widest operand, and at most 65535 workgroups.
 */
export function rowBlocks(rows: number, widest: number, limits: Device['limits']): RowBlock[] {
  const perRow = widest * 4;
  const fit = Math.floor((limits.maxStorageBufferBindingSize - limits.minStorageBufferOffsetAlignment) / perRow);
  if (fit < 1) {
    throw new Error(
      `a row of ${widest} float32 logits (${perRow} bytes) does not fit one storage binding of this WebGPU device ` +
        `(maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize})`,
    );
  }
  const per = Math.min(fit, 65535);
  const blocks: RowBlock[] = [];
  for (let first = 0; first < rows; first += per) blocks.push({ first, count: Math.min(per, rows - first) });
  return blocks;
}

/** The binding of rows [first, first + count) of a [rows × width] buffer, and the element offset of the first row inside it. */
function rowRange(buffer: GpuBuffer, block: RowBlock, width: number, align: number) {
  const start = block.first * width * 4;
  const offset = start - (start % align);
  const size = Math.min(buffer.size - offset, start - offset + block.count * width * 4);
  return { resource: { buffer, offset, size: size - (size % 4) }, elementOffset: (start - offset) / 4 };
}

function gpuBuffer(backend: TfjsWebGPU, tensor: tf.TensorInfo): GpuBuffer {
  backend.uploadToGPU(tensor.dataId);
  const resource = backend.tensorMap.get(tensor.dataId)?.resource;
  if (resource === undefined || resource === null) throw new Error('internal: a WebGPU tensor has no buffer');
  return resource as GpuBuffer;
}

/** Submits tfjs's pending commands, so that work recorded on our own encoder runs after them. */
function flush(backend: TfjsWebGPU): void {
  if ((backend as unknown as { commandEncoder?: unknown }).commandEncoder) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
}

interface Dispatch {
  readonly backend: TfjsWebGPU;
  readonly pipeline: Pipeline;
  readonly blocks: readonly RowBlock[];
  /** Uniforms of one block, given the element offsets of its row ranges (A, B, G). */
  readonly params: (block: RowBlock, offsets: readonly number[]) => ArrayBuffer;
  /** Per binding after the uniforms: a row-blocked buffer with its row width, or a whole buffer. */
  readonly bindings: readonly ({ rows: GpuBuffer; width: number } | { whole: GpuBuffer })[];
}

/** Records one dispatch per row block on a fresh encoder and submits it after tfjs's pending work. */
function run({ backend, pipeline: pipe, blocks, params, bindings }: Dispatch): void {
  const { device } = backend;
  const align = device.limits.minStorageBufferOffsetAlignment;
  flush(backend);
  const uniforms: GpuBuffer[] = [];
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipe);
  for (const block of blocks) {
    const offsets: number[] = [];
    const entries = bindings.map((binding, i) => {
      if ('whole' in binding) return { binding: i + 1, resource: { buffer: binding.whole } };
      const range = rowRange(binding.rows, block, binding.width, align);
      offsets.push(range.elementOffset);
      return { binding: i + 1, resource: range.resource };
    });
    const uniform = device.createBuffer({ size: PARAMS_BYTES, usage: UNIFORM_USAGE });
    device.queue.writeBuffer(uniform, 0, new Uint8Array(params(block, offsets)));
    uniforms.push(uniform);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: uniform } }, ...entries] }));
    pass.dispatchWorkgroups(block.count);
  }
  pass.end();
  device.queue.submit([encoder.finish()]);
  void device.queue.onSubmittedWorkDone().then(() => {
    for (const u of uniforms) u.destroy();
  });
}

/** The 16 scalars of the uniform block. */
function packParams(fields: {
  rows: number;
  vocab: number;
  strideA: number;
  strideB: number;
  offsets: readonly number[];
  rowBase: number;
  invT: number;
  constants: readonly number[];
}): ArrayBuffer {
  const data = new ArrayBuffer(PARAMS_BYTES);
  const u = new Uint32Array(data);
  const f = new Float32Array(data);
  u.set([fields.rows, fields.vocab, fields.strideA, fields.strideB, fields.offsets[0] ?? 0, fields.offsets[1] ?? 0, fields.offsets[2] ?? 0, fields.rowBase]);
  f.set([fields.invT, fields.constants[0] ?? 0, fields.constants[1] ?? 0, fields.constants[2] ?? 0, fields.constants[3] ?? 0], 8);
  return data;
}

function activeWebGPU(): TfjsWebGPU | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  const backend = tf.backend() as unknown as Partial<TfjsWebGPU>;
  return backend.device !== undefined && backend.tensorMap !== undefined ? (backend as TfjsWebGPU) : undefined;
}

/** Options of the fused kernels; tests shrink the binding to split small inputs into row blocks. */
export interface FusedKernelOptions {
  /** At most this many bytes per storage binding (default: the device's `maxStorageBufferBindingSize`). */
  readonly maxBindingBytes?: number;
}

/**
 * The fused divergence kernel. Off WebGPU (a compiled objective evaluated after another backend
 * became active) it falls back to the generic kernel, whose numbers it must match anyway.
 */
export const fusedDivergenceKernel =
  (options: FusedKernelOptions = {}): DivergenceKernel =>
  (op) => {
    const backend = activeWebGPU();
    if (backend === undefined) return tfjsDivergenceKernel(op);
    const choice = kernelVariant(op);
    const teacher = op.teacher.values;
    const [rows, widthB] = op.student.values.shape;
    const widthA = teacher.shape[1];
    if (choice === 'zero') {
      return withGradient<tf.Scalar>(op.student.values, () => ({ value: tf.scalar(0), gradFunc: () => tf.zeros([rows, widthB]) }));
    }
    const { variant, constants } = choice;
    const { vocab, temperature } = op;
    const { limits } = backend.device;
    const maxBinding = Math.min(limits.maxStorageBufferBindingSize, options.maxBindingBytes ?? Number.POSITIVE_INFINITY);
    const blocks = rowBlocks(rows, Math.max(widthA, widthB), {
      maxStorageBufferBindingSize: maxBinding,
      minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
    });
    const invT = 1 / temperature;
    const uniforms = (block: RowBlock, offsets: readonly number[]) =>
      packParams({ rows: block.count, vocab, strideA: widthA, strideB: widthB, offsets, rowBase: block.first, invT, constants });

    return withGradient<tf.Scalar>(op.student.values, (student, save) => {
      const statsInfo = backend.makeTensorInfo([rows, STATS_WIDTH], 'float32');
      const stats = tf.engine().makeTensorFromTensorInfo(statsInfo) as tf.Tensor2D;
      run({
        backend,
        pipeline: pipeline(backend.device, variant, 'forward'),
        blocks,
        params: uniforms,
        bindings: [
          { rows: gpuBuffer(backend, teacher), width: widthA },
          { rows: gpuBuffer(backend, student), width: widthB },
          { whole: gpuBuffer(backend, stats) },
        ],
      });
      const weights = tf.tensor1d(op.weights);
      save([teacher, student, stats, weights]);
      const perRow = tf.reshape(tf.slice(stats, [0, 2], [rows, 1]), [rows]);
      const value = tf.sum(tf.mul(perRow, weights)) as tf.Scalar;
      return {
        value,
        gradFunc: (dy, [savedA, savedB, savedStats, savedW]) => {
          const gradInfo = backend.makeTensorInfo([rows, widthB], 'float32');
          const grad = tf.engine().makeTensorFromTensorInfo(gradInfo);
          const scale = tf.reshape(dy, [1]);
          run({
            backend,
            pipeline: pipeline(backend.device, variant, 'backward'),
            blocks,
            params: uniforms,
            bindings: [
              { rows: gpuBuffer(backend, savedA!), width: widthA },
              { rows: gpuBuffer(backend, savedB!), width: widthB },
              { whole: gpuBuffer(backend, savedStats!) },
              { whole: gpuBuffer(backend, savedW!) },
              { whole: gpuBuffer(backend, scale) },
              { rows: gpuBuffer(backend, grad), width: widthB },
            ],
          });
          return grad;
        },
      };
    });
  };

/** The fused WebGPU kernels of the shipped divergences, by definition (a user's own loss is never replaced). */
export function fusedDivergenceKernels(options: FusedKernelOptions = {}): LoweringOverrides {
  const kernel = fusedDivergenceKernel(options);
  return new Map(
    divergenceRules.map((rule) => {
      const definition = standardLosses[rule.name];
      if (definition === undefined) throw new Error(`internal: no shipped loss definition for the divergence rule '${rule.name}'`);
      return [definition, lowerDivergenceWith(rule, kernel)] as const;
    }),
  );
}

/** The webgpu backend's kernels: the fused divergences at the device's own binding limit. */
export const webgpuKernels: LoweringOverrides = fusedDivergenceKernels();
