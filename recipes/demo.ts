import { join } from 'node:path';
import type { DeviceLossWatch } from '../backends/device-loss.js';
import { evaluateExactMatch } from '../data/eval.js';
import type { AssignmentPool } from '../matching/assignment/pool/worker-pool.js';
import { DEFAULT_SCALE, QUICK_SCALE, recipes } from './catalog.js';
import { compareTable } from './compare.js';
import { evalBatches, runEnvironment } from './environment.js';
import type { Progress } from './progress.js';
import { resolveTeacher } from './resolve-teacher.js';
import { runBegun } from './run-folder.js';
import { type RunResult, runRecipe } from './runner.js';

/** The students the demo trains, in the order of the table. */
export const DEMO_RECIPES = ['baseline', 'llava-kd', 'em-kd'] as const;

export interface DemoOptions {
  readonly quick: boolean;
  /** Where the runs go (default runs/demo or runs/demo-quick). */
  readonly out: string;
  readonly backend: string;
  readonly progress: Progress;
  readonly pool?: AssignmentPool;
  readonly deviceLoss?: DeviceLossWatch;
  readonly teacher?: string;
}

export interface DemoOutcome {
  readonly table: string;
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
  const catalog = recipes(options.quick ? QUICK_SCALE : DEFAULT_SCALE);
  const environment = runEnvironment();
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
    const teacherReport = await evaluateExactMatch(teacher.model.forward, evalBatches(environment, 'teacher'));
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
      ['em-kd', 'EM-KD efficient student (4× fewer vision tokens)'],
    ]);
    return { table: compareTable(results, { labels }), results, folders };
  } finally {
    teacher.model.dispose();
  }
}
