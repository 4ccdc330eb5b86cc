/**
 * What the charts read from a run folder: the step records of `metrics.jsonl` and the report of
 * `result.json`, checked line by line so a bad file is refused with its path (and line) rather
 * than drawn as an empty or wrong chart.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { ReportValues, StepValues } from './specs.js';

/** A run folder or file that cannot be plotted; the message names the path. */
export class PlotError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'PlotError';
  }
}

/** A run's training as the loss curves need it. */
export interface RunSteps {
  /** The stages in the order they were trained or taken from the cache. */
  readonly stages: readonly string[];
  readonly steps: readonly StepValues[];
  /** Stages that came from the stage cache (no steps recorded for them). */
  readonly cached: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A loss as JSON holds it: a number, or null where the value was NaN or infinite. */
const isLossValue = (v: unknown): v is number => typeof v === 'number' || v === null;

/** Refuses a path that is missing or not a folder, saying which. */
async function requireFolder(dir: string): Promise<void> {
  const kind = await stat(dir).then(
    (s) => (s.isDirectory() ? 'folder' : 'file'),
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return 'missing';
      throw new PlotError(`${dir} cannot be read: ${e.message}`);
    },
  );
  if (kind === 'missing') throw new PlotError(`${dir} does not exist; pass the folder of a run (mmkd run … --out <folder>)`);
  if (kind === 'file') throw new PlotError(`${dir} is a file, not a run folder; pass the folder of a run (mmkd run … --out <folder>)`);
}

/**
 * Reads the step records of `<dir>/metrics.jsonl`. Refused: a missing or empty file, a line that
 * is not JSON (except the last, which a killed run may have cut short), a step record without a
 * stage, step, loss and terms, and a file without a single step.
 */
export async function readRunSteps(dir: string): Promise<RunSteps> {
  await requireFolder(dir);
  const path = join(dir, 'metrics.jsonl');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new PlotError(`${path} does not exist: ${dir} is not a run folder, or its run has not started (mmkd run writes metrics.jsonl)`);
    }
    throw new PlotError(`${path} cannot be read: ${(e as Error).message}`);
  }
  const lines = text.split('\n');
  const lastContent = lines.findLastIndex((l) => l.trim() !== '');
  if (lastContent < 0) throw new PlotError(`${path} is empty: the run has not recorded a training step yet`);
  const stages: string[] = [];
  const cached: string[] = [];
  const steps: StepValues[] = [];
  const seeStage = (stage: string): void => {
    if (!stages.includes(stage)) stages.push(stage);
  };
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `${path}:${index + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      if (index === lastContent) continue; // cut short by a kill
      throw new PlotError(`${where} is not a JSON line: ${line.length > 60 ? `${line.slice(0, 60)}…` : line}`);
    }
    if (!isRecord(record) || typeof record['type'] !== 'string') throw new PlotError(`${where} is not a metrics record (no "type")`);
    if (record['type'] === 'step') {
      const { stage, step, loss, terms } = record;
      if (typeof stage !== 'string' || typeof step !== 'number' || !isLossValue(loss) || !isRecord(terms) || !Object.values(terms).every(isLossValue)) {
        throw new PlotError(`${where} is a step record without a stage name, a step number, a loss and numeric terms`);
      }
      seeStage(stage);
      steps.push({
        stage,
        step,
        loss: loss ?? Number.NaN,
        terms: Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, (v as number | null) ?? Number.NaN])),
      });
    } else if (record['type'] === 'stage' && typeof record['stage'] === 'string') {
      seeStage(record['stage']);
      if (record['from'] === 'cache') cached.push(record['stage']);
    }
  }
  if (steps.length === 0) {
    const why = cached.length > 0 ? ` (stages ${cached.join(', ')} came from the stage cache, which records no steps; run with --no-cache to train them)` : '';
    throw new PlotError(`${path} holds no training steps${why}`);
  }
  return { stages, steps, cached };
}

/** `<dir>/result.json`'s report, or undefined when the run has not finished (no result.json). */
export async function readRunReport(dir: string): Promise<ReportValues | undefined> {
  await requireFolder(dir);
  const path = join(dir, 'result.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PlotError(`${path} cannot be read: ${(e as Error).message}`);
  }
  let result: unknown;
  try {
    result = JSON.parse(text);
  } catch (e) {
    throw new PlotError(`${path} is not JSON: ${(e as Error).message}`);
  }
  const report = isRecord(result) ? result['report'] : undefined;
  if (!isRecord(report) || !isRecord(report['perKind']) || typeof report['average'] !== 'number' || typeof report['samples'] !== 'number') {
    throw new PlotError(`${path} has no evaluation report (report.perKind, report.average, report.samples)`);
  }
  for (const [kind, score] of Object.entries(report['perKind'])) {
    if (!isRecord(score) || typeof score['accuracy'] !== 'number' || typeof score['correct'] !== 'number' || typeof score['total'] !== 'number') {
      throw new PlotError(`${path}: report.perKind.${kind} is not {correct, total, accuracy}`);
    }
  }
  return report as unknown as ReportValues;
}
