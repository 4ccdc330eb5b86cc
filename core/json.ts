import { type Checked, check } from './checked.js';
import { decodeGraph } from './decode.js';
import type { Registry } from './definitions.js';
import { graphError } from './errors.js';
import type { ScalarNode } from './graph.js';

/** An objective file: the graph, with a format tag so that files can evolve. */
export const OBJECTIVE_FORMAT = 'mmkd.objective/1';

/** The graph as pretty JSON (the file format `mmkd explain` and `mmkd eval` read). */
export function graphToJson(graph: ScalarNode, description?: string): string {
  const file: Record<string, unknown> = { format: OBJECTIVE_FORMAT };
  if (description !== undefined) file['description'] = description;
  file['objective'] = graph;
  return `${pretty(file, '')}\n`;
}

/** JSON with two-space indents, keeping arrays of plain values on one line (`["visual"]`). */
function pretty(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return JSON.stringify(value);
    const inner = `${indent}  `;
    return `[\n${value.map((v) => inner + pretty(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/**
 * Parses an objective file. Malformed JSON is reported with its position; structural problems
 * (unknown losses, roles, fields) are all reported, each with its path. A bare graph without the
 * format wrapper is accepted too.
 */
export function graphFromJson(text: string, registry: Registry): Checked<ScalarNode> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return check(undefined as never, [graphError('', `malformed JSON: ${(e as Error).message}`)]);
  }
  if (typeof json === 'object' && json !== null && 'format' in json) {
    const file = json as Record<string, unknown>;
    if (file['format'] !== OBJECTIVE_FORMAT) {
      return check(undefined as never, [graphError('', `unsupported objective format ${JSON.stringify(file['format'])}: expected "${OBJECTIVE_FORMAT}"`)]);
    }
    const extra = Object.keys(file).filter((k) => !['format', 'description', 'objective'].includes(k));
    if (extra.length > 0) {
      return check(undefined as never, [graphError('', `unknown field(s) ${extra.map((k) => `"${k}"`).join(', ')} in the objective file`)]);
    }
    return decodeGraph(file['objective'], registry);
  }
  return decodeGraph(json, registry);
}
