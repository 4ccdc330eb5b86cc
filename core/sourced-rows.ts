import type { Tensor2D } from '@tensorflow/tfjs-core';
import type { TokenRows } from './definitions.js';
import type { Selection } from './selection.js';
import { gatherRows } from './tensor-ops.js';

/**
 * A view's rows: rows `selection.positions` of `source` [B·T, D], with `values` gathered only when
 * first read (inside the evaluation that reads them, whose scope releases the copy). Kernels that
 * index rows themselves read `source` and the positions and never make the copy (see
 * `TokenRows.source`).
 */
export function sourcedRows(source: Tensor2D, selection: Selection): TokenRows & { readonly source: Tensor2D } {
  let values: Tensor2D | undefined;
  return {
    source,
    selection,
    get values(): Tensor2D {
      // Gathered again if the first read was inside a tidy that has since released it.
      if (values === undefined || values.isDisposed) values = gatherRows(source, selection.positions);
      return values;
    },
  };
}
