#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { evalCommand } from './commands/eval.js';
import { explainCommand } from './commands/explain.js';
import { matchCommand } from './commands/match.js';
import { runCommand } from './commands/run.js';
import { evaluateCommand } from './commands/evaluate.js';
import { compareCommand } from './commands/compare.js';
import { demoCommand } from './commands/demo.js';
import { isUserFacing } from './errors.js';

const program = new Command()
  .name('mmkd')
  .description('knowledge distillation for multimodal LLMs: composable objectives on TensorFlow.js backends')
  .showHelpAfterError()
  .exitOverride();

explainCommand(program);
evalCommand(program);
matchCommand(program);
runCommand(program);
evaluateCommand(program);
compareCommand(program);
demoCommand(program);

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
