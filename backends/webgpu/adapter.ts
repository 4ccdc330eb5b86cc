import type { GpuAdapterInfoLike, GpuAdapterLike } from './api.js';

/** A software rasterizer runs "GPU" kernels on the CPU; `auto` never picks WebGPU on one. */
export type AdapterKind = 'hardware' | 'software';

/** What WebGPU gave us, as plain data to print, log with a run, and decide on. */
export interface AdapterReport {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly kind: AdapterKind;
  /** The software rasterizer's usual name (`llvmpipe`, `SwiftShader`, ...) when `kind` is software. */
  readonly softwareName?: string;
  /** The implementation's own flag; Dawn sets it for lavapipe, Chromium for SwiftShader. */
  readonly isFallbackAdapter: boolean;
  readonly features: readonly string[];
}

/**
 * Names of CPU implementations of Vulkan/D3D/WebGPU, matched in the adapter's strings. lavapipe
 * reports itself as its rasterizer, llvmpipe; WARP is Windows's software D3D12.
 */
const SOFTWARE_RASTERIZERS: readonly (readonly [RegExp, string])[] = [
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/swiftshader/i, 'SwiftShader'],
  [/softpipe/i, 'softpipe'],
  [/microsoft basic render|\bwarp\b/i, 'WARP'],
];

/** Reads the adapter's info, whichever spec generation the implementation follows. */
export async function adapterInfo(adapter: GpuAdapterLike): Promise<GpuAdapterInfoLike> {
  if (adapter.info !== undefined) return adapter.info;
  if (adapter.requestAdapterInfo !== undefined) return adapter.requestAdapterInfo();
  return { vendor: '', architecture: '', device: '', description: '' };
}

export function describeAdapter(adapter: Pick<GpuAdapterLike, 'features' | 'isFallbackAdapter'>, info: GpuAdapterInfoLike): AdapterReport {
  const features = [...adapter.features];
  const isFallbackAdapter = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
  const software = SOFTWARE_RASTERIZERS.find(([pattern]) => pattern.test(text))?.[1];
  const base = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter,
    features: features.sort(),
  };
  if (software !== undefined) return { ...base, kind: 'software', softwareName: software };
  // A fallback adapter is by definition a CPU implementation, even one we have no name for.
  if (isFallbackAdapter) return { ...base, kind: 'software', softwareName: info.device || info.vendor || 'unnamed' };
  return { ...base, kind: 'hardware' };
}

/** One line for logs and `auto`'s explanation: "llvmpipe (mesa, software): llvmpipe: Mesa 25.0.7 ...". */
export function formatAdapter(report: AdapterReport): string {
  const name = report.softwareName ?? (report.device || report.architecture || report.vendor || 'unnamed adapter');
  const detail = report.description && report.description !== name ? `: ${report.description}` : '';
  return `${name} (${report.vendor || 'unknown vendor'}, ${report.kind})${detail}`;
}
