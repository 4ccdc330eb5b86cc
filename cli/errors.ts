import { UserError } from '../core/errors.js';

/** A failure the user can fix: printed as its message alone, with exit code 1. */
export class CliError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Errors whose message is the whole story for the user (no stack trace): every `UserError`,
 * whichever part of mmkd threw it. Anything else is a bug and is reported as an internal error.
 */
export function isUserFacing(e: unknown): e is UserError {
  return e instanceof UserError;
}
