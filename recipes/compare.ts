import type { EvalReport } from '../data/eval.js';
import type { RunResult } from './runner.js';

/**
 * A Markdown table of runs: one row per recipe, the exact-match accuracy per question type and
 * their average, as mean ± standard deviation over the recipe's seeds (sample standard deviation;
 * a single seed shows no ±). Rows keep the order in which recipes first appear. The seeds column
 * counts distinct seeds; callers refuse runs that share one (`runsSharingASeed`), which would
 * count one seed twice in the mean ± std.
 */
export function compareTable(results: readonly RunResult[], options: { readonly labels?: ReadonlyMap<string, string> } = {}): string {
  const byRecipe = new Map<string, RunResult[]>();
  for (const r of results) byRecipe.set(r.recipe, [...(byRecipe.get(r.recipe) ?? []), r]);
  const kinds = [...new Set(results.flatMap((r) => Object.keys(r.report.perKind)))].sort();
  const header = ['recipe', 'seeds', ...kinds, 'average'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const [recipe, runs] of byRecipe) {
    const cell = (pick: (r: EvalReport) => number | undefined) => formatMeanStd(runs.map((r) => pick(r.report)).filter((v): v is number => v !== undefined));
    const label = options.labels?.get(recipe) ?? recipe;
    lines.push(
      `| ${[label, String(new Set(runs.map((r) => r.seed)).size), ...kinds.map((k) => cell((r) => r.perKind[k]?.accuracy)), cell((r) => r.average)].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Groups of runs (by their folders) of one recipe with one seed, in the order given: a run passed
 * twice, or two copies of a run. Empty when every recipe's seeds are distinct.
 */
export function runsSharingASeed(runs: readonly { readonly dir: string; readonly result: RunResult }[]): { recipe: string; seed: number; dirs: string[] }[] {
  const groups = new Map<string, { recipe: string; seed: number; dirs: string[] }>();
  for (const { dir, result } of runs) {
    const key = JSON.stringify([result.recipe, result.seed]);
    const group = groups.get(key) ?? { recipe: result.recipe, seed: result.seed, dirs: [] };
    group.dirs.push(dir);
    groups.set(key, group);
  }
  return [...groups.values()].filter((g) => g.dirs.length > 1);
}

/** Accuracies as percentages: `71.3 ± 2.1`. */
export function formatMeanStd(values: readonly number[]): string {
  if (values.length === 0) return '–';
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return (100 * mean).toFixed(1);
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return `${(100 * mean).toFixed(1)} ± ${(100 * Math.sqrt(variance)).toFixed(1)}`;
}
