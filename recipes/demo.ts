import { join } from 'node:path';
import type { DeviceLossWatch } from '../backends/device-loss.js';
import type { AssignmentPool } from '../matching/assignment/pool/worker-pool.js';
import { createLlava } from '../models/index.js';
import { formatInterval, verdict } from './analysis.js';
import { QUICK_SCALE, recipes, studyComparisons } from './catalog.js';
import { compareTable } from './compare.js';
import { evalBatches } from './environment.js';
import { evaluateQuestions } from './evaluation.js';
import { type PairedRow, pairedDifferences, pairedTable } from './paired.js';
import { measurePrefill, type PrefillComparison } from './prefill.js';
import type { Progress } from './progress.js';
import { resolveTeacher } from './resolve-teacher.js';
import { runBegun } from './run-folder.js';
import { type RunResult, runRecipe } from './runner.js';
import { DEFAULT_WORLD, demoScaleFor, scaleFor, type World, worldEnvironment } from './world.js';

/**
 * The students the demo trains, in the order of the table: each distilled student beside the
 * baseline trained on its own model without a teacher (LLaVA-KD's smaller student, EM-KD's
 * efficient one).
 */
export const DEMO_RECIPES = ['baseline', 'llava-kd', 'em-kd-baseline', 'em-kd'] as const;

/** The demo's paired comparisons: each distilled student minus its own baseline. */
const DEMO_COMPARISONS = studyComparisons().filter((c) =>
  c.recipe === 'llava-kd' ? c.against === 'baseline' : c.recipe === 'em-kd' && c.against === 'em-kd-baseline',
);

export interface DemoOptions {
  readonly quick: boolean;
  /** Where the runs go (default runs/demo or runs/demo-quick). */
  readonly out: string;
  readonly backend: string;
  readonly progress: Progress;
  readonly pool?: AssignmentPool;
  readonly deviceLoss?: DeviceLossWatch;
  readonly teacher?: string;
  /** The procedural world (default `DEFAULT_WORLD`, the continuous one). */
  readonly world?: World;
}

export interface DemoOutcome {
  /** Exact match per question type, each student beside the teacher. */
  readonly table: string;
  /** Each distilled student minus its baseline, with a 95% bootstrap interval over the questions. */
  readonly pairedTable: string;
  readonly paired: readonly PairedRow[];
  /** The efficient student's prefill against the full-token student's, on the demo's backend. */
  readonly prefill: PrefillComparison;
  /** What the numbers mean, in plain words. */
  readonly summary: string;
  readonly results: RunResult[];
  /** Where each row came from: the teacher's checkpoint, and each student's run folder. */
  readonly folders: ReadonlyArray<{ readonly recipe: string; readonly path: string }>;
}

/**
 * The main job: the teacher (the checkpoint mmkd ships, else one trained first), then the
 * baseline, LLaVA-KD and EM-KD students, each scored by exact match on the held-out questions,
 * in one comparison table. Runs already finished (or half finished) in `out` are reused or
 * resumed, and stages the students share are trained once.
 */
