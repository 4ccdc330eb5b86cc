import { readFile } from 'node:fs/promises';
import * as E from 'fp-ts/lib/Either.js';
import type { Registry } from '../core/definitions.js';
import { type GraphError, GraphValidationError } from '../core/errors.js';
import type { ScalarNode } from '../core/graph.js';
import { graphFromJson } from '../core/json.js';
import { CliError } from './errors.js';

/** Reads a file, turning "no such file" into a message that names it. */
export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** Reads and decodes an objective file, reporting every problem in it. */
export async function readObjective(path: string, registry: Registry): Promise<ScalarNode> {
  const decoded = graphFromJson(await readText(path, 'objective'), registry);
  if (E.isLeft(decoded)) throw new GraphValidationError(decoded.left, `${path} is not a valid objective`);
  return decoded.right;
}

/**
 * The error for an objective file that decodes but does not validate (its parameters, or its fit
 * to the inputs' shapes): every problem, under a heading that names the file, as decoding errors do.
 */
export const objectiveNotValid = (path: string, errors: readonly GraphError[]): GraphValidationError =>
  new GraphValidationError(errors, `${path}: the objective is not valid`);
