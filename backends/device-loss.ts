import { UserError } from '../core/errors.js';
import type { BackendName } from './types.js';

/** A device that went away: GPU reset, driver crash, out of memory, or an explicit destroy. */
export interface DeviceLost {
  readonly backend: BackendName;
  /** WebGPU's reason: `'destroyed'` after `destroy()`, `'unknown'` for everything else. */
  readonly reason: string;
  readonly message: string;
  /** True when mmkd itself released the device (end of a run), so no step was interrupted. */
  readonly released: boolean;
}

/**
 * The `reason` of a `DeviceLost` that is really an uncaptured device error (validation, out of
 * memory, internal): the device is still up, but what it computed can no longer be trusted.
 */
export const DEVICE_ERROR_REASON = 'device-error';

/** Where a training run was when it noticed: the stage's name and the step within it. */
export interface StepLocation {
  readonly stage: string;
  readonly step: number;
}

/** Thrown by a runner that finds its device gone; names the stage and step it stopped at. */
export class DeviceLostError extends UserError {
  override readonly name = 'DeviceLostError';
  readonly lost: DeviceLost;
  readonly at: StepLocation;

  constructor(lost: DeviceLost, at: StepLocation, options?: { readonly cause?: unknown }) {
    const why = lost.message ? `${lost.reason}: ${lost.message}` : lost.reason;
    const what =
      lost.reason === DEVICE_ERROR_REASON
        ? `the ${lost.backend} device reported an error in stage '${at.stage}' at step ${at.step} (${lost.message}); ` +
          'the run stopped there, since results computed after it cannot be trusted. Restart from the last checkpoint.'
        : `the ${lost.backend} device was lost in stage '${at.stage}' at step ${at.step} (${why}); ` +
          'the run stopped there. Tensors on that device are gone: restart from the last checkpoint.';
    super(what, options);
    this.lost = lost;
    this.at = at;
  }
}

/**
 * Observes device loss for a training runner. The runner checks `throwIfLost` between steps, or
 * wraps its awaits in `guard` so that a read stuck on (or failing because of) a dead device ends
 * with an error that names the stage and step.
 */
export interface DeviceLossWatch {
  /** Settles once, when the device is lost; never rejects; pending forever on cpu and wasm. */
  readonly lost: Promise<DeviceLost>;
  /** The loss, if it has happened (synchronous, for checks between steps). */
  current(): DeviceLost | undefined;
  /** Calls `listener` once on loss (at once if it already happened); returns an unsubscribe. */
  onLost(listener: (lost: DeviceLost) => void): () => void;
  /** Throws `DeviceLostError` naming `at` if the device is gone. */
  throwIfLost(at: StepLocation): void;
  /**
   * Settles like `work`, unless the device is lost first: then rejects with `DeviceLostError`. A
   * failure of `work` after a loss is reported as the loss, with the failure as its `cause`.
   */
  guard<T>(work: Promise<T>, at: StepLocation): Promise<T>;
}

export function watchDeviceLoss(lost: Promise<DeviceLost>): DeviceLossWatch {
  let seen: DeviceLost | undefined;
  // Listeners are removed as soon as they are no longer needed: a run guards every step, and
  // reactions left on a promise that never settles (cpu, wasm) would keep each step's data alive.
  const listeners = new Set<(lost: DeviceLost) => void>();
  const settled = lost.then((info) => {
    seen = info;
    for (const listener of [...listeners]) listener(info);
    listeners.clear();
    return info;
  });
  const onLost = (listener: (lost: DeviceLost) => void): (() => void) => {
    if (seen !== undefined) {
      listener(seen);
      return () => undefined;
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  return {
    lost: settled,
    current: () => seen,
    onLost,
    throwIfLost(at) {
      if (seen !== undefined) throw new DeviceLostError(seen, at);
    },
    guard<T>(work: Promise<T>, at: StepLocation): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const unsubscribe = onLost((info) => reject(new DeviceLostError(info, at)));
        work.then(
          (value) => {
            unsubscribe();
            resolve(value);
          },
          (error: unknown) => {
            unsubscribe();
            reject(seen !== undefined ? new DeviceLostError(seen, at, { cause: error }) : error);
          },
        );
      });
    },
  };
}

/** For backends without a device to lose (cpu, wasm, and node-gpu as tfjs exposes it). */
export const noDeviceLoss: DeviceLossWatch = watchDeviceLoss(new Promise<DeviceLost>(() => undefined));