export async function runDemo(options: DemoOptions): Promise<DemoOutcome> {
  const world = options.world ?? DEFAULT_WORLD;
  const catalog = recipes(options.quick ? scaleFor(world, QUICK_SCALE) : demoScaleFor(world));
  // --quick scores 500 questions in every world (its numbers only show that the pipeline runs).
  const environment = worldEnvironment(world, options.quick ? { evalSamples: 500 } : {});
  const teacher = await resolveTeacher({
    ...(options.teacher ? { path: options.teacher } : {}),
    environment,
    recipe: catalog.get('teacher')!,
    backend: options.backend,
    cacheRoot: join(options.out, '.cache'),
    progress: options.progress,
    ...(options.pool ? { pool: options.pool } : {}),
  });
  try {
    options.progress.note(`teacher: ${teacher.source}`);
    const { report: teacherReport } = await evaluateQuestions(teacher.model.forward, evalBatches(environment, 'teacher'));
    const results: RunResult[] = [{ recipe: 'teacher', seed: 0, backend: options.backend, report: teacherReport, checkpoint: teacher.source, seconds: 0 }];
    const folders = [{ recipe: 'teacher', path: teacher.checkpoint }];
    for (const name of DEMO_RECIPES) {
      const dir = join(options.out, name);
      folders.push({ recipe: name, path: dir });
      options.progress.note(`— ${name}: ${catalog.get(name)!.description}`);
      results.push(
        await runRecipe({
          recipe: catalog.get(name)!,
          seed: 0,
          dir,
          resume: await runBegun(dir),
          environment,
          backend: options.backend,
          teacher,
          cacheDir: join(options.out, '.cache'),
          checkpointEvery: 100,
          progress: options.progress,
          ...(options.pool ? { pool: options.pool } : {}),
          ...(options.deviceLoss ? { deviceLoss: options.deviceLoss } : {}),
        }),
      );
    }
    const labels = new Map([
      ['teacher', 'teacher (l-MLLM)'],
      ['baseline', 'baseline student (PT + SFT)'],
      ['llava-kd', 'LLaVA-KD student (DPT + SFT + DFT)'],
      ['em-kd-baseline', 'efficient baseline (4× fewer vision tokens, no teacher)'],
      ['em-kd', 'EM-KD efficient student (4× fewer vision tokens)'],
    ]);
    // One seed: the intervals cover which questions were asked, not seed-to-seed variation.
    const paired = pairedDifferences(results, DEMO_COMPARISONS);
    options.progress.note('measuring prefill: the efficient student against the full-token student');
    const efficient = createLlava(environment.configs.efficient, { seed: 0 });
    const full = createLlava(environment.configs['full-token'], { seed: 0 });
    let prefill: PrefillComparison;
    try {
      prefill = await measurePrefill(environment, { efficient, full }, { repetitions: options.quick ? 5 : 15 });
    } finally {
      efficient.dispose();
      full.dispose();
    }
    return {
      table: compareTable(results, { labels }),
      pairedTable: pairedTable(paired),
      paired,
      prefill,
      summary: demoSummary(paired, prefill, { quick: options.quick, questions: environment.evalSamples }),
      results,
      folders,
    };
  } finally {
    teacher.model.dispose();
  }
}

/**
 * The plain-language lines under the demo's tables: for each distilled student, how far it is
 * from its baseline and whether one seed's questions resolve that; then the prefill ratio.
 */
export function demoSummary(paired: readonly PairedRow[], prefill: PrefillComparison, o: { readonly quick: boolean; readonly questions: number }): string {
  const names: Record<string, string> = { 'llava-kd': 'The LLaVA-KD student', 'em-kd': 'The EM-KD efficient student' };
  const baselineNames: Record<string, string> = { baseline: 'the baseline', 'em-kd-baseline': 'the efficient baseline' };
  const lines = paired.map((row) => {
    const d = row.difference;
    const points = Math.abs(100 * d.estimate).toFixed(1);
    const direction = d.estimate > 0 ? `${points} points above` : d.estimate < 0 ? `${points} points below` : 'level with';
    const meaning =
      verdict(d) === 'not resolved'
        ? `the interval contains 0, so on these ${o.questions} questions it is not distinguishable from no difference`
        : 'the interval excludes 0, so the difference is larger than the choice of questions explains';
    return `${names[row.recipe] ?? row.recipe} scored ${direction} ${baselineNames[row.against] ?? row.against} (${formatInterval(d)}, 95% interval over questions): ${meaning}.`;
  });
  lines.push(
    `With ${prefill.full.visionTokens / prefill.efficient.visionTokens}× fewer vision tokens, the efficient student's prefill was ${speed(prefill.batchRatio)} ` +
      `the full-token student's on a batch of ${prefill.batchSize} questions, and ${speed(prefill.firstTokenRatio)} it to the first answer token of one question (medians, measured now, on this machine).`,
  );
  lines.push(
    o.quick
      ? 'This was --quick: the students are barely trained, so these numbers only show that the pipeline runs; they say nothing about distillation.'
      : 'One seed: the intervals cover which questions were asked, not how much a student changes with its seed; `npm run results` trains every recipe over several seeds and gives intervals over both (RESULTS.md).',
  );
  return lines.join('\n');
}

/** A ratio full ÷ efficient of times, in words: `2.31× faster than` or `1.30× slower than`. */
function speed(ratio: number): string {
  return ratio >= 1 ? `${ratio.toFixed(2)}× faster than` : `${(1 / ratio).toFixed(2)}× slower than`;
}
