/**
 * `tsx scripts/ship-teacher.ts <finished teacher run folder> [target folder]`: makes the teacher
 * mmkd ships (default recipes/assets/teacher, the grid world's; the continuous world's is
 * recipes/assets/teacher-continuous): the run's final weights as a checkpoint without optimizer moments,
 * its run.json, its final evaluation, and the first 40 step records of its metrics, which a test
 * replays to check that `mmkd run teacher --seed 0` still reproduces the run.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listCheckpoints, readCheckpoint, writeCheckpoint } from '../recipes/checkpoint.js';
import { readMetrics } from '../recipes/metrics.js';
import { checkpointsDirOf } from '../recipes/run-folder.js';

const run = process.argv[2];
if (run === undefined) throw new Error('usage: tsx scripts/ship-teacher.ts <finished teacher run folder> [target folder]');
const final = (await listCheckpoints(checkpointsDirOf(run))).at(-1);
if (final === undefined) throw new Error(`${run} has no checkpoint`);
const contents = await readCheckpoint(final);
if (!contents.state.complete || contents.state.recipe !== 'teacher') throw new Error(`${final} is not a finished teacher run`);
const target = process.argv[3] ?? 'recipes/assets/teacher';
await mkdir('recipes/assets', { recursive: true });
const { files: _files, format: _format, createdAt: _createdAt, ...state } = contents.state;
await writeCheckpoint(target, state, contents.weights, new Map());
const records = await readMetrics(join(run, 'metrics.jsonl'));
const head = records.filter((r) => r.type === 'step').slice(0, 40);
const evaluation = records.filter((r) => r.type === 'eval');
await writeFile(join(target, 'metrics-head.jsonl'), [...head, ...evaluation].map((r) => `${JSON.stringify(r)}\n`).join(''));
await writeFile(join(target, 'run.json'), await readFile(join(run, 'run.json'), 'utf8'));
console.log(`shipped ${final} → ${target}`);
