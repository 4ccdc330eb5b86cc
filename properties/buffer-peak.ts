/**
 * The bytes of distinct tensor buffers alive, and their high-water mark, as the memory tests and
 * the losses bench measure them.
 *
 * tfjs's own count (`tf.memory().numBytes`, `tf.profile`'s `peakBytes`) adds a tensor's bytes once
 * per tensor object, so a reshape, which shares its input's buffer, counts that buffer again: the
 * [1, N, V] logits and their [N, V] rows read as two tensors' worth where one buffer exists. And
 * `tf.profile` samples the count only when a kernel ends, missing a tensor made outside a kernel
 * (a host kernel's gradient). This tracker counts each buffer (data id) once, from the moment
 * tfjs tracks it to the moment the backend frees it.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A running count of distinct buffer bytes; `stop` restores the engine. */
export interface BufferTracker {
  /** Bytes of distinct buffers alive now, counting those made since `trackBuffers`. */
  readonly liveBytes: () => number;
  /** The largest `liveBytes` since the tracker started or `resetPeak` was last called. */
  readonly peakBytes: () => number;
  /** Starts a new high-water mark from the bytes alive now. */
  readonly resetPeak: () => void;
  readonly stop: () => void;
}

/** What the tracker wraps of tfjs-core's engine (internal methods, stable across 4.x). */
interface EngineInternals {
  trackTensor(a: tf.Tensor, backend: unknown): void;
  removeDataId(dataId: object, backend: unknown): void;
  state: { tensorInfo: WeakMap<object, { bytes: number }> };
}

/**
 * Starts counting. Buffers alive before the call are not counted, so start it before making the
 * inputs of what is measured. One tracker at a time.
 */
export function trackBuffers(): BufferTracker {
  const engine = tf.engine() as unknown as EngineInternals;
  const { trackTensor, removeDataId } = engine;
  // Buffers this tracker saw made, with the bytes it added for them (a buffer made before the
  // tracker is never subtracted).
  const seen = new WeakMap<object, number>();
  let live = 0;
  let peak = 0;
  engine.trackTensor = function (this: EngineInternals, a, backend) {
    const fresh = !this.state.tensorInfo.has(a.dataId);
    trackTensor.call(this, a, backend);
    if (!fresh) return;
    const bytes = this.state.tensorInfo.get(a.dataId)?.bytes ?? 0;
    seen.set(a.dataId, bytes);
    live += bytes;
    if (live > peak) peak = live;
  };
  engine.removeDataId = function (this: EngineInternals, dataId, backend) {
    const had = this.state.tensorInfo.has(dataId);
    removeDataId.call(this, dataId, backend);
    if (!had || this.state.tensorInfo.has(dataId)) return;
    live -= seen.get(dataId) ?? 0;
    seen.delete(dataId);
  };
  return {
    liveBytes: () => live,
    peakBytes: () => peak,
    resetPeak: () => {
      peak = live;
    },
    stop: () => {
      engine.trackTensor = trackTensor;
      engine.removeDataId = removeDataId;
    },
  };
}
