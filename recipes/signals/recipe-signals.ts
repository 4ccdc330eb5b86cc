/**
 * Teacher signals for a recipe: the teacher run once over the batches a recipe's teacher-reading
 * stages draw (the same batches `runRecipe` would give it, seed by seed and step by step), top k
 * kept, written as one signals folder per stage (`DIR/<stage>/`). Sequence n of a stage's folder
 * is row n mod B of step ⌊n / B⌋'s teacher batch.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { standardRegistry } from '../../compile/standard-registry.js';
import type { Registry } from '../../core/definitions.js';
import type { LossNode, ScalarNode, ViewNode } from '../../core/graph.js';
import type { MissingMass, SignalOutputs } from '../../core/outputs.js';
import { ROLE_CODES, type Role } from '../../core/roles.js';
import { foldScalar, lossesOf } from '../../core/traverse.js';
import type { LlavaModel } from '../../models/index.js';
import { numVisionTokens } from '../../models/index.js';
import { readsTeacher } from '../catalog.js';
import { type RunEnvironment, trainingBatch } from '../environment.js';
import { fingerprintOf } from '../fingerprint.js';
import { formatSeconds } from '../progress.js';
import type { Recipe, Stage } from '../recipe.js';
import { forwardFor } from '../text-forward.js';
import {
  type LogprobDtype,
  MANIFEST_FILE,
  parseManifest,
  SignalsError,
  type SignalsManifest,
  type SignalsSettings,
  type TopKBlock,
  topKOfLogits,
  vocabularyHash,
} from './format.js';
import { openSignalsWriter, openTeacherSignals, type TeacherSignals } from './store.js';

/** A stage whose objective reads the teacher, and what its signals folder holds. */
export interface StageSignals {
  readonly stage: Stage;
  readonly index: number;
  /** The stage's folder inside the recipe's signals folder. */
  readonly dir: string;
  /** Sequences: steps × batch size. */
  readonly sequences: number;
  readonly sequenceLength: number;
  /** What the sequences are: the data, the stage's draw (data kind, seed, steps, batch size) and the teacher's layout. */
  readonly fingerprint: string;
}

/** The stages of `recipe` that read the teacher, with where their signals live under `dir`. */
export function signalStages(recipe: Recipe, seed: number, environment: RunEnvironment, dir: string): StageSignals[] {
  const config = environment.configs.teacher;
  return recipe.stages.flatMap((stage, index) => {
    if (!readsTeacher(stage.objective)) return [];
    const probe = trainingBatch(environment, stage.data, 'teacher', seed, 0, stage.batchSize);
    const sequenceLength = probe.roles.length / stage.batchSize;
    const fingerprint = fingerprintOf({
      signals: 'teacher-batches',
      data: environment.data.fingerprint,
      stageData: stage.data,
      seed,
      steps: stage.steps,
      batchSize: stage.batchSize,
      layout: { numVisionTokens: numVisionTokens(config), imageSize: config.vision.imageSize, sequenceLength },
    });
    return [{ stage, index, dir: join(dir, stage.name), sequences: stage.steps * stage.batchSize, sequenceLength, fingerprint }];
  });
}

export interface WriteSignalsOptions {
  readonly recipe: Recipe;
  readonly seed: number;
  readonly environment: RunEnvironment;
  readonly teacher: { readonly model: LlavaModel; readonly fingerprint: string };
  readonly dir: string;
  /** Top k kept per position (at most V). */
  readonly k: number;
  readonly temperature: number;
  readonly dtype: LogprobDtype;
  /** Also store the teacher's last hidden states, in this precision (for feature, affinity or matching terms on teacher.hidden). */
  readonly hidden?: LogprobDtype;
  /** Also store the teacher's whole logits at its vision tokens, in this precision (for matching and relation terms on them). */
  readonly visualLogits?: LogprobDtype;
  /** Steps per shard (a killed writer loses at most one shard's work). */
  readonly shardSteps: number;
  /** Progress lines (a bar per stage). */
  readonly write: (text: string) => void;
  readonly tty?: boolean;
  /** Called with each shard's path once it and the manifest are written (tests kill the process there). */
  readonly afterShard?: (path: string) => void;
}

