import { describe, expect, it } from 'vitest';
import { describeAdapter, formatAdapter } from './adapter.js';
import type { GpuAdapterInfoLike, GpuAdapterLike } from './api.js';

function adapter(info: GpuAdapterInfoLike, features: string[] = []): GpuAdapterLike {
  return {
    info,
    features: new Set(features),
    limits: {
      maxComputeWorkgroupStorageSize: 0,
      maxComputeWorkgroupsPerDimension: 0,
      maxStorageBufferBindingSize: 0,
      maxBufferSize: 0,
      maxComputeWorkgroupSizeX: 0,
      maxComputeInvocationsPerWorkgroup: 0,
    },
    requestDevice: () => Promise.reject(new Error('not in this test')),
  };
}

describe('describeAdapter', () => {
  it("classifies Dawn's lavapipe as the software rasterizer llvmpipe", () => {
    const info = {
      vendor: 'mesa',
      architecture: 'software',
      device: 'llvmpipe-llvm-15-0-6-256-bits-',
      description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
      isFallbackAdapter: true,
    };
    const report = describeAdapter(adapter(info, ['timestamp-query', 'shader-f16']), info);
    expect(report).toMatchObject({ kind: 'software', softwareName: 'llvmpipe', isFallbackAdapter: true });
    expect(report.features).toEqual(['shader-f16', 'timestamp-query']);
    expect(formatAdapter(report)).toBe('llvmpipe (mesa, software): llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1');
  });

  it("classifies Chromium's SwiftShader (empty device and description) as software", () => {
    const info = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true };
    expect(describeAdapter(adapter(info), info)).toMatchObject({ kind: 'software', softwareName: 'SwiftShader' });
  });

  it('classifies a GPU as hardware, and an unnamed fallback adapter as software', () => {
    const gpu = { vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H100 80GB HBM3', description: 'NVIDIA H100 80GB HBM3' };
    expect(describeAdapter(adapter(gpu), gpu).kind).toBe('hardware');
    const unnamed = { vendor: 'acme', architecture: '', device: 'cpu-ish', description: '', isFallbackAdapter: true };
    expect(describeAdapter(adapter(unnamed), unnamed)).toMatchObject({ kind: 'software', softwareName: 'cpu-ish' });
  });
});
