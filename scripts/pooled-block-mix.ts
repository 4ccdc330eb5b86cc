/**
 * `npx tsx scripts/pooled-block-mix.ts [--scenes 5000]`: how often the efficient student's 2×2
 * pooling mixes what the teacher vision tokens it averages show, in the continuous world.
 *
 * EM-KD's matching ablation rests on pooled targets blurring objects together (RESULTS.md,
 * "Design of the second study", claim 3). This measures whether the world provides that: over
 * scenes drawn as the study's captions draw them (1 to 3 objects), it labels each of the 36
 * teacher cells with the object it shows (`cellObjects`: the object filling the largest share of
 * the cell, at least a quarter, else background) and counts the pooled blocks (2×2, from the
 * efficient student's preset) that show an object, those whose cells do not all show the same
 * thing, and those that hold two objects.
 */
import { CONTINUOUS_MAX_OBJECTS, cellObjects, sampleContinuousScene } from '../data/continuous.js';
import { continuousPresets } from '../models/presets.js';
import { hashKey, rng } from '../models/random.js';

const flag = process.argv.indexOf('--scenes');
const wanted = flag >= 0 ? Number(process.argv[flag + 1]) : 5000;
if (!Number.isSafeInteger(wanted) || wanted < 1) throw new Error(`--scenes must be a positive integer, got ${process.argv[flag + 1]}`);

// The efficient student's own vision tokens and pooling (vocabulary and text length do not bear on them).
const { vision, projector } = continuousPresets({ vocabSize: 1, maxTextLen: 1 }).efficient;
const pool = projector.pool;
let scenes = 0;
let blocks = 0;
let withObject = 0;
let mixed = 0;
let twoObjects = 0;
for (let index = 0; scenes < wanted; index++) {
  const r = rng(hashKey(7, 'pooled-block-mix', index));
  const scene = sampleContinuousScene(r, vision.imageSize, 1 + r.int(CONTINUOUS_MAX_OBJECTS));
  if (scene === undefined) continue;
  scenes++;
  const { side, objects } = cellObjects(scene, vision.patchSize);
  for (let by = 0; by < side; by += pool) {
    for (let bx = 0; bx < side; bx += pool) {
      const block = Array.from({ length: pool * pool }, (_, k) => objects[(by + Math.floor(k / pool)) * side + bx + (k % pool)]);
      blocks++;
      const shown = new Set(block.filter((o) => o !== null));
      if (shown.size === 0) continue;
      withObject++;
      if (new Set(block).size > 1) mixed++;
      if (shown.size > 1) twoObjects++;
    }
  }
}
const percent = (n: number, of: number) => `${((100 * n) / of).toFixed(1)} %`;
console.log(
  `${scenes} scenes, ${blocks} pooled ${pool}×${pool} blocks: ${percent(withObject, blocks)} show an object; of those, ` +
    `${percent(mixed, withObject)} mix it with background or another object and ${percent(twoObjects, withObject)} hold two objects`,
);
