#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { compareCommand } from './commands/compare.js';
import { demoCommand } from './commands/demo.js';
import { evaluateCommand } from './commands/evaluate.js';
import { explainCommand } from './commands/explain.js';
import { exportCommand } from './commands/export.js';
import { lossCommand } from './commands/loss.js';
import { lossesCommand } from './commands/losses.js';
import { matchCommand } from './commands/match.js';
import { plotCommand } from './commands/plot.js';
import { runCommand } from './commands/run.js';
import { studioCommand } from './commands/studio.js';
import { teacherSignalsCommand } from './commands/teacher-signals.js';
import { isUserFacing } from './errors.js';

/** mmkd's version, from its package.json: one folder up from cli/main.ts, two from dist/cli/main.js. */
function packageVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'mmkd' && manifest.version) return manifest.version;
    } catch {
      // Not there: try the next folder up.
    }
  }
  return 'unknown';
}

const program = new Command()
  .name('mmkd')
  .description('knowledge distillation for multimodal LLMs: composable objectives on TensorFlow.js backends')
  .version(packageVersion(), '-V, --version', 'print the version of mmkd')
  .showHelpAfterError()
  .exitOverride();

demoCommand(program);
runCommand(program);
teacherSignalsCommand(program);
evaluateCommand(program);
compareCommand(program);
explainCommand(program);
exportCommand(program);
lossCommand(program);
lossesCommand(program);
matchCommand(program);
plotCommand(program);
studioCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander has printed its own message (usage errors, --help, --version).
    process.exitCode = e.exitCode;
  } else if (isUserFacing(e)) {
    process.stderr.write(`mmkd: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`mmkd: internal error: ${e instanceof Error ? (process.env['MMKD_DEBUG'] ? e.stack : e.message) : String(e)}\n`);
    if (!process.env['MMKD_DEBUG']) process.stderr.write('(set MMKD_DEBUG=1 for the stack trace)\n');
    process.exitCode = 70;
  }
}
