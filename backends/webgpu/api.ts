/**
 * The slice of the WebGPU API that mmkd touches, typed structurally.
 *
 * Why not `@webgpu/types`: tfjs pins an old copy (0.1.38, with `requestAdapterInfo()` and no
 * `adapter.info`), the `webgpu` package ships a newer one, and both declare the same globals; their
 * nominal brands also make a browser's objects and Dawn's incompatible on paper. These few
 * interfaces accept both spec generations and both implementations.
 */

/** `GPUAdapterInfo`. `isFallbackAdapter` moved here from the adapter in 2024; both are read. */
export interface GpuAdapterInfoLike {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter?: boolean;
}

export interface GpuDeviceLostInfoLike {
  /** `'destroyed'` when `destroy()` was called, `'unknown'` otherwise (driver reset, OOM, ...). */
  readonly reason: string;
  readonly message: string;
}

/** What an `uncapturederror` event carries: a validation, out-of-memory or internal error. */
export interface GpuUncapturedErrorEventLike {
  readonly error?: { readonly message?: string };
}

export interface GpuDeviceLike {
  readonly lost: Promise<GpuDeviceLostInfoLike>;
  destroy(): void;
  addEventListener?(type: 'uncapturederror', listener: (event: GpuUncapturedErrorEventLike) => void): void;
}

/** The limits tfjs's WebGPU backend asks for when it creates its own device. */
export const TFJS_DEVICE_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
] as const;
export type TfjsDeviceLimit = (typeof TFJS_DEVICE_LIMITS)[number];

export interface GpuDeviceDescriptorLike {
  readonly requiredFeatures: readonly string[];
  readonly requiredLimits: Readonly<Record<TfjsDeviceLimit, number>>;
}

export interface GpuAdapterLike {
  readonly info?: GpuAdapterInfoLike;
  /** Pre-2024 browsers expose the info only through this method. */
  requestAdapterInfo?(): Promise<GpuAdapterInfoLike>;
  readonly isFallbackAdapter?: boolean;
  /** A set-like; Dawn's implements iteration and has() but not forEach(). */
  readonly features: { has(feature: string): boolean; [Symbol.iterator](): Iterator<string> };
  readonly limits: Readonly<Record<TfjsDeviceLimit, number>>;
  requestDevice(descriptor?: GpuDeviceDescriptorLike): Promise<GpuDeviceLike>;
}

export interface GpuLike {
  requestAdapter(options?: { readonly powerPreference?: 'low-power' | 'high-performance' }): Promise<GpuAdapterLike | null>;
}
