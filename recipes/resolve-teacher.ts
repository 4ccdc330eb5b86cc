import { join } from 'node:path';
import { exists } from './files.js';
import { fileURLToPath } from 'node:url';
import type { AssignmentPool } from '../matching/pool.js';
import type { RunEnvironment } from './environment.js';
import { prefixFingerprint } from './fingerprint.js';
import type { Progress } from './progress.js';
import type { Recipe } from './recipe.js';
import { runRecipe, type TeacherHandle } from './runner.js';
import { SHIPPED_TEACHER, loadTeacher } from './teacher.js';

export interface TeacherChoice {
  /** A checkpoint folder given by the user. */
  readonly path?: string;
  readonly environment: RunEnvironment;
  /** The teacher recipe, trained when no checkpoint is given or shipped. */
  readonly recipe: Recipe;
  readonly backend: string;
  /** Where a teacher trained on demand is kept (and found again next time). */
  readonly cacheRoot: string;
  readonly progress: Progress;
  readonly pool?: AssignmentPool;
}

/**
 * The teacher students learn from: the checkpoint given, else the one mmkd ships, else one trained
 * now with the teacher recipe (seed 0) and kept under `cacheRoot`, so it is trained once.
 */
export async function resolveTeacher(choice: TeacherChoice): Promise<TeacherHandle & { readonly source: string }> {
  const config = choice.environment.configs.teacher;
  if (choice.path !== undefined) return { ...(await loadTeacher(choice.path, config)), source: choice.path };
  const shipped = fileURLToPath(SHIPPED_TEACHER);
  if (await exists(join(shipped, 'state.json'))) return { ...(await loadTeacher(shipped, config)), source: 'the teacher mmkd ships' };
  const tag = prefixFingerprint({ config, recipe: choice.recipe, stages: choice.recipe.stages.length, seed: 0, backend: choice.backend, teacher: null, data: choice.environment.data.fingerprint }).slice(0, 12);
  const dir = join(choice.cacheRoot, `teacher-seed0-${choice.backend}-${tag}`);
  choice.progress.note(`no teacher given or shipped: training one with the '${choice.recipe.name}' recipe into ${dir}`);
  const result = await runRecipe({
    recipe: choice.recipe,
    seed: 0,
    dir,
    resume: await exists(join(dir, 'checkpoints')),
    environment: choice.environment,
    backend: choice.backend,
    checkpointEvery: 100,
    progress: choice.progress,
    ...(choice.pool ? { pool: choice.pool } : {}),
  });
  return { ...(await loadTeacher(result.checkpoint, config)), source: dir };
}
