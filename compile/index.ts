/**
 * Where the parts meet: `compile` validates an objective against a registry and lowers it for a
 * backend value; `standardRegistry` is every loss and matcher mmkd ships. Browser-safe.
 */
export { type CompileOptions, compile } from './compile.js';
export { standardRegistry } from './standard-registry.js';
