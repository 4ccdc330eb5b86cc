/**
 * Learning-rate schedules as pure functions of the step index.
 */

/** A learning rate for the update with 0-based index `step`. */
export type Schedule = (step: number) => number;

export interface CosineWarmup {
  /** The learning rate at the end of warm-up. */
  readonly peak: number;
  /** Updates of linear warm-up (0: none). */
  readonly warmupSteps: number;
  /** Updates in the whole run, warm-up included. */
  readonly totalSteps: number;
  /** The rate the cosine decays to (default 0). */
  readonly floor?: number;
}

/**
 * Linear warm-up then cosine decay (the papers' "cosine learning rate schedule", HF's
 * `get_cosine_schedule_with_warmup` with a floor):
 *
 *   step < W:  lr = peak · (step + 1) / W
 *   step ≥ W:  lr = floor + (peak − floor) · ½ (1 + cos(π · min(1, (step − W) / (N − W))))
 *
 * Warm-up counts from step + 1 so that the first update already moves (HF's starts at 0, which
 * wastes an update: noticeable in runs of a few hundred steps). Steps past N stay at the floor.
 */
export function cosineWithWarmup(s: CosineWarmup): Schedule {
  const floor = s.floor ?? 0;
  const problems: string[] = [];
  if (!(s.peak > 0)) problems.push(`peak must be > 0, got ${s.peak}`);
  if (!(floor >= 0 && floor <= s.peak)) problems.push(`floor must be in [0, peak], got ${floor}`);
  if (!Number.isInteger(s.totalSteps) || s.totalSteps < 1) problems.push(`totalSteps must be a positive integer, got ${s.totalSteps}`);
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0 || s.warmupSteps > s.totalSteps) {
    problems.push(`warmupSteps must be an integer in [0, totalSteps], got ${s.warmupSteps}`);
  }
  if (problems.length > 0) throw new Error(`cosineWithWarmup: ${problems.join('; ')}`);
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  return (step) => {
    if (!Number.isInteger(step) || step < 0) throw new Error(`schedule: step must be a non-negative integer, got ${step}`);
    if (step < s.warmupSteps) return (s.peak * (step + 1)) / s.warmupSteps;
    const progress = Math.min(1, (step - s.warmupSteps) / decaySteps);
    return floor + (s.peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/** Warm-up length from a ratio of the run (LLaVA-KD/TinyLLaVA: warmup_ratio 0.03), rounded up. */
export const warmupStepsFor = (totalSteps: number, ratio: number): number => Math.ceil(totalSteps * ratio);

/** A constant rate. */
export const constant =
  (lr: number): Schedule =>
  () =>
    lr;
