import { proceduralSample, proceduralSamples, proceduralTokenizer, TEXT_LENGTH } from '../data/procedural.js';
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
}

/** The procedural shapes data: unlimited training samples, a held-out split by layout. */
export function proceduralData(seed = 0): TrainingData {
  return {
    name: 'procedural',
    fingerprint: `procedural-${seed}`,
    tokenizer: proceduralTokenizer(),
    textLength: TEXT_LENGTH,
    train: (task, index) => proceduralSample({ seed }, 'train', task, index),
    heldOut: (count) => proceduralSamples({ seed }, 'eval', 'qa', 0, count),
  };
}
