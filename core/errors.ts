/**
 * Errors as values. `validate` and the JSON decoder return every `GraphError` they find at once;
 * each names the node's path in the graph (`objective.vsd.teacher`) and the shapes involved.
 * Errors that only the data can reveal (a non-finite logit, unequal token counts between teacher
 * and student) are thrown as `InputError`, with the same kind of path.
 */
export interface GraphError {
  /** Dotted path from the root: term names, then input names (`objective.res.student`). */
  readonly path: string;
  readonly message: string;
}

export const graphError = (path: string, message: string): GraphError => ({ path, message });

/** A `GraphError` as one line: `path: message`. */
export const formatGraphError = (e: GraphError): string => (e.path === '' ? e.message : `${e.path}: ${e.message}`);

/**
 * A failure the user can fix (a bad file, a bad parameter, a missing package, a run folder used
 * the wrong way): its message is the whole story, so the CLI prints it alone and exits with 1
 * instead of reporting an internal error. Every such error in mmkd extends this class.
 */
export class UserError extends Error {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** Thrown by `assertValid` and the CLI when a graph does not validate; carries every error. */
export class GraphValidationError extends UserError {
  readonly errors: readonly GraphError[];
  constructor(errors: readonly GraphError[], context = 'the objective is not valid') {
    super(`${context}:\n${errors.map((e) => `  - ${formatGraphError(e)}`).join('\n')}`);
    this.name = 'GraphValidationError';
    this.errors = errors;
  }
}

/** Bad data met while evaluating a valid graph: non-finite values, unpaired tokens, bad labels. */
export class InputError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export const joinPath = (parent: string, child: string): string => (parent === '' ? child : `${parent}.${child}`);

/** Shapes as people write them: `[2, 10, 32000]`. */
export const formatShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
