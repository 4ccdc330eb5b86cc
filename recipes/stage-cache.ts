import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LlavaModel } from '../models/index.js';
import { type CheckpointContents, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { type MetricRecord, type MetricsLog, readMetrics } from './metrics.js';
import { loadCheckpointWeights, modelWeights } from './model-state.js';

/**
 * The stage cache: finished stages shared by runs that begin alike. An entry is a checkpoint
 * folder named by the prefix fingerprint of the stages it holds (model, start, seed, teacher,
 * backend, data and those stages), with the metrics that trained them.
 */

/**
 * Restores the longest run of leading stages (of `stageCount`) that an earlier run already
 * trained: the model takes the entry's weights and the metrics log its records (stages marked
 * `from: 'cache'`). Returns how many stages were restored (0 when none is cached).
 */
export async function restoreFromCache(
  cacheDir: string,
  stageCount: number,
  fingerprint: (stages: number) => string,
  model: LlavaModel,
  metrics: MetricsLog,
): Promise<number> {
  for (let stages = stageCount; stages >= 1; stages--) {
    const entry = join(cacheDir, fingerprint(stages));
    let contents: CheckpointContents;
    try {
      contents = await readCheckpoint(entry);
    } catch {
      continue;
    }
    loadCheckpointWeights(model, contents.weights, entry);
    const cached = await readMetrics(join(entry, 'metrics.jsonl')).catch(() => [] as MetricRecord[]);
    for (const record of cached) await metrics.append(record.type === 'stage' ? { ...record, from: 'cache' } : record);
    return stages;
  }
  return 0;
}

/** Stores the model after a stage under `key`, with the run's metrics so far (once per key). */
export async function cacheStage(cacheDir: string, key: string, model: LlavaModel, metrics: MetricsLog, stageName: string): Promise<void> {
  const entry = join(cacheDir, key);
  try {
    await readCheckpoint(entry);
    return; // already cached
  } catch {
    // not yet
  }
  await mkdir(cacheDir, { recursive: true });
  await writeCheckpoint(
    entry,
    { recipe: 'stage-cache', seed: 0, backend: '', fingerprint: key, stage: 0, stageName, step: 0, complete: true, optimizerStep: 0 },
    await modelWeights(model),
    new Map(),
  );
  const records = await readMetrics(metrics.path);
  await writeFile(join(entry, 'metrics.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}
