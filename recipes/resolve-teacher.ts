import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssignmentPool } from '../matching/assignment/pool/worker-pool.js';
import type { RunEnvironment } from './environment.js';
import { exists } from './files.js';
import { prefixFingerprint } from './fingerprint.js';
import type { Progress } from './progress.js';
import type { Recipe } from './recipe.js';
import { runBegun } from './run-folder.js';
import { readResult, runRecipe, type TeacherHandle } from './runner.js';
import { loadTeacher, loadTeacherVision, SHIPPED_TEACHERS, type TeacherVision } from './teacher.js';

/** What `resolveTeacher` chooses from: a checkpoint given, or how to find or train one. */
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

/** A resolved teacher: the model, where it came from in words, and its checkpoint folder. */
export interface ResolvedTeacher extends TeacherHandle {
  readonly source: string;
  readonly checkpoint: string;
}

/**
 * The teacher students learn from: the checkpoint given, else the one mmkd ships (when the data
 * is the procedural world it was trained on, or a labelled subset of it), else one trained now on the run's data with the
 * teacher recipe (seed 0) and kept under `cacheRoot`, so it is trained once per data, scale and
 * backend.
 */
export async function resolveTeacher(choice: TeacherChoice): Promise<ResolvedTeacher> {
  const config = choice.environment.configs.teacher;
  if (choice.path !== undefined) return { ...(await loadTeacher(choice.path, config)), source: choice.path, checkpoint: choice.path };
  const shippedUrl = SHIPPED_TEACHERS.get(choice.environment.data.sourceFingerprint ?? choice.environment.data.fingerprint);
  const shipped = shippedUrl === undefined ? undefined : fileURLToPath(shippedUrl);
  if (shipped !== undefined && (await exists(join(shipped, 'state.json')))) {
    return { ...(await loadTeacher(shipped, config)), source: 'the teacher mmkd ships', checkpoint: shipped };
  }
  const tag = prefixFingerprint({
    config,
    recipe: choice.recipe,
    stages: choice.recipe.stages.length,
    seed: 0,
    backend: choice.backend,
    teacher: null,
    data: choice.environment.data.fingerprint,
  }).slice(0, 12);
  const dir = join(choice.cacheRoot, `teacher-seed0-${choice.backend}-${tag}`);
  const finished = await readResult(dir).catch(() => undefined);
  if (finished !== undefined) {
    // Trained by an earlier run (the folder name holds the fingerprint of data, scale and backend).
    choice.progress.note(`reusing the teacher trained earlier for this data: ${dir}`);
    return { ...(await loadTeacher(finished.checkpoint, config)), source: dir, checkpoint: finished.checkpoint };
  }
  const why =
    shipped !== undefined
      ? 'no teacher given or shipped'
      : `no teacher given for ${choice.environment.data.name} (the shipped ones know only the procedural worlds)`;
  choice.progress.note(`${why}: training one with the '${choice.recipe.name}' recipe into ${dir} (kept for the next run)`);
  const result = await runRecipe({
    recipe: choice.recipe,
    seed: 0,
    dir,
    resume: await runBegun(dir),
    environment: choice.environment,
    backend: choice.backend,
    checkpointEvery: 100,
    progress: choice.progress,
    ...(choice.pool ? { pool: choice.pool } : {}),
  });
  return { ...(await loadTeacher(result.checkpoint, config)), source: dir, checkpoint: result.checkpoint };
}

/**
 * The teacher's vision encoder alone, for a run from offline signals whose recipe starts from it:
 * read from the checkpoint given or the one mmkd ships without building the teacher; a teacher
 * that must first be trained (or found in the cache) is resolved as `resolveTeacher` does, then
 * released, and its vision encoder read from its checkpoint.
 */
export async function resolveTeacherVision(choice: TeacherChoice): Promise<TeacherVision & { readonly described: string }> {
  const config = choice.environment.configs.teacher;
  if (choice.path !== undefined) return { ...(await loadTeacherVision(choice.path, config)), described: choice.path };
  const shippedUrl = SHIPPED_TEACHERS.get(choice.environment.data.sourceFingerprint ?? choice.environment.data.fingerprint);
  const shipped = shippedUrl === undefined ? undefined : fileURLToPath(shippedUrl);
  if (shipped !== undefined && (await exists(join(shipped, 'state.json'))))
    return { ...(await loadTeacherVision(shipped, config)), described: 'the teacher mmkd ships' };
  const teacher = await resolveTeacher(choice);
  teacher.model.dispose();
  return { ...(await loadTeacherVision(teacher.checkpoint, config)), described: teacher.source };
}
