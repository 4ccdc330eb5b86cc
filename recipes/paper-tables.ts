import { formatInterval, verdict } from './analysis.js';
import type { Comparison } from './catalog.js';
import { formatMeanStd } from './compare.js';
import { type PairedRow, pairedDifferences } from './paired.js';
import type { RunResult } from './run-folder.js';

/**
 * One row of a paper's table placed beside an mmkd recipe: the paper's average over its
 * benchmarks, and the recipe (with the recipe it is compared with) that plays that row here.
 */
export interface PaperRow {
  readonly row: string;
  readonly paper: number;
  readonly recipe: string;
  /** The recipe whose paired difference the row reports (omitted: the table's reference row). */
  readonly against?: string;
}

export interface PaperTable {
  readonly title: string;
  /** What the reader needs to read the rows (where the paper's numbers come from). */
  readonly note?: string;
  readonly rows: readonly PaperRow[];
}

/**
 * The papers' tables the second study places its results beside (RESULTS.md, "Design of the
 * second study"): LLaVA-KD Tables 2 and 3 (averages over 10 benchmarks), EM-KD's matching and
 * incremental ablations (averages over 11), MiniLLM, and EM-KD's efficiency claim. Each row's
 * difference is paired with the row the design compares it to; in the incremental ablation that
 * is the step before.
 */
export const PAPER_TABLES: readonly PaperTable[] = [
  {
    title: 'LLaVA-KD, Table 2 (training stages)',
    rows: [
      { row: 'PT+SFT', paper: 54.7, recipe: 'baseline' },
      { row: 'PT+DFT', paper: 55.8, recipe: 'llava-kd-pt-dft', against: 'baseline' },
      { row: 'DPT+SFT', paper: 55.6, recipe: 'llava-kd-dpt-sft', against: 'baseline' },
      { row: 'DPT+DFT', paper: 55.9, recipe: 'llava-kd-dpt-dft', against: 'baseline' },
      { row: 'DPT+SFT+DFT', paper: 57.9, recipe: 'llava-kd', against: 'baseline' },
    ],
  },
  {
    title: 'LLaVA-KD, Table 3 (MDist and RDist in DPT and DFT)',
    note: "Rows placed by the paper's text; the both/both row equals Table 2's DPT+SFT+DFT.",
    rows: [
      { row: 'DPT MDist only → SFT', paper: 55.1, recipe: 'llava-kd-dpt-mdist-sft', against: 'baseline' },
      { row: 'DPT RDist only → SFT', paper: 55.5, recipe: 'llava-kd-dpt-rdist-sft', against: 'baseline' },
      { row: 'DPT both → SFT', paper: 55.6, recipe: 'llava-kd-dpt-sft', against: 'baseline' },
      { row: 'DPT → SFT → DFT MDist only', paper: 57.7, recipe: 'llava-kd-dft-mdist', against: 'baseline' },
      { row: 'DPT → SFT → DFT RDist only', paper: 57.0, recipe: 'llava-kd-dft-rdist', against: 'baseline' },
      { row: 'DPT → SFT → DFT both', paper: 57.9, recipe: 'llava-kd', against: 'baseline' },
    ],
  },
  {
    title: 'EM-KD, matching ablation',
    rows: [
      { row: 'baseline (no distillation)', paper: 47.7, recipe: 'em-kd-baseline' },
      { row: 'average pooling', paper: 48.6, recipe: 'em-kd-pool', against: 'em-kd-baseline' },
      { row: 'Hungarian on hidden states', paper: 49.4, recipe: 'em-kd-hidden', against: 'em-kd-baseline' },
      { row: 'Hungarian on logits (EM-KD)', paper: 50.4, recipe: 'em-kd', against: 'em-kd-baseline' },
    ],
  },
  {
    title: 'EM-KD, incremental ablation (each step against the one before)',
    rows: [
      { row: 'baseline', paper: 47.7, recipe: 'em-kd-baseline' },
      { row: '+ VLAD', paper: 48.4, recipe: 'em-kd-vlad', against: 'em-kd-baseline' },
      { row: '+ VSD', paper: 49.5, recipe: 'em-kd-vlad-vsd', against: 'em-kd-vlad' },
      { row: '+ RLD (EM-KD)', paper: 50.4, recipe: 'em-kd', against: 'em-kd-vlad-vsd' },
    ],
  },
  {
    title: 'MiniLLM (the paper compares an 8B MiniLLM, 62.5, with EM-KD at 63.4)',
    rows: [
      { row: 'baseline', paper: Number.NaN, recipe: 'baseline' },
      { row: 'MiniLLM', paper: 62.5, recipe: 'minillm', against: 'baseline' },
    ],
  },
  {
    title: "EM-KD's efficiency claim (accuracy; the prefill ratio is measured by `npm run bench -- prefill`)",
    note: 'EM-KD reports its efficient model at or above the vanilla full-token model with 4× fewer vision tokens.',
    rows: [
      { row: 'full-token student (no distillation)', paper: Number.NaN, recipe: 'full-token' },
      { row: 'efficient student + EM-KD', paper: Number.NaN, recipe: 'em-kd', against: 'full-token' },
      { row: 'efficient baseline (pooling, no teacher)', paper: Number.NaN, recipe: 'em-kd-baseline', against: 'full-token' },
    ],
  },
];

