import { engine, getBackend } from '@tensorflow/tfjs-core';
import { UserError } from './errors.js';

/**
 * Throws a `UserError` saying what to do when no TensorFlow.js backend can run: none is active
 * and none is registered (so tfjs itself would fail with "No backend found in registry." and a
 * stack trace on the first tensor). mmkd registers nothing by being imported, so a program must
 * call `useBackend` first. A backend the caller registered but did not yet activate is left to
 * tfjs, which activates the best registered one on first use.
 */
export function requireBackend(entry: string): void {
  if (getBackend() !== undefined || engine().backendNames().length > 0) return;
  throw new UserError(
    `${entry}: no TensorFlow.js backend is active. Call \`await useBackend('wasm')\` (or 'cpu', 'webgpu', 'node-gpu'; ` +
      "from 'mmkd/browser': 'webgpu', 'wasm' or 'cpu') once, before making tensors and before compiling an objective.",
  );
}
