/**
 * `tsx scripts/teacher-report.ts <checkpoint folder> [--world continuous|grid] [--samples N]`:
 * what a teacher's answers carry beyond the label, on the world's held-out questions — exact
 * match per question type, the mean entropy of its answer distributions, their expected
 * calibration error (15 bins), and, for colour questions, how its probability off the gold
 * answer splits between the hue-neighbours of the gold colour and the other colours (graded
 * errors put more on the neighbours than their share), whether its relation answers tell yes from
 * no at all, and how often its logits at the visual positions name the shape under the token (what
 * its grounding stage trains).
 */

import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../backends/index.js';
import { IGNORE_LABEL, ROLE_CODES } from '../core/roles.js';
import { collate, withVisualLabels } from '../data/batch.js';
import { type AnswerDistribution, answerDistributions, answerStats } from '../data/calibration.js';
import { CONTINUOUS_COLORS, continuousSample } from '../data/continuous.js';
import { evaluateExactMatch } from '../data/eval.js';
import { createLlava, loadWeights, numVisionTokens } from '../models/index.js';
import { readCheckpoint } from '../recipes/checkpoint.js';
import { evalBatches } from '../recipes/environment.js';
import { parseWorld, worldEnvironment } from '../recipes/world.js';

const args = process.argv.slice(2);
const path = args[0];
if (path === undefined) throw new Error('usage: tsx scripts/teacher-report.ts <checkpoint folder> [--world continuous|grid] [--samples N]');
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const world = parseWorld(flag('--world') ?? 'continuous');
await useBackend('wasm');
const samples = flag('--samples');
const env = worldEnvironment(world, samples === undefined ? {} : { evalSamples: Number(samples) });
// Any checkpoint of a teacher run, finished or not (to follow a run as it trains).
const contents = await readCheckpoint(path);
const teacher = { model: createLlava(env.configs.teacher, { seed: 0 }) };
loadWeights(teacher.model, contents.weights, { source: path });
console.log(`${path}: ${contents.state.stageName} step ${contents.state.step}${contents.state.complete ? ' (finished run)' : ''}`);
const batches = evalBatches(env, 'teacher');
const report = await evaluateExactMatch(teacher.model.forward, batches);
const dists: AnswerDistribution[] = [];
for (const b of batches) dists.push(...(await answerDistributions(teacher.model.forward, b, env.tokenizer)));
const pct = (x: number) => (100 * x).toFixed(1);
console.log(`exact match on ${report.samples} held-out questions: average ${pct(report.average)}, overall ${pct(report.overall)}`);
for (const [k, s] of Object.entries(report.perKind)) console.log(`  ${k}: ${pct(s.accuracy)} (${s.correct}/${s.total})`);
const overall = answerStats(dists);
console.log(
  `answer distributions: ${overall.count}; mean entropy ${overall.meanEntropy.toFixed(3)} nats; ECE ${overall.calibration.ece.toFixed(3)}; argmax accuracy ${pct(overall.calibration.accuracy)}, mean confidence ${pct(overall.calibration.meanConfidence)}; mean gold probability ${overall.meanGoldProb.toFixed(3)}`,
);
for (const kind of [...new Set(dists.map((d) => d.kind))].sort()) {
  const s = answerStats(dists.filter((d) => d.kind === kind));
  console.log(`  ${kind}: entropy ${s.meanEntropy.toFixed(3)}, ECE ${s.calibration.ece.toFixed(3)}, confidence ${pct(s.calibration.meanConfidence)}`);
}
if (world === 'continuous') {
  // Graded errors: of the probability the teacher puts on other colour words, the share on the
  // gold colour's two hue-neighbours (2 of 7 alternatives: 28.6 % if errors were ungraded).
  const ids = CONTINUOUS_COLORS.map((c) => env.tokenizer.ids.get(c)!);
  let near = 0;
  let other = 0;
  for (const d of dists.filter((x) => x.kind === 'color')) {
    const g = ids.indexOf(d.label);
    if (g < 0) continue;
    ids.forEach((id, j) => {
      if (j === g) return;
      const ring = Math.min(Math.abs(j - g), ids.length - Math.abs(j - g));
      if (ring === 1) near += d.probs[id]!;
      else other += d.probs[id]!;
    });
  }
  console.log(
    `colour questions: of the probability on wrong colours, ${pct(near / (near + other))} % is on the gold colour's hue-neighbours (28.6 % if ungraded)`,
  );
  // Relation questions: whether the teacher tells yes from no at all. A teacher that has not
  // learned them answers every question alike, and its mean probability of "yes" is the same on
  // the questions whose gold answer is yes as on those whose gold answer is no.
  const yes = env.tokenizer.ids.get('yes')!;
  const pYes = (gold: boolean) => {
    const rows = dists.filter((d) => d.kind === 'relation' && (d.label === yes) === gold);
    return `${(rows.reduce((sum, d) => sum + d.probs[yes]!, 0) / Math.max(rows.length, 1)).toFixed(3)} (${rows.length})`;
  };
  console.log(`relation questions: mean probability of "yes" when the gold answer is yes ${pYes(true)}, when it is no ${pYes(false)}`);
  // Grounding: on held-out caption images, how often the logits at a visual position whose token
  // an object covers name that object's shape (what the grounding stage trains; 25 % by chance
  // among the four shape words).
  const captions = Array.from({ length: 200 }, (_, i) => continuousSample({ seed: 0 }, 'eval', 'caption', i));
  const layout = {
    numVisionTokens: numVisionTokens(env.configs.teacher),
    textLength: env.data.textLength.caption,
    imageSize: env.configs.teacher.vision.imageSize,
  };
  let named = 0;
  let covered = 0;
  for (let i = 0; i < captions.length; i += 50) {
    const part = captions.slice(i, i + 50);
    const batch = withVisualLabels(env.tokenizer, collate(env.tokenizer, part, layout), part);
    const out = teacher.model.forward(batch);
    const best = tf.argMax(out.logits, -1);
    const argmax = (await best.data()) as Int32Array;
    best.dispose();
    tf.dispose([out.logits, out.hidden]);
    batch.labels.forEach((label, p) => {
      if (batch.roles[p] !== ROLE_CODES.visual || label === IGNORE_LABEL) return;
      covered++;
      if (argmax[p] === label) named++;
    });
  }
  console.log(
    `visual tokens: on ${covered} object-covered tokens of 200 held-out caption images, the logits name the shape under the token on ${pct(named / covered)} %`,
  );
}
teacher.model.dispose();