/**
 * The papers' tables in Markdown, each row beside its recipe's mean ± std over seeds, every
 * seed's value, and its paired difference (95% two-way bootstrap interval, and what the interval
 * says). Rows whose recipe was not run show –; nothing is left out silently.
 */
export function paperTables(results: readonly RunResult[], tables: readonly PaperTable[] = PAPER_TABLES): string {
  const byRecipe = new Map<string, RunResult[]>();
  for (const r of results) byRecipe.set(r.recipe, [...(byRecipe.get(r.recipe) ?? []), r]);
  const comparisons: Comparison[] = tables.flatMap((t) =>
    t.rows.flatMap((row) => (row.against === undefined ? [] : [{ recipe: row.recipe, against: row.against, primary: false }])),
  );
  const unique = [...new Map(comparisons.map((c) => [`${c.recipe}/${c.against}`, c])).values()];
  const paired = new Map<string, PairedRow>(pairedDifferences(results, unique).map((p) => [`${p.recipe}/${p.against}`, p]));
  const sections = tables.map((t) => {
    const lines = [`#### ${t.title}`, ''];
    if (t.note) lines.push(t.note, '');
    lines.push(
      '| row | paper AVG | mmkd recipe | seeds | mmkd exact match | per seed | paired difference [95% CI] | interval |',
      '|---|---:|---|---:|---:|---|---|---|',
    );
    for (const row of t.rows) {
      const runs = [...(byRecipe.get(row.recipe) ?? [])].sort((a, b) => a.seed - b.seed);
      const values = runs.map((r) => r.report.average);
      const p = row.against === undefined ? undefined : paired.get(`${row.recipe}/${row.against}`);
      lines.push(
        `| ${[
          row.row,
          Number.isNaN(row.paper) ? '–' : row.paper.toFixed(1),
          `\`${row.recipe}\``,
          String(runs.length),
          runs.length === 0 ? 'not run' : formatMeanStd(values),
          runs.map((r) => `${r.seed}: ${(100 * r.report.average).toFixed(1)}`).join(', ') || '–',
          row.against === undefined
            ? '(reference)'
            : p
              ? `${formatInterval(p.difference)} vs \`${row.against}\``
              : `– (no paired runs with \`${row.against}\`)`,
          p ? verdict(p.difference) : '–',
        ].join(' | ')} |`,
      );
    }
    return lines.join('\n');
  });
  return sections.join('\n\n');
}
