/** A limit a backend does not have: the kernel fan-in or binding size of cpu, wasm and TensorFlow. */
export const unbounded = (): number => Number.POSITIVE_INFINITY;
