import { CONTINUOUS_WORLD_VERSION, continuousSample, continuousTokenizer } from '../data/continuous.js';
import { PROCEDURAL_WORDS, proceduralSample, proceduralSamples, proceduralTokenizer, TEXT_LENGTH } from '../data/procedural.js';
import type { Sample } from '../data/sample.js';
import type { Tokenizer } from '../data/tokenizer.js';

/*
 * Browser-safe: the page trains recipe stages on this data. A user's files are read by
 * user-data.ts, which needs Node.
 */

/** The two kinds of image-text samples stages draw: captions (pre-training) and instructions. */
export type SampleTask = 'caption' | 'qa';

/**
 * Where a run's samples come from. Training samples are addressed by index, a pure function of
 * (task, index), so a resumed run draws exactly what it would have drawn; evaluation uses a fixed
 * held-out set. The fingerprint names the data in stage and checkpoint fingerprints.
 */
export interface TrainingData {
  readonly name: string;
  readonly fingerprint: string;
  readonly tokenizer: Tokenizer;
  /** Text positions (all but the vision tokens) every sample of a task fits in. */
  readonly textLength: Readonly<Record<SampleTask, number>>;
  train(task: SampleTask, index: number): Sample;
  heldOut(count: number): Sample[];
  /**
   * The conversations file the data were read from (`llavaJsonData`), absent for procedural data:
   * runs record it, so that `mmkd evaluate` can ask for the same `--data`.
   */
  readonly file?: string;
  /** Which procedural world the data are (absent for a user's data): it chooses the model presets. */
  readonly world?: World;
  /**
   * For a labelled subset of a procedural world, the fingerprint of the whole world's data (its
   * shipped teacher, trained on all of it, teaches students that see only the subset).
   */
  readonly sourceFingerprint?: string;
}

/**
 * The procedural worlds: `grid` (objects centred in the patches of a 2 × 2 grid, 16 vision
 * tokens, near one-hot teacher answers) and `continuous` (objects at continuous positions and
 * sizes, near hues, similar shapes, occlusion and pixel noise; 36 vision tokens). See
 * data/continuous.ts.
 */
export const WORLDS = ['grid', 'continuous'] as const;
export type World = (typeof WORLDS)[number];

/**
 * The world runs use when none is named: the continuous world, where the teacher's answers carry
 * knowledge beyond the labels (RESULTS.md, the second study). The grid world stays available
 * (`--world grid`), with its own shipped teacher.
 */
export const DEFAULT_WORLD: World = 'continuous';

export interface ProceduralDataOptions {
  readonly world?: World;
  /**
   * Labelled training samples per task: sample i is sample i mod `labelled` (a small labelled
   * set seen many times, the regime where distillation helps). Unlimited when absent.
   */
  readonly labelled?: number;
}

/**
 * The procedural shapes data of a world: unlimited training samples (or a labelled set of a given
 * size), a held-out split by layout. The grid world's fingerprint is unchanged from before worlds
 * existed (`procedural-<seed>`), so its shipped teacher and caches stay valid.
 */
export function proceduralData(seed = 0, options: ProceduralDataOptions = {}): TrainingData {
  const world = options.world ?? DEFAULT_WORLD;
  const labelled = options.labelled;
  if (labelled !== undefined && (!Number.isInteger(labelled) || labelled < 1)) {
    throw new Error(`proceduralData: labelled must be a positive integer, got ${labelled}`);
  }
  const at = (index: number) => (labelled === undefined ? index : index % labelled);
  const pool = labelled === undefined ? '' : `-labelled${labelled}`;
  const source = (fingerprint: string) => (labelled === undefined ? {} : { sourceFingerprint: fingerprint });
  if (world === 'continuous') {
    return {
      name: 'procedural-continuous',
      fingerprint: `continuous-v${CONTINUOUS_WORLD_VERSION}-${seed}${pool}`,
      tokenizer: continuousTokenizer(PROCEDURAL_WORDS),
      textLength: TEXT_LENGTH,
      world,
      ...source(`continuous-v${CONTINUOUS_WORLD_VERSION}-${seed}`),
      train: (task, index) => continuousSample({ seed }, 'train', task, at(index)),
      heldOut: (count) => Array.from({ length: count }, (_, i) => continuousSample({ seed }, 'eval', 'qa', i)),
    };
  }
  return {
    name: 'procedural',
    fingerprint: `procedural-${seed}${pool}`,
    tokenizer: proceduralTokenizer(),
    textLength: TEXT_LENGTH,
    world,
    ...source(`procedural-${seed}`),
    train: (task, index) => proceduralSample({ seed }, 'train', task, at(index)),
    heldOut: (count) => proceduralSamples({ seed }, 'eval', 'qa', 0, count),
  };
}