/**
 * Runs the teacher over every teacher-reading stage's batches and writes their signals, resuming
 * folders a killed writer left (finished ones are kept as they are). Returns each stage's manifest.
 */
export async function writeRecipeSignals(options: WriteSignalsOptions): Promise<Map<string, SignalsManifest>> {
  const { recipe, seed, environment, teacher, k, temperature } = options;
  const vocab = environment.configs.teacher.llm.vocabSize;
  if (!Number.isInteger(k) || k < 1 || k > vocab)
    throw new SignalsError(`k = ${k} must be a whole number in [1, ${vocab}]: the teacher's vocabulary has V = ${vocab} tokens`);
  const stages = signalStages(recipe, seed, environment, options.dir);
  if (stages.length === 0) throw new SignalsError(`recipe '${recipe.name}' reads no teacher: it needs no teacher signals`);
  const out = new Map<string, SignalsManifest>();
  for (const plan of stages) {
    const { stage } = plan;
    const settings: SignalsSettings = {
      teacher: { fingerprint: teacher.fingerprint, description: `mmkd teacher for recipe ${recipe.name}, stage ${stage.name}, seed ${seed}` },
      vocabulary: { size: vocab, hash: vocabularyHash(environment.tokenizer.vocab) },
      temperature,
      k,
      logprobDtype: options.dtype,
      sequenceLength: plan.sequenceLength,
      data: { fingerprint: plan.fingerprint, sequences: plan.sequences },
      ...(options.hidden ? { hidden: { width: environment.configs.teacher.llm.width, dtype: options.hidden } } : {}),
      ...(options.visualLogits
        ? { denseLogits: { roles: ['visual'] as Role[], positions: Math.max(1, numVisionTokens(environment.configs.teacher)), dtype: options.visualLogits } }
        : {}),
    };
    const writer = await openSignalsWriter(plan.dir, settings, (m) => options.write(`${m}\n`));
    const forward = forwardFor(teacher.model, stage.data);
    const firstStep = writer.next / stage.batchSize;
    const started = performance.now();
    const bar = (done: number) => {
      const rate = (done - firstStep) / Math.max((performance.now() - started) / 1000, 1e-9);
      const filled = Math.round((done / stage.steps) * 20);
      return `[${stage.name}] ${'█'.repeat(filled)}${'░'.repeat(20 - filled)} ${done}/${stage.steps} steps  ${rate.toFixed(1)} steps/s  ETA ${formatSeconds((stage.steps - done) / Math.max(rate, 1e-9))}`;
    };
    if (firstStep > 0 && firstStep < stage.steps) options.write(`[${stage.name}] resuming at step ${firstStep} of ${stage.steps}\n`);
    for (let step = firstStep; step < stage.steps; ) {
      const steps = Math.min(options.shardSteps, stage.steps - step);
      const parts: Array<ReturnType<typeof topKOfLogits>> = [];
      const hiddenParts: Float32Array[] = [];
      const denseParts: Array<{ positions: Int32Array; logits: Float32Array }> = [];
      for (let s = step; s < step + steps; s++) {
        const batch = trainingBatch(environment, stage.data, 'teacher', seed, s, stage.batchSize);
        const outputs = forward(batch);
        try {
          const rows = stage.batchSize * plan.sequenceLength;
          parts.push(topKOfLogits((await outputs.logits.data()) as Float32Array, rows, vocab, k, temperature));
          if (options.visualLogits)
            denseParts.push(
              denseRows(
                (await outputs.logits.data()) as Float32Array,
                batch.roles,
                stage.batchSize,
                plan.sequenceLength,
                vocab,
                Math.max(1, numVisionTokens(environment.configs.teacher)),
              ),
            );
          if (options.hidden) {
            if (outputs.hidden === undefined) throw new Error("internal: the teacher's forward pass gave no hidden states");
            hiddenParts.push((await outputs.hidden.data()) as Float32Array);
          }
        } finally {
          tf.dispose([outputs.logits, ...(outputs.hidden ? [outputs.hidden] : [])]);
        }
      }
      const entry = await writer.write({
        sequences: steps * stage.batchSize,
        length: plan.sequenceLength,
        k,
        ids: concat(
          Int32Array,
          parts.map((p) => p.ids),
        ),
        logProbs: concat(
          Float32Array,
          parts.map((p) => p.logProbs),
        ),
        logTail: concat(
          Float32Array,
          parts.map((p) => p.logTail),
        ),
        ...(options.hidden ? { hidden: concat(Float32Array, hiddenParts) } : {}),
        ...(options.visualLogits
          ? {
              dense: {
                positions: concat(
                  Int32Array,
                  denseParts.map((d) => d.positions),
                ),
                logits: concat(
                  Float32Array,
                  denseParts.map((d) => d.logits),
                ),
              },
            }
          : {}),
      });
      step += steps;
      options.write(options.tty ? `\r\x1b[2K${bar(step)}` : `${bar(step)}\n`);
      options.afterShard?.(join(plan.dir, entry.file));
    }
    if (options.tty && firstStep < stage.steps) options.write('\n');
    const manifest = await writer.finish(); // a folder finished before is rewritten as it was
    out.set(stage.name, manifest);
  }
  return out;
}

