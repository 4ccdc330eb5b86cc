/** Test-only access to the host rows' WebAssembly SIMD module (backends/host-kernels/rows-simd.ts). */
import { simdKernels } from '../host-kernels/rows-simd.js';

/**
 * e^x (x ≤ 0) or log y (y > 0, normal) of each value, an even number of them, by the module's own
 * inlined code (its expInPlace and logInPlace run the loops' exp and log), for the accuracy tests.
 * Uses the memory past a row's layout, growing it if needed; the next row re-reads the views.
 */
export function simdExpLog(which: 'exp' | 'log', values: Float64Array): Float64Array {
  const k = simdKernels();
  if (k === null) throw new Error('WebAssembly SIMD is not available here');
  if (values.length % 2 !== 0) throw new Error(`simdExpLog takes an even number of values, got ${values.length}`);
  const memory = k.x.memory;
  const start = memory.buffer.byteLength;
  memory.grow(Math.ceil((8 * values.length) / 65536));
  new Float64Array(memory.buffer, start, values.length).set(values);
  (which === 'exp' ? k.x.expInPlace : k.x.logInPlace)(start, values.length);
  return new Float64Array(memory.buffer, start, values.length).slice();
}
