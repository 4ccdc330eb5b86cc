import { cpu } from './cpu.js';
import { wasm } from './wasm.js';
import type { Backend, BackendName } from './types.js';

export type { Backend, BackendCapabilities, BackendName } from './types.js';
export { cpu } from './cpu.js';
export { wasm } from './wasm.js';
export { ensureGradients } from './gradients.js';

/** The backends mmkd knows, as a value (nothing is registered by importing this module). */
export const nodeBackends: Readonly<Partial<Record<BackendName, Backend>>> = { cpu, wasm };

/** Activates a backend by name; unknown or unavailable names are errors that say which exist. */
export async function useBackend(
  name: string,
  registry: Readonly<Partial<Record<BackendName, Backend>>> = nodeBackends,
): Promise<Backend> {
  const backend = registry[name as BackendName];
  if (backend === undefined) {
    const known = Object.keys(registry).join(', ');
    throw new Error(`unknown backend '${name}': available here are ${known}`);
  }
  await backend.activate();
  return backend;
}