/** The rows of logits [B·T × V] at each sequence's vision tokens, in D slots a sequence (−1: unused). */
function denseRows(
  logits: Float32Array,
  roles: ArrayLike<number>,
  batch: number,
  length: number,
  vocab: number,
  slots: number,
): { positions: Int32Array; logits: Float32Array } {
  const positions = new Int32Array(batch * slots).fill(-1);
  const out = new Float32Array(batch * slots * vocab);
  for (let b = 0; b < batch; b++) {
    let j = 0;
    for (let p = 0; p < length && j < slots; p++) {
      if (roles[b * length + p] !== ROLE_CODES.visual) continue;
      positions[b * slots + j] = p;
      out.set(logits.subarray((b * length + p) * vocab, (b * length + p + 1) * vocab), (b * slots + j) * vocab);
      j++;
    }
  }
  return { positions, logits: out };
}

function concat<T extends Int32Array | Float32Array>(make: new (n: number) => T, parts: readonly T[]): T {
  const out = new make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Opens the signals a run of `recipe` reads instead of its teacher: one folder per
 * teacher-reading stage, each checked to be complete, uncorrupted and written for this recipe's
 * batches (data, seed, steps, batch size, layout) and the student's vocabulary. The objective's
 * temperature is checked where the objective meets the signals (validation).
 */
export async function openRecipeSignals(recipe: Recipe, seed: number, environment: RunEnvironment, dir: string): Promise<Map<string, TeacherSignals>> {
  const out = new Map<string, TeacherSignals>();
  const student = environment.configs[recipe.model].llm.vocabSize;
  for (const plan of signalStages(recipe, seed, environment, dir)) {
    const signals = await openTeacherSignals(plan.dir, {
      expect: {
        dataFingerprint: plan.fingerprint,
        sequences: plan.sequences,
        sequenceLength: plan.sequenceLength,
        vocabulary: { size: student, hash: vocabularyHash(environment.tokenizer.vocab) },
      },
    });
    const hiddenTerms = lossesOf(plan.stage.objective).flatMap(({ node, path }) =>
      Object.entries(node.inputs).some(
        ([, e]) =>
          (e.kind === 'view' && e.side === 'teacher' && e.field === 'hidden') ||
          (e.kind === 'aligned' && (e.source.field === 'hidden' || e.match.teacher.field === 'hidden')),
      )
        ? [path]
        : [],
    );
    if (hiddenTerms.length > 0 && signals.manifest.hidden === undefined) {
      throw new SignalsError(
        `${plan.dir}: stage ${plan.stage.name} reads the teacher's hidden states (${hiddenTerms.join(', ')}), which these signals do not hold; write them with mmkd teacher-signals --hidden`,
      );
    }
    // Checked here too (validation would say it when the stage starts), so that nothing trains first.
    const hot = lossesOf(plan.stage.objective).flatMap(({ node, path }) => {
      const readsSignals = Object.values(node.inputs).some((e) => e.kind === 'view' && e.field === 'topk');
      const temperature = node.params['temperature'] ?? 1;
      return readsSignals && temperature !== signals.manifest.temperature
        ? [
            `${plan.stage.name}: ${path}: the teacher's signals are log-probs at temperature ${signals.manifest.temperature}, this divergence's temperature is ${String(temperature)}`,
          ]
        : [];
    });
    if (hot.length > 0) throw new SignalsError(`the teacher signals in ${plan.dir} do not fit this run:\n  - ${hot.join('\n  - ')}`);
    out.set(plan.stage.name, signals);
  }
  return out;
}

/**
 * The roles whose whole logits each stage's signals under `dir` store (from the manifests alone,
 * unverified: `openRecipeSignals` checks everything), for `signalsRecipe`. Stages whose folder
 * cannot be read are left out (opening them reports why).
 */
export async function storedLogitRoles(recipe: Recipe, seed: number, environment: RunEnvironment, dir: string): Promise<Map<string, readonly Role[]>> {
  const out = new Map<string, readonly Role[]>();
  for (const plan of signalStages(recipe, seed, environment, dir)) {
    try {
      const path = join(plan.dir, MANIFEST_FILE);
      const manifest = parseManifest(await readFile(path, 'utf8'), path);
      if (manifest.denseLogits) out.set(plan.stage.name, manifest.denseLogits.roles);
    } catch {
      // Reported by openRecipeSignals.
    }
  }
  return out;
}

/**
 * `recipe` trained from offline signals: in every stage's objective, each divergence's teacher
 * logits view becomes the same view of the teacher's top-k signals with `missingMass` as its
 * policy, and so does the source of a divergence's matched teacher tokens when the matcher
 * compares hidden states (EM-KD's hidden-state matching; the signals must then hold them). A term
 * that reads the teacher's logits any other way (relation, features, a matcher on logits) cannot
 * be served by top k of V probabilities: an error lists each such term by its path and names the
 * recipes that can.
 */
export function signalsRecipe(
  recipe: Recipe,
  missingMass: MissingMass,
  denseRoles: ReadonlyMap<string, readonly Role[]> = new Map(),
  registry: Registry = standardRegistry,
): Recipe {
  const problems: string[] = [];
  const stages = recipe.stages.map((stage) => {
    if (!readsTeacher(stage.objective)) return stage;
    // Views the signals' whole logits serve (their roles, unshifted) stay logits views.
    const stored = denseRoles.get(stage.name) ?? [];
    const served = (v: ViewNode) => v.shift === 0 && v.roles.every((r) => stored.includes(r));
    const rewritten = foldScalar<ScalarNode>(stage.objective, {
      objective: (node, terms) => ({ ...node, terms: Object.fromEntries(terms) }),
      weighted: (node, term) => ({ ...node, term }),
      loss: (node, site) => {
        const definition = registry.losses[node.loss];
        const inputs = Object.fromEntries(
          Object.entries(node.inputs).map(([name, expr]) => {
            const readsTeacherLogits =
              (expr.kind === 'view' && expr.side === 'teacher' && expr.field === 'logits' && !served(expr)) ||
              (expr.kind === 'aligned' &&
                ((expr.source.field === 'logits' && !served(expr.source)) || (expr.match.teacher.field === 'logits' && !served(expr.match.teacher))));
            if (!readsTeacherLogits) return [name, expr];
            const takesSignals = definition?.inputs[name]?.fields.includes('topk') === true;
            if (expr.kind === 'view' && takesSignals) return [name, { ...expr, field: 'topk', missingMass }];
            // Tokens matched on the teacher's hidden states: the matched rows of its signals.
            if (expr.kind === 'aligned' && takesSignals && (expr.match.teacher.field !== 'logits' || served(expr.match.teacher)))
              return [name, { ...expr, source: { ...expr.source, field: 'topk', missingMass } }];
            problems.push(
              `${stage.name}: ${site.path}.${name} reads the teacher's logits through ${expr.kind === 'aligned' && expr.match.teacher.field === 'logits' ? `a matcher on them (${expr.match.method})` : expr.kind === 'aligned' ? 'a matched source' : node.loss}`,
            );
            return [name, expr];
          }),
        );
        return { ...node, inputs } as LossNode;
      },
    });
    return { ...stage, objective: rewritten };
  });
  if (problems.length > 0) {
    throw new SignalsError(
      `recipe '${recipe.name}' cannot train from top-k teacher signals: only divergences read them, and\n  - ${problems.join('\n  - ')}\n` +
        'write the signals with --visual-logits (matching and relation terms on the vision tokens) and --hidden (terms on hidden states), or run it with its teacher',
    );
  }
  return { ...recipe, stages };
}

/** What identifies the signals a run reads (each stage's teacher, settings and shard hashes), for fingerprints. */
export function signalsFingerprint(signals: ReadonlyMap<string, TeacherSignals>): string {
  return fingerprintOf({
    stages: [...signals].map(([stage, s]) => ({
      stage,
      teacher: s.manifest.teacher.fingerprint,
      k: s.manifest.k,
      temperature: s.manifest.temperature,
      dtype: s.manifest.logprobDtype,
      shards: s.manifest.shards.map((x) => x.sha256),
    })),
  });
}

/** [B, T, V]: the stored rows at their positions, zeros elsewhere (validation lets no view select those). */
function denseTensor(dense: NonNullable<TopKBlock['dense']>, slots: number, batch: number, length: number, vocab: number): tf.Tensor3D {
  const out = new Float32Array(batch * length * vocab);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < slots; j++) {
      const p = dense.positions[b * slots + j]!;
      if (p >= 0) out.set(dense.logits.subarray((b * slots + j) * vocab, (b * slots + j + 1) * vocab), (b * length + p) * vocab);
    }
  }
  return tf.tensor3d(out, [batch, length, vocab]);
}

