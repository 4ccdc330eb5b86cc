/**
 * `npm run bench -- recipes [--backends wasm] [--steps 20] [--world grid|continuous]`: training
 * steps per second of the recipes' stages in a procedural world, each through the same stage trainer `mmkd run` uses (forward, objective,
 * backward, AdamW; the teacher's forward and the matchers when the stage has them), at the default
 * batch size, on freshly initialised models.
 */
import { useBackend } from '../backends/index.js';
import { copyGroups, createLlava } from '../models/index.js';
import { DEFAULT_SCALE, recipes } from '../recipes/catalog.js';
import { stageTrainer } from '../recipes/stage-trainer.js';
import { DEFAULT_WORLD, parseWorld, scaleFor, worldEnvironment } from '../recipes/world.js';
import { machineDescription, median, parseOptions } from './util.js';

const STAGES: readonly (readonly [string, string])[] = [
  ['teacher', 'sft'],
  ['baseline', 'pt'],
  ['baseline', 'sft'],
  ['llava-kd', 'dpt'],
  ['llava-kd', 'dft'],
  ['em-kd-baseline', 'phase2'],
  ['em-kd', 'phase2'],
  ['em-kd-pool', 'phase2'],
  ['full-token', 'phase2'],
];

export async function run(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv, { backends: 'wasm', steps: '20', world: DEFAULT_WORLD });
  const steps = Number(options['steps']);
  const world = parseWorld(options['world']!);
  const catalog = recipes(scaleFor(world, DEFAULT_SCALE));
  const environment = worldEnvironment(world, { evalSamples: 0 });
  console.log(
    `# recipes: training steps per second in the ${world} world (batch ${DEFAULT_SCALE.batchSize}, median over ${steps} steps after 2 warm-up steps)`,
  );
  console.log(`# ${machineDescription()}`);
  console.log('| backend | recipe / stage | model | trainable | objective terms | ms / step | steps / s |');
  console.log('|---|---|---|---|---|---|---|');
  for (const backend of options['backends']!.split(',')) {
    await useBackend(backend);
    for (const [recipeName, stageName] of STAGES) {
      const recipe = catalog.get(recipeName)!;
      const stage = recipe.stages.find((s) => s.name === stageName)!;
      const teacher = createLlava(environment.configs.teacher, { seed: 1 });
      const student = createLlava(environment.configs[recipe.model], { seed: 2 });
      if (recipe.visionFromTeacher) copyGroups(teacher, student, ['vision']);
      const trainer = stageTrainer({ environment, kind: recipe.model, seed: 0, stage, model: recipeName === 'teacher' ? teacher : student, teacher });
      const times: number[] = [];
      try {
        for (let step = 0; step < steps + 2; step++) {
          const start = performance.now();
          await trainer.step(step);
          if (step >= 2) times.push(performance.now() - start);
        }
      } finally {
        trainer.dispose();
        teacher.dispose();
        student.dispose();
      }
      const terms = stage.objective.kind === 'objective' ? Object.keys(stage.objective.terms).join(', ') : stage.objective.kind;
      const ms = median(times);
      console.log(
        `| ${backend} | ${recipeName} / ${stageName} | ${recipeName === 'teacher' ? 'teacher' : recipe.model} | ${stage.trainable.join(', ')} | ${terms} | ${ms.toFixed(0)} | ${(1000 / ms).toFixed(2)} |`,
      );
    }
  }
}
