/**
 * The one codec for checkpoint folder names: `<stage index>-<stage name>-<step>`, zero-padded
 * (`01-sft-000200`) so that sorting names sorts checkpoints by position in the run. Every place
 * that names, lists or prunes checkpoints goes through here.
 */

/** Where a checkpoint stands in its run: a stage (index and name) and the steps of it done. */
export interface CheckpointPosition {
  readonly stage: number;
  readonly stageName: string;
  readonly step: number;
}

const STAGE_DIGITS = 2;
const STEP_DIGITS = 6;
const PATTERN = /^(\d{2})-([\w-]+)-(\d{6})$/;

/** The folder name of a checkpoint; an error when the position does not fit the fixed widths. */
export function formatCheckpointName(position: CheckpointPosition): string {
  const { stage, stageName, step } = position;
  if (!Number.isInteger(stage) || stage < 0 || stage >= 10 ** STAGE_DIGITS) {
    throw new RangeError(`checkpoint name: stage index ${stage} is outside [0, ${10 ** STAGE_DIGITS})`);
  }
  if (!Number.isInteger(step) || step < 0 || step >= 10 ** STEP_DIGITS) {
    throw new RangeError(`checkpoint name: step ${step} of stage '${stageName}' is outside [0, ${10 ** STEP_DIGITS})`);
  }
  if (!/^[\w-]+$/.test(stageName)) {
    throw new RangeError(`checkpoint name: stage name '${stageName}' may hold only letters, digits, '_' and '-'`);
  }
  return `${String(stage).padStart(STAGE_DIGITS, '0')}-${stageName}-${String(step).padStart(STEP_DIGITS, '0')}`;
}

/**
 * The position a checkpoint folder's name (not its path) encodes, or undefined for any other
 * name (leftovers of interrupted writes such as `….partial-<pid>`, unrelated files).
 */
export function parseCheckpointName(name: string): CheckpointPosition | undefined {
  const match = PATTERN.exec(name);
  if (match === null) return undefined;
  return { stage: Number(match[1]), stageName: match[2]!, step: Number(match[3]) };
}
