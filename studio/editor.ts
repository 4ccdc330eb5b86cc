/**
 * The objective editor's check: an objective file's text → `explain`'s formula tree, or every
 * problem (malformed JSON with its position, unknown losses or fields, then validation against
 * the shapes of the studio's models), each with its path — what `mmkd explain` prints, live.
 */
import * as E from 'fp-ts/lib/Either.js';
import { standardRegistry } from '../compile/standard-registry.js';
import type { InputShapes } from '../core/definitions.js';
import { formatGraphError } from '../core/errors.js';
import { explain } from '../core/explain.js';
import { graphFromJson } from '../core/json.js';
import { validate } from '../core/validate.js';
import type { ModelConfig } from '../models/index.js';

export type EditorCheck = { readonly ok: true; readonly tree: string } | { readonly ok: false; readonly errors: readonly string[] };

/** The shapes the objective will see: one sequence of each model, every role present, with labels. */
export function studioShapes(teacher: ModelConfig, student: ModelConfig): InputShapes {
  const side = (config: ModelConfig) => ({ logits: [1, 1, config.llm.vocabSize], hidden: [1, 1, config.llm.width] });
  return { teacher: side(teacher), student: side(student), labels: true };
}

/** Checks an objective's text against `shapes`, as `mmkd explain --inputs` would. */
export function checkObjective(text: string, shapes: InputShapes): EditorCheck {
  const graph = graphFromJson(text, standardRegistry);
  if (E.isLeft(graph)) return { ok: false, errors: graph.left.map(formatGraphError) };
  const valid = validate(graph.right, shapes, standardRegistry);
  if (E.isLeft(valid)) return { ok: false, errors: valid.left.map(formatGraphError) };
  return { ok: true, tree: explain(graph.right, standardRegistry) };
}
