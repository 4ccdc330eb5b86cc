import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { compile } from '../../compile/compile.js';
import { standardRegistry } from '../../compile/standard-registry.js';
import { GraphValidationError } from '../../core/errors.js';
import type { ScalarNode } from '../../core/graph.js';
import type { DistillInputs } from '../../core/outputs.js';
import { backendFlag, chooseBackend } from '../backend.js';
import { objectiveNotValid, readObjective } from '../files.js';
import { disposeInputs, loadDistillInputs } from '../inputs.js';

interface LossOptions {
  readonly objective: string;
  readonly inputs: string;
  readonly backend?: string;
  readonly json?: boolean;
}

/**
 * `mmkd loss`: an objective's loss, terms and gradient norms on saved outputs. It was called
 * `eval`, too close to `evaluate` (a checkpoint's accuracy); `eval` stays as a hidden alias that
 * says on stderr that it is deprecated.
 */
export function lossCommand(program: Command): void {
  defineLoss(program.command('loss'), async (options) => runLoss(options));
  defineLoss(program.command('eval', { hidden: true }), async (options) => {
    process.stderr.write("mmkd: 'eval' is deprecated and will be removed; use 'mmkd loss' (same options)\n");
    await runLoss(options);
  });
}

function defineLoss(command: Command, action: (options: LossOptions) => Promise<void>): void {
  command
    .description('the loss of an objective on saved model outputs: the loss, every term and each gradient norm')
    .requiredOption('--objective <file.json>', 'an objective file')
    .requiredOption('--inputs <file.safetensors>', 'teacher/student outputs, roles and labels (see the README for the names)')
    .option(...backendFlag)
    .option('--json', 'print one JSON object instead of a table')
    .action(action);
}

async function runLoss(options: LossOptions): Promise<void> {
  const graph = await readObjective(options.objective, standardRegistry);
  const selection = await chooseBackend(options.backend);
  const backend = selection.backend;
  const inputs = await loadDistillInputs(options.inputs);
  try {
    const compiled = compileFrom(options.objective, graph, inputs);
    const result = await compiled.valueAndGrad(inputs);
    const loss = (await result.loss.data())[0]!;
    const terms: Record<string, number> = {};
    for (const [name, t] of Object.entries(result.terms)) terms[name] = (await t.data())[0]!;
    const gradNorms: Record<string, number> = {};
    for (const [name, g] of Object.entries(result.grads)) {
      const norm = tf.tidy(() => tf.norm(g));
      gradNorms[name] = (await norm.data())[0]!;
      norm.dispose();
    }
    result.dispose();
    compiled.dispose();
    // A device error is reported asynchronously and only on stderr; numbers computed after
    // one cannot be trusted, so they are not printed as if they were.
    selection.deviceLoss.throwIfLost({ stage: 'loss', step: 0 });
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ backend: backend.name, loss, terms, gradNorms }, null, 2)}\n`);
      return;
    }
    const rows: [string, string][] = [
      ['loss', fmt(loss)],
      ...Object.entries(terms).map(([n, v]): [string, string] => [`  ${n}`, fmt(v)]),
      ['gradient norms', ''],
      ...Object.entries(gradNorms).map(([n, v]): [string, string] => [`  ‖∂loss/∂${n}‖`, fmt(v)]),
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`backend: ${backend.name}\n${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`.trimEnd()).join('\n')}\n`);
  } finally {
    disposeInputs(inputs);
    selection.webgpu?.release();
  }
}

/** Compiles the objective read from `path`; a validation failure names that file. */
function compileFrom(path: string, graph: ScalarNode, inputs: DistillInputs) {
  try {
    return compile(graph, inputs);
  } catch (e) {
    if (e instanceof GraphValidationError) throw objectiveNotValid(path, e.errors);
    throw e;
  }
}

const fmt = (x: number): string => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(6) : x.toExponential(4));
