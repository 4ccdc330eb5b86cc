import { UserError } from '../core/errors.js';

/**
 * The one error type of `io/`: a tensor file (or a tensor bound for one) is not what it claims.
 *
 * The message always starts with the file (`source`), then the tensor when one is involved,
 * then exactly what is wrong, so a user can find the byte to blame without a debugger:
 *
 *     model.safetensors: tensor "lm_head.weight": data_offsets [0, 12] hold 12 bytes,
 *     but shape [2, 3] of F32 needs 24
 */
export class TensorFileError extends UserError {
  override readonly name = 'TensorFileError';

  constructor(
    /** The file (a path, or whatever name the caller gave to the bytes). */
    readonly source: string,
    /** What is wrong, without the file and tensor prefix. */
    readonly problem: string,
    /** The tensor concerned, when there is one. */
    readonly tensor?: string,
    options?: { readonly cause?: unknown },
  ) {
    super(tensor === undefined ? `${source}: ${problem}` : `${source}: tensor ${JSON.stringify(tensor)}: ${problem}`, options);
  }
}
