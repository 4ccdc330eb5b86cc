/**
 * `mmkd plot`'s work: for each run folder, its loss curves per term and stage; for the runs that
 * finished, one chart of exact match per question type with a bar per run.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { type ChartFormat, writeChart } from './render.js';
import { readRunReport, readRunSteps } from './run-data.js';
import { accuracyPoints, accuracySpec, lossCurvesSpec, lossPoints, type ReportValues } from './specs.js';

export interface PlotOptions {
  readonly out: string;
  readonly formats: readonly ChartFormat[];
  /** A log-scaled loss axis. */
  readonly log?: boolean;
}

export interface PlotOutcome {
  /** Every file written. */
  readonly files: readonly string[];
  /** What a reader should know about the charts (cached stages, values left out, runs not finished). */
  readonly notes: readonly string[];
}

/**
 * Short distinct labels for run folders: each folder's name, or its last two path parts where two
 * folders share a name (`seed0/llava-kd`), or a numbered name as a last resort.
 */
export function runLabels(dirs: readonly string[]): string[] {
  const names = dirs.map((d) => basename(resolve(d)));
  const labels = names.map((name, i) => {
    if (names.filter((n) => n === name).length === 1) return name;
    const parts = resolve(dirs[i] as string).split(/[\\/]/);
    return parts.slice(-2).join('/');
  });
  return labels.map((label, i) => (labels.indexOf(label) === i ? label : `${label} (${i + 1})`));
}

/** A label as part of a file name: path separators and other odd characters become '-'. */
const fileStem = (label: string): string => label.replace(/[^A-Za-z0-9._-]+/g, '-');

/** "recipe seed N" from a run's run.json, when it has one. */
async function describeRun(dir: string): Promise<string | undefined> {
  try {
    const header = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as { recipe?: unknown; seed?: unknown };
    return typeof header.recipe === 'string' ? `${header.recipe} seed ${String(header.seed)}` : undefined;
  } catch {
    return undefined;
  }
}

/** Reads every run first (so a bad folder is refused before any file is written), then writes the charts. */
export async function plotRuns(dirs: readonly string[], options: PlotOptions): Promise<PlotOutcome> {
  const labels = runLabels(dirs);
  const runs = [];
  for (const [i, dir] of dirs.entries()) {
    runs.push({ dir, label: labels[i] as string, steps: await readRunSteps(dir), report: await readRunReport(dir), about: await describeRun(dir) });
  }
  await mkdir(options.out, { recursive: true });
  const files: string[] = [];
  const notes: string[] = [];
  for (const run of runs) {
    const { points, nonFinite } = lossPoints(run.steps.steps);
    if (run.steps.cached.length > 0) notes.push(`${run.dir}: stages ${run.steps.cached.join(', ')} came from the stage cache and have no curves`);
    if (nonFinite > 0) notes.push(`${run.dir}: ${nonFinite} non-finite loss value(s) left out of the curves`);
    const title = `${run.label}${run.about ? ` (${run.about})` : ''}: loss per term and stage`;
    const stages = run.steps.stages.filter((s) => points.some((p) => p.stage === s));
    files.push(
      ...(await writeChart(lossCurvesSpec(title, stages, points, { log: options.log }), join(options.out, `${fileStem(run.label)}-loss`), options.formats)),
    );
  }
  const finished = runs.flatMap((r) => (r.report === undefined ? [] : [{ label: r.label, report: r.report }]));
  for (const r of runs) if (r.report === undefined) notes.push(`${r.dir} has no result.json (not finished): left out of the accuracy chart`);
  if (finished.length > 0) {
    files.push(...(await writeChart(accuracyChart(finished), join(options.out, 'accuracy'), options.formats)));
  }
  return { files, notes };
}

/** The accuracy-per-question-type chart of finished runs. */
export function accuracyChart(runs: readonly { readonly label: string; readonly report: ReportValues }[]) {
  const samples = [...new Set(runs.map((r) => r.report.samples))];
  const title = `Exact match per question type (${samples.length === 1 ? `${samples[0]} held-out questions` : 'held-out questions'})`;
  return accuracySpec(title, accuracyPoints(runs));
}
