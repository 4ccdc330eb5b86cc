import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceLostError } from '../backends/device-loss.js';
import { skipGpuTests, withInstallHint } from '../backends/testing/gpu-test-gate.js';
import { webgpuBackend } from '../backends/webgpu/backend.js';
import { QUICK_SCALE, recipes } from './catalog.js';
import { listCheckpoints, readCheckpoint } from './checkpoint.js';
import { runEnvironment } from './environment.js';
import { silentProgress } from './progress.js';
import { runRecipe } from './runner.js';

describe.skipIf(skipGpuTests)('losing the WebGPU device mid-run', () => {
  it('stops with an error naming the stage and step, and leaves the last checkpoint usable', async () => {
    const backend = webgpuBackend({ cpuForward: false });
    const activation = await backend.open().catch((e: unknown) => {
      throw withInstallHint(e);
    });
    const dir = mkdtempSync(join(tmpdir(), 'mmkd-device-loss-'));
    const recipe = recipes(QUICK_SCALE).get('teacher')!;
    // Destroy the device as soon as the first checkpoint is on disk.
    let destroyed = false;
    const watcher = setInterval(() => {
      void listCheckpoints(join(dir, 'checkpoints')).then((found) => {
        if (found.length > 0 && !destroyed) {
          destroyed = true;
          activation.device.destroy();
        }
      });
    }, 5);
    try {
      const run = runRecipe({
        recipe,
        seed: 0,
        dir,
        resume: false,
        environment: runEnvironment({ evalSamples: 20 }),
        backend: 'webgpu',
        checkpointEvery: 2,
        progress: silentProgress,
        deviceLoss: activation.deviceLoss,
      });
      const error = await run.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DeviceLostError);
      expect((error as Error).message).toMatch(/the webgpu device was lost in stage '\w+' at step \d+/);
      const last = (await listCheckpoints(join(dir, 'checkpoints'))).at(-1)!;
      const contents = await readCheckpoint(last);
      expect(contents.weights.size).toBeGreaterThan(0);
    } finally {
      clearInterval(watcher);
      await activation.release();
    }
  });
});
