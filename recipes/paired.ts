import { type BootstrapOptions, formatInterval, type PairedDifference, pairedBootstrap, verdict } from './analysis.js';
import type { Comparison } from './catalog.js';
import type { RunResult } from './run-folder.js';

/** One paired comparison's outcome, from the runs of both recipes that share a seed. */
export interface PairedRow {
  readonly recipe: string;
  readonly against: string;
  readonly primary: boolean;
  readonly seeds: readonly number[];
  readonly difference: PairedDifference;
}

/**
 * The paired differences of `comparisons` (each recipe minus the one it is compared with), over
 * the seeds both were run with, with the design's bootstrap interval (recipes/analysis.ts).
 * Comparisons with a recipe not run, or with runs that did not record per-question results, are
 * left out. Runs scored on different questions are an error naming them.
 */
export function pairedDifferences(results: readonly RunResult[], comparisons: readonly Comparison[], options: BootstrapOptions = {}): PairedRow[] {
  const bySeed = new Map<string, Map<number, RunResult>>();
  for (const r of results) {
    if (r.questions === undefined) continue;
    bySeed.set(r.recipe, (bySeed.get(r.recipe) ?? new Map()).set(r.seed, r));
  }
  const rows: PairedRow[] = [];
  for (const c of comparisons) {
    const [a, b] = [bySeed.get(c.recipe), bySeed.get(c.against)];
    if (!a || !b) continue;
    const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
    if (seeds.length === 0) continue;
    const first = a.get(seeds[0]!)!.questions!;
    for (const s of seeds) {
      for (const run of [a.get(s)!, b.get(s)!]) {
        const q = run.questions!;
        if (q.ids.length !== first.ids.length || q.ids.some((id, i) => id !== first.ids[i])) {
          throw new Error(
            `${run.recipe} seed ${run.seed} was scored on other questions than ${c.recipe} seed ${seeds[0]} (${q.ids.length} vs ${first.ids.length}): ` +
              'paired comparisons need the same held-out questions',
          );
        }
      }
    }
    const difference = pairedBootstrap(
      first.kinds,
      seeds.map((s) => a.get(s)!.questions!.correct),
      seeds.map((s) => b.get(s)!.questions!.correct),
      options,
    );
    rows.push({ recipe: c.recipe, against: c.against, primary: c.primary, seeds, difference });
  }
  return rows;
}

/**
 * A Markdown table of paired differences: per comparison the difference of the mean over types
 * with its 95% interval, what the interval says, each question type's difference and interval,
 * and every seed's own difference. Points are exact-match percentage points; ★ marks the
 * design's primary comparisons.
 */
export function pairedTable(rows: readonly PairedRow[]): string {
  const kinds = [...new Set(rows.flatMap((r) => Object.keys(r.difference.perKind)))].sort();
  const header = ['recipe − compared with', 'seeds', 'Δ average [95% CI]', 'interval', ...kinds.map((k) => `Δ ${k}`), 'Δ per seed'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 || i === 3 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const d = r.difference;
    const perSeed = d.perSeed.map((v, i) => `${r.seeds[i]}: ${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(1)}`).join(', ');
    lines.push(
      `| ${[
        `${r.primary ? '★ ' : ''}${r.recipe} − ${r.against}`,
        String(r.seeds.length),
        formatInterval(d),
        verdict(d),
        ...kinds.map((k) => (d.perKind[k] ? formatInterval(d.perKind[k]) : '–')),
        perSeed,
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Every run's mean-over-types exact match, one row per recipe and one column per seed (a run not
 * made shows –), so that no seed is hidden behind a mean.
 */
export function seedTable(results: readonly RunResult[]): string {
  const seeds = [...new Set(results.map((r) => r.seed))].sort((a, b) => a - b);
  const byRecipe = new Map<string, Map<number, RunResult>>();
  for (const r of results) byRecipe.set(r.recipe, (byRecipe.get(r.recipe) ?? new Map()).set(r.seed, r));
  const header = ['recipe', ...seeds.map((s) => `seed ${s}`)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const [recipe, runs] of byRecipe) {
    lines.push(`| ${[recipe, ...seeds.map((s) => (runs.has(s) ? (100 * runs.get(s)!.report.average).toFixed(1) : '–'))].join(' | ')} |`);
  }
  return lines.join('\n');
}
