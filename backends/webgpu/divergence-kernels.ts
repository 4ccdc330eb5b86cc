/**
 * Fused WebGPU kernels for the shipped divergences (WGSL in wgsl/divergence.ts), keyed by their
 * loss definitions like the host kernels (backends/host-kernels), and carried by the webgpu
 * backend value: nothing registers on import.
 *
 * The kernels run on tfjs's own device and tensors but bind their buffers themselves, by row
 * group: a [rows × V] float32 tensor may be larger than one storage binding
 * (`maxStorageBufferBindingSize`, 128 MiB on lavapipe and SwiftShader; 1024 × 151936 logits are
 * 622 MB), and no tfjs kernel can bind such a tensor at all, not even to gather the selected rows.
 * So the kernels read a view's whole [B·T × V] tensor (`TokenRows.source`) and index the
 * selected rows themselves: the pairs' row indices (teacher, student) go to the device as a small
 * buffer, and each dispatch binds the span of rows its group of pairs needs (at an offset aligned
 * to `minStorageBufferOffsetAlignment`), one workgroup per pair.
 *
 * Forward: one dispatch per group writes each pair's stats (both log-sum-exps, ℓ, Σ ∂ℓ/∂log q,
 * AKL's head weight); the loss is Σ_k w_k ℓ_k. Backward (a custom gradient, only when one is
 * asked for): the gradient of the student's source tensor, cleared where no pair selects a row,
 * then one dispatch per group writes the selected rows, dy applied on the device.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { JsonValue } from '../../core/graph.js';
import type { LoweringOverrides } from '../../core/target.js';
import { withGradient } from '../../core/tensor-ops.js';
import { type DivergenceKernel, type DivergenceOperands, lowerDivergenceWith, tfjsDivergenceKernel } from '../../losses/divergence.js';
import { divergenceRules, standardLosses } from '../../losses/index.js';
import { describeAdapter } from './adapter.js';
import type { GpuAdapterInfoLike } from './api.js';
import { backwardShader, forwardShader, type KernelVariant, PARAMS_BYTES, type RowLoads, STATS_WIDTH, WORKGROUP } from './wgsl/divergence.js';

/** What the kernels use of a WebGPU device (structural: no @webgpu/types in the public build). */
interface Device {
  readonly limits: { readonly maxStorageBufferBindingSize: number; readonly minStorageBufferOffsetAlignment: number };
  readonly queue: {
    submit(buffers: unknown[]): void;
    writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  /** The adapter's strings (GPUDevice.adapterInfo: Dawn, Chromium 128+); absent on older implementations. */
  readonly adapterInfo?: GpuAdapterInfoLike;
  createShaderModule(descriptor: { code: string }): unknown;
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): Pipeline;
  createBuffer(descriptor: { size: number; usage: number }): GpuBuffer;
  createBindGroup(descriptor: { layout: unknown; entries: { binding: number; resource: { buffer: GpuBuffer; offset?: number; size?: number } }[] }): unknown;
  createCommandEncoder(): {
    clearBuffer(buffer: GpuBuffer): void;
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

/**
 * Threads per workgroup on a device. On a GPU, 256 (WORKGROUP). On a software adapter, one CPU
 * SIMD vector: llvmpipe runs a workgroup on one core as that many coroutines of SIMD-wide
 * batches, and every barrier of the reductions switches through all of them, so a workgroup of
 * one batch (8 lanes at llvmpipe's "256-bits", read from its device name) spends its time on the
 * row instead. Measured on lavapipe at 256 × 32000 (bench/RESULTS.md, issue 10): the forward
 * dispatch about half the CPU time at 8 as at 256; 4 and 16 slower than 8.
 */
export function workgroupFor(device: Pick<Device, 'adapterInfo'>): number {
  const info = device.adapterInfo;
  if (info === undefined) return WORKGROUP;
  const report = describeAdapter({ features: new Set(), isFallbackAdapter: info.isFallbackAdapter === true }, info);
  if (report.kind !== 'software') return WORKGROUP;
  const bits = /(\d+)-bits/.exec(info.device)?.[1];
  const lanes = bits === undefined ? 8 : Number(bits) / 32;
  return Number.isInteger(lanes) && lanes >= 4 && lanes <= WORKGROUP && (lanes & (lanes - 1)) === 0 ? lanes : 8;
}

/** Compiled pipelines per device, by variant, pass, row loads and workgroup size. */
const pipelines = new WeakMap<Device, Map<string, Pipeline>>();

function pipeline(device: Device, variant: KernelVariant, pass: 'forward' | 'backward', loads: RowLoads, workgroup: number): Pipeline {
  let cache = pipelines.get(device);
  if (cache === undefined) {
    cache = new Map();
    pipelines.set(device, cache);
  }
  const key = `${variant}:${pass}:${loads}:${workgroup}`;
  let found = cache.get(key);
  if (found === undefined) {
    const code = pass === 'forward' ? forwardShader(variant, loads, workgroup) : backwardShader(variant, loads, workgroup);
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

/** Rows of a [rows × width] float32 tensor that fit one binding, less the alignment slack of its offset. */
function rowsPerBinding(width: number, limits: Device['limits']): number {
  const perRow = width * 4;
  const fit = Math.floor((limits.maxStorageBufferBindingSize - limits.minStorageBufferOffsetAlignment) / perRow);
  if (fit < 1) {
    throw new Error(
      `a row of ${width} float32 logits (${perRow} bytes) does not fit one storage binding of this WebGPU device ` +
        `(maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize})`,
    );
  }
  return fit;
}

/**
 * Rows per dispatch: as many as fit one binding (less the alignment slack of its offset) on the
 * widest operand, and at most 65535 workgroups.
 */
export function rowBlocks(rows: number, widest: number, limits: Device['limits']): RowBlock[] {
  const per = Math.min(rowsPerBinding(widest, limits), 65535);
  const blocks: RowBlock[] = [];
  for (let first = 0; first < rows; first += per) blocks.push({ first, count: Math.min(per, rows - first) });
  return blocks;
}

/**
 * Pairs first … first+count−1 of a dispatch, and the rows of each side they span: [baseA, baseA +
 * spanA) of the teacher's tensor, [baseB, baseB + spanB) of the student's.
 */
export interface PairGroup {
  readonly first: number;
  readonly count: number;
  readonly baseA: number;
  readonly spanA: number;
  readonly baseB: number;
  readonly spanB: number;
}

/**
 * Consecutive pairs (teacher row rowsA[k], student row rowsB[k]) grouped so that the rows each
 * group spans on either side fit one binding (`fitA`, `fitB` rows), at most 65535 pairs a group.
 */
export function pairGroups(rowsA: Int32Array, rowsB: Int32Array, fitA: number, fitB: number): PairGroup[] {
  const groups: PairGroup[] = [];
  let k = 0;
  while (k < rowsA.length) {
    let [loA, hiA, loB, hiB] = [rowsA[k]!, rowsA[k]!, rowsB[k]!, rowsB[k]!];
    let end = k + 1;
    while (end < rowsA.length && end - k < 65535) {
      const [nloA, nhiA] = [Math.min(loA, rowsA[end]!), Math.max(hiA, rowsA[end]!)];
      const [nloB, nhiB] = [Math.min(loB, rowsB[end]!), Math.max(hiB, rowsB[end]!)];
      if (nhiA - nloA + 1 > fitA || nhiB - nloB + 1 > fitB) break;
      [loA, hiA, loB, hiB] = [nloA, nhiA, nloB, nhiB];
      end++;
    }
    groups.push({ first: k, count: end - k, baseA: loA, spanA: hiA - loA + 1, baseB: loB, spanB: hiB - loB + 1 });
    k = end;
  }
  return groups;
}

/** The binding of rows [first, first + count) of a [rows × width] buffer, and the element offset of the first row inside it. */
function rowRange(buffer: GpuBuffer, first: number, count: number, width: number, align: number, loads: RowLoads) {
  const start = first * width * 4;
  const offset = start - (start % align);
  const size = Math.min(buffer.size - offset, start - offset + count * width * 4);
  const unit = loads === 'vec4' ? 16 : 4;
  return { resource: { buffer, offset, size: size - (size % unit) }, elementOffset: (start - offset) / 4 };
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

/** A binding after the uniforms: a tensor's rows (of a side, by the group's span), or a whole buffer. */
type Binding = { rows: GpuBuffer; width: number; side: 'A' | 'B' } | { whole: GpuBuffer };

interface Dispatch {
  readonly backend: TfjsWebGPU;
  readonly pipeline: Pipeline;
  readonly groups: readonly PairGroup[];
  readonly loads: RowLoads;
  /** Uniforms of one group, given the element offsets of its row bindings, in binding order. */
  readonly params: (group: PairGroup, offsets: readonly number[]) => ArrayBuffer;
  readonly bindings: readonly Binding[];
  /** A buffer to clear before the dispatches (rows of a gradient that no pair writes). */
  readonly clear?: GpuBuffer;
}

/** Records one dispatch per pair group on a fresh encoder and submits it after tfjs's pending work. */
function run({ backend, pipeline: pipe, groups, loads, params, bindings, clear }: Dispatch): void {
  const { device } = backend;
  const align = device.limits.minStorageBufferOffsetAlignment;
  flush(backend);
  const uniforms: GpuBuffer[] = [];
  const encoder = device.createCommandEncoder();
  if (clear !== undefined) encoder.clearBuffer(clear);
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipe);
  for (const group of groups) {
    const offsets: number[] = [];
    const entries = bindings.map((binding, i) => {
      if ('whole' in binding) return { binding: i + 1, resource: { buffer: binding.whole } };
      const [base, span] = binding.side === 'A' ? [group.baseA, group.spanA] : [group.baseB, group.spanB];
      const range = rowRange(binding.rows, base, span, binding.width, align, loads);
      offsets.push(range.elementOffset);
      return { binding: i + 1, resource: range.resource };
    });
    const uniform = device.createBuffer({ size: PARAMS_BYTES, usage: UNIFORM_USAGE });
    device.queue.writeBuffer(uniform, 0, new Uint8Array(params(group, offsets)));
    uniforms.push(uniform);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: uniform } }, ...entries] }));
    pass.dispatchWorkgroups(group.count);
  }
  pass.end();
  device.queue.submit([encoder.finish()]);
  void device.queue.onSubmittedWorkDone().then(() => {
    for (const u of uniforms) u.destroy();
  });
}

