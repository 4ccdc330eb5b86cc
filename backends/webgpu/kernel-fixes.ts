/**
 * Per-backend kernel overrides that correct tfjs-backend-webgpu 4.22 where it computes wrong
 * numbers. Each override says what is wrong, how it was found, and how it is avoided.
 *
 * Cumsum / Cumprod with `reverse: true`: the shader inlines the scanned axis's length as a
 * literal (`end + pow2 < ${length}`, and `end != ${length - 1}` when also exclusive), but its
 * pipeline-cache key (`cum_${op}_${exclusive}_${reverse}` plus ranks and dtypes) leaves the length
 * out. The first reverse scan compiled in a process fixes the length for every later one, so a
 * reverse cumsum over any other length silently returns partial sums. The gradient of a forward
 * cumsum is a reverse cumsum, so `tf.grad` of anything with a cumsum is wrong too. Found by
 * `kernels.test.ts` (cumsum.grad disagreed with cpu). Forward scans inline no length and
 * are correct; so a reverse scan is computed as reverse(forward scan(reverse(x))).
 */
import { getKernel, type KernelBackend, type KernelFunc, registerKernel, type TensorInfo, unregisterKernel } from '@tensorflow/tfjs-core';

interface CumAttrs {
  readonly axis: number;
  readonly exclusive: boolean;
  readonly reverse: boolean;
}

/** Marks our replacement, so that applying the fixes twice does not wrap it again. */
const FIXED = Symbol.for('mmkd.webgpuKernelFix');
type MarkedKernelFunc = KernelFunc & { [FIXED]?: true };

function reverseScanViaForward(forward: KernelFunc, reverseKernel: KernelFunc): MarkedKernelFunc {
  const fixed: MarkedKernelFunc = ({ inputs, backend, attrs }) => {
    const { axis, exclusive, reverse } = attrs as unknown as CumAttrs;
    if (!reverse) return forward({ inputs, backend, ...(attrs ? { attrs } : {}) });
    const x = inputs['x'] as TensorInfo;
    const dim = axis < 0 ? axis + x.shape.length : axis;
    const flipped = reverseKernel({ inputs: { x }, backend, attrs: { dims: [dim] } }) as TensorInfo;
    const scanned = forward({ inputs: { x: flipped }, backend, attrs: { axis: dim, exclusive, reverse: false } }) as TensorInfo;
    const result = reverseKernel({ inputs: { x: scanned }, backend, attrs: { dims: [dim] } }) as TensorInfo;
    const owner = backend as KernelBackend;
    owner.disposeData(flipped.dataId);
    owner.disposeData(scanned.dataId);
    return result;
  };
  fixed[FIXED] = true;
  return fixed;
}

/** Installs the overrides for tfjs's 'webgpu' kernels; idempotent. Run after the package loaded. */
export function applyWebGPUKernelFixes(backendName = 'webgpu'): void {
  const reverse = getKernel('Reverse', backendName);
  if (reverse === undefined) return;
  for (const kernelName of ['Cumsum', 'Cumprod']) {
    const original = getKernel(kernelName, backendName);
    if (original === undefined || (original.kernelFunc as MarkedKernelFunc)[FIXED]) continue;
    unregisterKernel(kernelName, backendName);
    registerKernel({
      kernelName,
      backendName,
      kernelFunc: reverseScanViaForward(original.kernelFunc, reverse.kernelFunc),
      ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
      ...(original.disposeFunc ? { disposeFunc: original.disposeFunc } : {}),
    });
  }
}
