import { describe, expect, it } from 'vitest';
import { type DeviceLost, DeviceLostError, noDeviceLoss, watchDeviceLoss } from './device-loss.js';

function controllable(): { watch: ReturnType<typeof watchDeviceLoss>; lose: (info: DeviceLost) => void } {
  let lose: (info: DeviceLost) => void = () => undefined;
  const watch = watchDeviceLoss(new Promise<DeviceLost>((resolve) => (lose = resolve)));
  return { watch, lose };
}

const loss: DeviceLost = { backend: 'webgpu', reason: 'unknown', message: 'GPU hung', released: false };

describe('watchDeviceLoss', () => {
  it('passes work through while the device lives, and names stage and step once it is lost', async () => {
    const { watch, lose } = controllable();
    await expect(watch.guard(Promise.resolve(3), { stage: 'dpt', step: 1 })).resolves.toBe(3);
    expect(() => watch.throwIfLost({ stage: 'dpt', step: 1 })).not.toThrow();

    const stuck = watch.guard(new Promise<number>(() => undefined), { stage: 'sft', step: 41 });
    lose(loss);
    await expect(stuck).rejects.toThrow("the webgpu device was lost in stage 'sft' at step 41 (unknown: GPU hung)");
    expect(watch.current()).toEqual(loss);
    expect(() => watch.throwIfLost({ stage: 'dft', step: 2 })).toThrow(DeviceLostError);
  });

  it('reports a read that fails because of the loss as the loss, with the failure as its cause', async () => {
    const { watch, lose } = controllable();
    lose(loss);
    await watch.lost;
    const failure = new Error('mapAsync: device lost');
    const error: unknown = await watch.guard(Promise.reject(failure), { stage: 'dpt', step: 9 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceLostError);
    expect((error as DeviceLostError).at).toEqual({ stage: 'dpt', step: 9 });
  });

  it('calls listeners once, also those added after the loss, and never fires for cpu and wasm', async () => {
    const { watch, lose } = controllable();
    const heard: string[] = [];
    watch.onLost((l) => heard.push(`early ${l.reason}`));
    const unsubscribed = watch.onLost(() => heard.push('unsubscribed'));
    unsubscribed();
    lose(loss);
    await watch.lost;
    watch.onLost((l) => heard.push(`late ${l.reason}`));
    expect(heard).toEqual(['early unknown', 'late unknown']);
    expect(noDeviceLoss.current()).toBeUndefined();
  });
});