/**
 * The teacher's side of a stage's step from its signals: step `step`'s B sequences, with the
 * roles of the teacher batch the step draws (the layout the signals were written for).
 */
export async function signalOutputsAt(signals: TeacherSignals, environment: RunEnvironment, stage: Stage, seed: number, step: number): Promise<SignalOutputs> {
  const block = await signals.read(step * stage.batchSize, stage.batchSize);
  const roles = trainingBatch(environment, stage.data, 'teacher', seed, step, stage.batchSize).roles;
  const { manifest } = signals;
  const dense =
    block.dense && manifest.denseLogits
      ? denseTensor(block.dense, manifest.denseLogits.positions, stage.batchSize, block.length, manifest.vocabulary.size)
      : undefined;
  return {
    ...(dense && manifest.denseLogits ? { logits: dense, logitsRoles: manifest.denseLogits.roles } : {}),
    ...(block.hidden && manifest.hidden ? { hidden: tf.tensor3d(block.hidden, [stage.batchSize, block.length, manifest.hidden.width]) } : {}),
    topk: {
      ids: block.ids,
      logProbs: block.logProbs,
      logTail: block.logTail,
      shape: [stage.batchSize, block.length, block.k],
      vocab: manifest.vocabulary.size,
      temperature: manifest.temperature,
    },
    roles,
  };
}
