/** The kernel fan-in of backends whose kernels take any number of inputs (cpu, wasm, TensorFlow). */
export const unbounded = (): number => Number.POSITIVE_INFINITY;
