/**
 * The suite's labels are true: a "fused kernels" target lowers the shipped divergences with its
 * backend's kernels, a "generic lowering" target with each definition's own rule (and the same
 * kernel fan-in as its backend).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeBackends } from '../backends/index.js';
import { ruleFor } from '../core/target.js';
import { standardLosses } from '../losses/index.js';
import { activate, targetLowering, targets } from './harness.js';

for (const target of targets()) {
  describe(`lowering on ${target.label}`, () => {
    beforeAll(() => activate(target));

    it('runs the lowering its label names', () => {
      const lowering = targetLowering();
      const backend = nodeBackends[target.backend]!;
      expect(lowering.capabilities.maxKernelInputs()).toBe(backend.capabilities.maxKernelInputs());
      for (const name of ['forwardKL', 'reverseKL', 'jsd', 'tvd']) {
        const definition = standardLosses[name]!;
        if (target.lowering === 'fused') {
          expect(ruleFor(lowering, definition)).toBe(backend.kernels.get(definition));
          expect(ruleFor(lowering, definition)).not.toBe(definition.lower);
        } else {
          expect(ruleFor(lowering, definition)).toBe(definition.lower);
        }
      }
    });
  });
}
