import { appendFile, readFile, writeFile } from 'node:fs/promises';
import type { EvalReport } from '../data/eval.js';

/** One line of metrics.jsonl. */
export type MetricRecord =
  | {
      readonly type: 'step';
      readonly stage: string;
      readonly step: number;
      readonly loss: number;
      readonly terms: Readonly<Record<string, number>>;
      readonly lr: number;
      readonly seconds: number;
    }
  | {
      readonly type: 'stage';
      readonly stage: string;
      readonly steps: number;
      /** Time of the steps this process trained (after a resume, only those past `resumedAt`). */
      readonly seconds: number;
      readonly from: 'trained' | 'cache';
      /** The step a resumed stage continued at. */
      readonly resumedAt?: number;
    }
  | { readonly type: 'eval'; readonly report: EvalReport };

/** Appends metrics as JSON lines; on resume, drops the lines past the checkpoint first. */
export class MetricsLog {
  constructor(readonly path: string) {}

  async append(record: MetricRecord): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(record)}\n`);
  }

  /**
   * Keeps the records up to a checkpoint: every record of the stages before `stageIndex` and the
   * steps of stage `stageName` below `step` (the steps after it will be trained again).
   */
  async truncateTo(stageNames: readonly string[], stageIndex: number, step: number): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return;
    }
    const kept: string[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let record: MetricRecord;
      try {
        record = JSON.parse(line) as MetricRecord;
      } catch {
        continue; // a line cut short by a kill
      }
      if (record.type === 'eval') continue;
      const index = stageNames.indexOf(record.stage);
      if (index < stageIndex || (index === stageIndex && record.type === 'step' && record.step < step)) kept.push(line);
    }
    await writeFile(this.path, kept.map((l) => `${l}\n`).join(''));
  }
}

/** Reads every record of a metrics file (lines cut short by a kill are skipped). */
export async function readMetrics(path: string): Promise<MetricRecord[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as MetricRecord];
      } catch {
        return [];
      }
    });
}
