import type { Command } from 'commander';
import { explain } from '../../core/explain.js';
import { standardRegistry } from '../../registry.js';
import { readObjective } from '../files.js';

export function explainCommand(program: Command): void {
  program
    .command('explain')
    .description('print an objective file as a formula tree')
    .argument('<objective.json>', 'an objective file (see examples/objectives)')
    .action(async (path: string) => {
      const graph = await readObjective(path, standardRegistry);
      process.stdout.write(`${explain(graph, standardRegistry)}\n`);
    });
}