/** The scalars of the uniform block (see `Params` in wgsl/divergence.ts). */
function packParams(fields: {
  group: PairGroup;
  vocab: number;
  strideA: number;
  strideB: number;
  offsets: readonly number[];
  invT: number;
  constants: readonly number[];
}): ArrayBuffer {
  const data = new ArrayBuffer(PARAMS_BYTES);
  const u = new Uint32Array(data);
  const f = new Float32Array(data);
  const { group, offsets } = fields;
  u.set([group.count, fields.vocab, fields.strideA, fields.strideB, offsets[0] ?? 0, offsets[1] ?? 0, offsets[2] ?? 0, group.first, group.baseA, group.baseB]);
  f.set([fields.invT, fields.constants[0] ?? 0, fields.constants[1] ?? 0, fields.constants[2] ?? 0, fields.constants[3] ?? 0], 12);
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
  /** Threads per workgroup, a power of two (default: `workgroupFor` the device; tests run a GPU's 256 on lavapipe). */
  readonly workgroupSize?: number;
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
    const pairs = op.weights.length;
    const [teacher, rowsA] = indexedRows(op.teacher);
    const [studentRows, rowsB] = indexedRows(op.student);
    const [widthA, widthB] = [teacher.shape[1], studentRows.shape[1]];
    const studentShape = studentRows.shape;
    if (choice === 'zero') {
      return withGradient<tf.Scalar>(studentRows, () => ({ value: tf.scalar(0), gradFunc: () => tf.zeros(studentShape) }));
    }
    const { variant, constants } = choice;
    const { vocab, temperature } = op;
    const { limits } = backend.device;
    const bindingLimits = {
      maxStorageBufferBindingSize: Math.min(limits.maxStorageBufferBindingSize, options.maxBindingBytes ?? Number.POSITIVE_INFINITY),
      minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
    };
    const groups = pairGroups(rowsA, rowsB, rowsPerBinding(widthA, bindingLimits), rowsPerBinding(widthB, bindingLimits));
    const loads: RowLoads = widthA % 4 === 0 && widthB % 4 === 0 ? 'vec4' : 'scalar';
    const workgroup = options.workgroupSize ?? workgroupFor(backend.device);
    const invT = 1 / temperature;
    const uniforms = (group: PairGroup, offsets: readonly number[]) => packParams({ group, vocab, strideA: widthA, strideB: widthB, offsets, invT, constants });
    const interleaved = new Int32Array(2 * pairs);
    for (let k = 0; k < pairs; k++) {
      interleaved[2 * k] = rowsA[k]!;
      interleaved[2 * k + 1] = rowsB[k]!;
    }

    return withGradient<tf.Scalar>(studentRows, (student, save) => {
      const statsInfo = backend.makeTensorInfo([pairs, STATS_WIDTH], 'float32');
      const stats = tf.engine().makeTensorFromTensorInfo(statsInfo) as tf.Tensor2D;
      const index = tf.tensor1d(interleaved, 'int32');
      run({
        backend,
        pipeline: pipeline(backend.device, variant, 'forward', loads, workgroup),
        groups,
        loads,
        params: uniforms,
        bindings: [
          { rows: gpuBuffer(backend, teacher), width: widthA, side: 'A' },
          { rows: gpuBuffer(backend, student), width: widthB, side: 'B' },
          { whole: gpuBuffer(backend, stats) },
          { whole: gpuBuffer(backend, index) },
        ],
      });
      const weights = tf.tensor1d(op.weights);
      save([teacher, student, stats, weights, index]);
      const perPair = tf.reshape(tf.slice(stats, [0, 2], [pairs, 1]), [pairs]);
      const value = tf.sum(tf.mul(perPair, weights)) as tf.Scalar;
      return {
        value,
        gradFunc: (dy, [savedA, savedB, savedStats, savedW, savedIndex]) => {
          const gradInfo = backend.makeTensorInfo(studentShape, 'float32');
          const grad = tf.engine().makeTensorFromTensorInfo(gradInfo);
          const gradBuffer = gpuBuffer(backend, grad);
          const scale = tf.reshape(dy, [1]);
          run({
            backend,
            pipeline: pipeline(backend.device, variant, 'backward', loads, workgroup),
            groups,
            loads,
            params: uniforms,
            bindings: [
              { rows: gpuBuffer(backend, savedA!), width: widthA, side: 'A' },
              { rows: gpuBuffer(backend, savedB!), width: widthB, side: 'B' },
              { whole: gpuBuffer(backend, savedStats!) },
              { whole: gpuBuffer(backend, savedW!) },
              { whole: gpuBuffer(backend, scale) },
              { whole: gpuBuffer(backend, savedIndex!) },
              { rows: gradBuffer, width: widthB, side: 'B' },
            ],
            // Pairs select distinct student rows: fewer pairs than rows leave some unwritten.
            ...(pairs < studentShape[0] ? { clear: gradBuffer } : {}),
          });
          return grad;
        },
      };
    });
  };

/**
 * The tensor a side's rows are read from and the row of it each pair reads: a view's whole
 * [B·T × V] tensor and the selected positions (never gathered), or the rows themselves, in order.
 */
function indexedRows(rows: DivergenceOperands['teacher']): [tf.Tensor2D, Int32Array] {
  if (rows.source !== undefined) return [rows.source, rows.selection.positions];
  const values = rows.values;
  return [values, Int32Array.from({ length: values.shape[0] }, (_, i) => i)];
}

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
