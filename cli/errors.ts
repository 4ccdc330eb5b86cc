import { GraphValidationError, InputError } from '../core/errors.js';

/** A failure the user can fix: printed as its message alone, with exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Errors whose message is the whole story for the user (no stack trace). */
export function isUserFacing(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  return (
    e instanceof CliError ||
    e instanceof GraphValidationError ||
    e instanceof InputError ||
    ['TensorFileError', 'AssignmentError', 'BackendUnavailableError', 'UnknownBackendError', 'DeviceLostError', 'CheckpointError', 'DataError'].includes(e.name)
  );
}
