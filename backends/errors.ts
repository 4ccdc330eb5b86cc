import { UserError } from '../core/errors.js';
import type { BackendName } from './types.js';

/** Why a backend cannot run here, as a closed set a caller can branch on. */
export type UnavailableCode =
  /** An optional npm package is not installed. */
  | 'package-missing'
  /** The package is installed but failed to load (native library, platform, version). */
  | 'package-broken'
  /** This JavaScript environment has no WebGPU at all (a browser without it, Deno, ...). */
  | 'no-webgpu-api'
  /** Linux: Dawn could not load libvulkan.so.1. */
  | 'vulkan-loader-missing'
  /** Linux: the Vulkan loader is there but no driver (ICD) is installed. */
  | 'vulkan-driver-missing'
  /** Linux: the only software driver is a lavapipe older than Dawn accepts. */
  | 'mesa-too-old'
  /** WebGPU is there but offered no adapter, for a reason we could not pin down. */
  | 'no-adapter'
  /** The adapter refused to create a device. */
  | 'device-request-failed'
  /** tfjs-node-gpu loaded but TensorFlow found no CUDA device (it would run on the CPU). */
  | 'no-cuda-device'
  /** tfjs could not initialise the backend. */
  | 'init-failed';

/**
 * A backend that cannot run here: which one, why, and what would fix it. Selection never falls
 * back silently; it throws this (explicit choice) or records it as the reason a candidate was
 * passed over (`auto`).
 */
export class BackendUnavailableError extends UserError {
  override readonly name = 'BackendUnavailableError';
  readonly backend: BackendName;
  readonly code: UnavailableCode;
  /** One line or a few: what is missing, in the user's terms. */
  readonly reason: string;
  /** What to do about it, with commands where there are any. */
  readonly fix: string;

  constructor(backend: BackendName, code: UnavailableCode, reason: string, fix: string, options?: { readonly cause?: unknown }) {
    super(`backend '${backend}' is unavailable: ${reason}\nTo fix: ${fix}`, options);
    this.backend = backend;
    this.code = code;
    this.reason = reason;
    this.fix = fix;
  }
}

export function isBackendUnavailable(error: unknown): error is BackendUnavailableError {
  return error instanceof BackendUnavailableError;
}

/** A short text for any thrown value, for reasons and `cause` summaries. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Whether an `import()` failed because `specifier` itself is not installed, as opposed to the
 * package being present but failing while it loads (which deserves a different message).
 */
export function isModuleNotFound(error: unknown, specifier: string): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  const notFound =
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    // Node's, Vite's (vitest) and browsers' wordings, in that order.
    /Cannot find (package|module)|Could not resolve|Failed to resolve module specifier/i.test(error.message);
  // Quoted, so that a file missing *inside* the package ('/node_modules/webgpu/dist/...') does not count.
  return notFound && (error.message.includes(`'${specifier}'`) || error.message.includes(`"${specifier}"`));
}

/** A backend name mmkd does not know; the message lists the ones it does. */
export class UnknownBackendError extends UserError {
  override readonly name = 'UnknownBackendError';
}
