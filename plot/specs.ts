/**
 * Vega-Lite specifications of mmkd's charts, as plain data: loss curves per term and stage of a
 * run, and exact-match accuracy per question type of one or more runs. Pure (no Node, no DOM), so
 * the CLI renders them with vega's Node renderer and a page can embed the same specs.
 */
import type { TopLevelSpec } from 'vega-lite';

/** One point of a loss curve: the value of `term` at `step` of `stage`. */
export interface LossPoint {
  readonly stage: string;
  readonly step: number;
  readonly term: string;
  readonly value: number;
}

/** The name the total loss of a step is plotted under, beside its terms. */
export const TOTAL_LOSS = 'total';

/** A training step as the curves need it (a `step` record of metrics.jsonl). */
export interface StepValues {
  readonly stage: string;
  readonly step: number;
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
}

/**
 * The points of a run's loss curves: every term of every step, and the total loss where a stage
 * has more than one term (with one term the total is that term, and would hide it). Non-finite
 * values (NaN is written to JSON as null) are left out and counted, so a chart never draws them.
 */
export function lossPoints(steps: readonly StepValues[]): { points: LossPoint[]; nonFinite: number } {
  const termsOfStage = new Map<string, Set<string>>();
  for (const s of steps) {
    const names = termsOfStage.get(s.stage) ?? new Set<string>();
    for (const name of Object.keys(s.terms)) names.add(name);
    termsOfStage.set(s.stage, names);
  }
  const points: LossPoint[] = [];
  let nonFinite = 0;
  const push = (stage: string, step: number, term: string, value: unknown): void => {
    if (typeof value === 'number' && Number.isFinite(value)) points.push({ stage, step, term, value });
    else nonFinite++;
  };
  for (const s of steps) {
    if ((termsOfStage.get(s.stage)?.size ?? 0) !== 1) push(s.stage, s.step, TOTAL_LOSS, s.loss);
    for (const [term, value] of Object.entries(s.terms)) push(s.stage, s.step, term, value);
  }
  return { points, nonFinite };
}

/**
 * Loss curves: one panel per stage (in training order, each with its own step and loss axes),
 * one line per term, coloured by term name; a log-scaled loss axis when `log` is set.
 */
export function lossCurvesSpec(title: string, stages: readonly string[], points: readonly LossPoint[], options: { readonly log?: boolean } = {}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start' },
    data: { values: points.map((p) => ({ ...p })) },
    facet: { row: { field: 'stage', type: 'nominal', sort: [...stages], title: 'stage', header: { labelAngle: 0, labelAlign: 'left' } } },
    spec: {
      width: 520,
      height: 180,
      mark: { type: 'line', strokeWidth: 1.5, clip: true },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step', axis: { format: 'd', tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: 'loss', scale: options.log ? { type: 'log' } : { zero: false } },
        color: { field: 'term', type: 'nominal', title: 'term' },
        tooltip: [
          { field: 'stage', type: 'nominal' },
          { field: 'term', type: 'nominal' },
          { field: 'step', type: 'quantitative' },
          { field: 'value', type: 'quantitative', format: '.4f' },
        ],
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif' },
  };
}

/** One bar of the accuracy chart: a run's exact match on one question type (or the average). */
export interface AccuracyPoint {
  readonly run: string;
  readonly kind: string;
  readonly accuracy: number;
  readonly correct: number;
  readonly total: number;
}

/** The category name of the mean of the per-type accuracies, drawn after the types. */
export const AVERAGE_KIND = 'average';

/** A run's report as the accuracy chart needs it (`result.json`'s `report`). */
export interface ReportValues {
  readonly perKind: Readonly<Record<string, { readonly correct: number; readonly total: number; readonly accuracy: number }>>;
  readonly average: number;
  readonly samples: number;
}

/** The bars of the accuracy chart: each run's per-type accuracy, then its average over types. */
export function accuracyPoints(runs: readonly { readonly label: string; readonly report: ReportValues }[]): AccuracyPoint[] {
  return runs.flatMap(({ label, report }) => [
    ...Object.entries(report.perKind).map(([kind, score]) => ({ run: label, kind, accuracy: score.accuracy, correct: score.correct, total: score.total })),
    { run: label, kind: AVERAGE_KIND, accuracy: report.average, correct: Number.NaN, total: report.samples },
  ]);
}

/** The accuracy chart's data rows: the points with the accuracy in percent (no count for the average). */
export const accuracyRows = (points: readonly AccuracyPoint[]) =>
  points.map((p) => ({ ...p, percent: 100 * p.accuracy, correct: Number.isFinite(p.correct) ? p.correct : null }));

/**
 * Exact match per question type: grouped bars (a group per type, a bar per run, the average
 * last), accuracy in percent on a fixed 0–100 axis so charts of different runs compare.
 */
export function accuracySpec(title: string, points: readonly AccuracyPoint[]): TopLevelSpec {
  const kinds = [...new Set(points.map((p) => p.kind).filter((k) => k !== AVERAGE_KIND))].sort();
  const runs = [...new Set(points.map((p) => p.run))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start' },
    data: { values: accuracyRows(points) },
    width: { step: Math.max(12, Math.min(40, Math.floor(120 / runs.length))) },
    height: 240,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'kind', type: 'nominal', title: 'question type', sort: [...kinds, AVERAGE_KIND], axis: { labelAngle: 0 } },
      xOffset: { field: 'run', type: 'nominal', sort: runs },
      y: { field: 'percent', type: 'quantitative', title: 'exact match (%)', scale: { domain: [0, 100] } },
      color: { field: 'run', type: 'nominal', title: 'run', sort: runs },
      tooltip: [
        { field: 'run', type: 'nominal' },
        { field: 'kind', type: 'nominal', title: 'type' },
        { field: 'percent', type: 'quantitative', format: '.1f', title: 'exact match (%)' },
        { field: 'correct', type: 'quantitative' },
        { field: 'total', type: 'quantitative' },
      ],
    },
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif' },
  };
}
