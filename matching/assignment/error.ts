import { UserError } from '../../core/errors.js';

/**
 * The one error type of the assignment solvers. Its message always names the offending input:
 * the bad cell (`cost[3, 7] is NaN`), the row or column that could not be matched, or the shape
 * that does not fit the data. It crosses worker boundaries as its message alone, so the message
 * must carry everything a user needs.
 */
export class AssignmentError extends UserError {
  override readonly name = 'AssignmentError';
}
