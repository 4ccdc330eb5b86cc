/**
 * `npm run bench -- prefill [--world grid|continuous] [--backends wasm] [--reps 20] [--batch 32]`: EM-KD's efficiency
 * headline, measured. The prefill time of the efficient student (2×2-pooled vision tokens) against
 * the full-token student (the same model without pooling), in the same run: a teacher-forced
 * forward of a held-out batch, and the time to the first answer token of one question; printed
 * as full ÷ efficient. The same code path (`measurePrefill`) prints the ratio in `mmkd demo`.
 */
import { useBackend } from '../backends/index.js';
import { createLlava } from '../models/index.js';
import { formatPrefill, measurePrefill } from '../recipes/prefill.js';
import { DEFAULT_WORLD, parseWorld, worldEnvironment } from '../recipes/world.js';
import { machineDescription, parseOptions } from './util.js';

export async function run(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv, { world: DEFAULT_WORLD, backends: 'wasm', reps: '20', batch: '32' });
  const world = parseWorld(options['world']!);
  const environment = worldEnvironment(world, { evalSamples: 0 });
  console.log(`# prefill: efficient vs full-token student, ${world} world (${machineDescription()})`);
  for (const backend of options['backends']!.split(',')) {
    await useBackend(backend);
    const efficient = createLlava(environment.configs.efficient, { seed: 1 });
    const full = createLlava(environment.configs['full-token'], { seed: 1 });
    try {
      const p = await measurePrefill(environment, { efficient, full }, { batchSize: Number(options['batch']), repetitions: Number(options['reps']) });
      console.log(formatPrefill(p, backend));
    } finally {
      efficient.dispose();
      full.dispose();
    }
  }
}
