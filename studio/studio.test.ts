/**
 * The studio in Debian's headless Chromium (WebGPU through SwiftShader on a machine without a
 * GPU), built with Vite and served by `mmkd studio`'s own server: the page picks WebGPU and says
 * so, trains a few steps with the numbers Node's wasm run gives for the same steps (a real
 * `mmkd run --quick` for the first stage, the same session on wasm in Node for a distillation
 * stage), its curves hold and draw those numbers, Stop and Resume continue the same trajectory,
 * the downloaded checkpoint is scored by `mmkd evaluate`, and the editor lists a bad objective's
 * errors. Screenshots of each view are kept in tmp/test-output/studio (or $MMKD_TEST_OUTPUT).
 *
 * Runs unless MMKD_SKIP_GPU_TESTS=1; without chromium it fails with the install hint.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH, requireChromium } from '../backends/testing/chromium.js';
import { skipGpuTests } from '../backends/testing/gpu-test-gate.js';
import { compareValues, type Tolerance } from '../backends/testing/numeric-checks.js';
import { wasm } from '../backends/wasm.js';
import { ISOLATION_HEADERS, studioServer } from '../cli/commands/studio.js';
import { runCli } from '../cli/testing/run-cli.js';
import { readSafetensors } from '../io/safetensors.js';
import { TOLERANCES } from '../properties/tolerances.js';
import { QUICK_SCALE, recipes } from '../recipes/catalog.js';
import { worldEnvironment } from '../recipes/world.js';
import { inspectSample, type SampleInspection } from './inspect.js';
import { createSession, type StudioStep } from './session.js';
import type { StudioState } from './state.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const screenshots = process.env.MMKD_TEST_OUTPUT ? join(process.env.MMKD_TEST_OUTPUT, 'studio') : join(root, 'tmp', 'test-output', 'studio');
const PAGE_TIMEOUT_MS = 300_000;
/**
 * The tolerance table: WebGPU in the tab against wasm in Node. The first step at the loss
 * tolerance of the browser checks (webgpu's value atol × 10, its gradient rtol); later steps at
 * the training tolerance (Adam's first update is lr·sign(g), so gradient entries within float32
 * noise of 0 can flip between backends, and the trajectories drift apart a little).
 */
const TOLERANCE = {
  firstStep: { abs: TOLERANCES.webgpu.value.atol * 10, rel: TOLERANCES.webgpu.gradient.rtol } satisfies Tolerance,
  laterSteps: { abs: 1e-3, rel: 2e-2 } satisfies Tolerance,
};

/** Loss and terms of each step, in a fixed order, for comparison. */
const numbersOf = (steps: readonly Pick<StudioStep, 'loss' | 'terms'>[]): number[][] =>
  steps.map((s) => [
    s.loss,
    ...Object.keys(s.terms)
      .sort()
      .map((k) => s.terms[k] as number),
  ]);

function expectSameSteps(got: readonly StudioStep[], want: readonly StudioStep[]): void {
  expect(got.map((s) => `${s.stage}/${s.step}`)).toEqual(want.map((s) => `${s.stage}/${s.step}`));
  got.forEach((s, i) => expect(Object.keys(s.terms).sort(), `terms of step ${i}`).toEqual(Object.keys(want[i]!.terms).sort()));
  const [g, w] = [numbersOf(got), numbersOf(want)];
  g.forEach((values, i) => {
    const comparison = compareValues(values, w[i]!, i === 0 ? TOLERANCE.firstStep : TOLERANCE.laterSteps);
    expect(comparison.problem, `step ${i} (${got[i]!.stage}/${got[i]!.step}): browser ${values} vs Node ${w[i]}`).toBeUndefined();
  });
}

const studioState = (page: Page): Promise<StudioState & { curveData: StudioState['curvePoints'] }> =>
  page.evaluate(() => {
    const s = window.__studio!;
    return { ...s, curves: undefined, loseDevice: undefined, curveData: s.curves?.() ?? [] };
  });

describe.skipIf(skipGpuTests)('mmkd studio in headless Chromium: training in the tab agrees with Node', () => {
  const scratch: string[] = [];
  let server: Server | undefined;
  let context: BrowserContext | undefined;
  let url = '';
  const consoleLines: string[] = [];

  async function open(query: string): Promise<Page> {
    const page = await context!.newPage();
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    await page.goto(`${url}${query}`);
    await page
      .waitForFunction(() => ['stopped', 'finished', 'failed', 'ready'].includes(window.__studio?.status ?? '') || window.__studio?.error, undefined, {
        timeout: PAGE_TIMEOUT_MS,
      })
      .catch((error: unknown) => {
        throw new Error(`the studio did not settle: ${consoleLines.slice(-30).join('\n')}`, { cause: error });
      });
    const state = await studioState(page);
    if (state.error) throw new Error(`the studio failed: ${state.error}\n${consoleLines.slice(-30).join('\n')}`);
    return page;
  }

  beforeAll(async () => {
    requireChromium();
    const outDir = await mkdtemp(join(tmpdir(), 'mmkd-studio-build-'));
    const profile = await mkdtemp(join(tmpdir(), 'mmkd-studio-profile-'));
    scratch.push(outDir, profile);
    await mkdir(screenshots, { recursive: true });
    await build({ configFile: join(here, 'vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
    server = studioServer(outDir);
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      acceptDownloads: true,
    });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('is served cross-origin isolated by mmkd studio', async () => {
    const response = await fetch(url);
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) expect(response.headers.get(name)).toBe(value);
    expect(await response.text()).toContain('mmkd studio');
    expect((await fetch(`${url}..%2f..%2fpackage.json`)).status).not.toBe(200);
  });

  it("trains llava-kd's first steps on WebGPU with the numbers of `mmkd run --quick` on wasm; Stop and Resume continue them; the checkpoint is scored by mmkd evaluate", async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'mmkd-studio-run-'));
    scratch.push(runDir);
    const run = await runCli(['run', 'llava-kd', '--quick', '--world', 'grid', '--backend', 'wasm', '--no-cache', '--out', runDir], { timeoutMs: 240_000 });
    expect(run.code, run.stderr).toBe(0);
    const nodeSteps = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as StudioStep & { type: string })
      .filter((r) => r.type === 'step');

    const page = await open('?recipe=llava-kd&steps=3&eval=20');
    let state = await studioState(page);
    expect(state.backend).toBe('webgpu');
    expect(await page.textContent('#backend')).toMatch(/backend: WebGPU on .*/);
    expect(state.status).toBe('stopped');
    expectSameSteps(state.steps, nodeSteps.slice(0, 3));
    // The chart's view holds the numbers trained, and draws them: the lm line, its legend entry.
    expect(state.curveData.map((p) => [p.stage, p.step, p.term, p.value])).toEqual(state.steps.map((s) => [s.stage, s.step, 'lm', s.loss]));
    expect(await page.locator('#curves svg path').count()).toBeGreaterThan(0);
    expect(await page.locator('#curves svg text', { hasText: /^lm$/ }).count()).toBeGreaterThan(0);
    expect(await page.textContent('#progress-text')).toContain('3 / 36 steps');
    await page.screenshot({ path: join(screenshots, 'train-3-steps.png'), fullPage: true });

    // Resume, then Stop after a step or two: the trajectory continues where it paused.
    await page.click('#start');
    await page.waitForFunction(() => (window.__studio?.steps.length ?? 0) >= 4, undefined, { timeout: PAGE_TIMEOUT_MS });
    await page.click('#stop');
    await page.waitForFunction(() => window.__studio?.status === 'stopped', undefined, { timeout: PAGE_TIMEOUT_MS });
    state = await studioState(page);
    expect(state.steps.length).toBeGreaterThan(3);
    expect(state.steps.length).toBeLessThan(36);
    expectSameSteps(state.steps, nodeSteps.slice(0, state.steps.length));

    // The checkpoint the page downloads is one `mmkd evaluate` reads.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const checkpoint = join(runDir, download.suggestedFilename());
    await download.saveAs(checkpoint);
    expect(download.suggestedFilename()).toMatch(/^llava-kd-lm-\d+\.safetensors$/);
    const scored = await runCli(['evaluate', checkpoint, '--backend', 'wasm'], { timeoutMs: 120_000 });
    expect(scored.code, scored.stderr).toBe(0);
    expect(scored.stdout).toContain(`${checkpoint}: llava-kd, stage lm step ${state.steps.length}`);
    expect(scored.stdout).toMatch(/exact match on 500 held-out questions/);

    // Accuracy per question type, beside the teacher's (20 questions: ?eval=20).
    await page.click('#evaluate');
    await page.waitForFunction(() => window.__studio?.accuracy !== undefined || window.__studio?.error !== undefined, undefined, { timeout: PAGE_TIMEOUT_MS });
    state = await studioState(page);
    expect(state.error).toBeUndefined();
    expect(state.accuracy?.map((a) => a.label)).toEqual(['student (llava-kd)', 'teacher']);
    expect(await page.locator('#accuracy-chart svg text', { hasText: /^teacher$/ }).count()).toBeGreaterThan(0);
    // A bar per run and question type (and the average); those above 0% have height.
    const bars = page.locator('#accuracy-chart svg .mark-rect.role-mark path');
    expect(await bars.count()).toBeGreaterThanOrEqual(2 * 6);
    await page.screenshot({ path: join(screenshots, 'accuracy.png'), fullPage: true });
    await page.close();

    // On wasm (asked for in the address; what a browser without WebGPU gets) the tab's numbers are Node's.
    const onWasm = await open('?recipe=llava-kd&steps=3&backend=wasm');
    const wasmState = await studioState(onWasm);
    expect(wasmState.backend).toBe('wasm');
    expect(await onWasm.textContent('#backend')).toBe('backend: wasm, as the address asks (?backend=wasm)');
    numbersOf(wasmState.steps).forEach((values, i) =>
      expect(compareValues(values, numbersOf(nodeSteps)[i]!, { abs: 1e-6, rel: 1e-6 }).problem, `wasm step ${i}`).toBeUndefined(),
    );
    await onWasm.close();
  });

  it('trains em-kd phase 2 (teacher, Hungarian matching, VLAD) on WebGPU with the numbers of the same session on wasm in Node, and inspects a sample with them', async () => {
    const page = await open('?recipe=em-kd&stage=phase2&steps=2');
    const state = await studioState(page);
    expect(state.backend).toBe('webgpu');
    expect(state.steps.map((s) => Object.keys(s.terms).sort())).toEqual([
      ['rld', 'sup', 'vlad', 'vsd'],
      ['rld', 'sup', 'vlad', 'vsd'],
    ]);
    // Each step's total and terms are in the chart's data, and each term is drawn with its legend entry.
    expect(state.curveData).toHaveLength(2 * 5);
    for (const term of ['total', 'sup', 'rld', 'vsd', 'vlad'])
      expect(await page.locator('#curves svg text', { hasText: new RegExp(`^${term}$`) }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(screenshots, 'em-kd-phase2.png'), fullPage: true });

    // The sample inspector on the trained student: matches drawn, affinities and answers charted.
    await page.fill('#inspect-index', '3');
    await page.fill('#inspect-token', '4');
    await page.click('#inspect');
    await page.waitForFunction(() => window.__studio?.inspection !== undefined || window.__studio?.error !== undefined, undefined, {
      timeout: PAGE_TIMEOUT_MS,
    });
    const inspected = (await studioState(page)).inspection!;
    expect((await studioState(page)).error).toBeUndefined();
    expect(await page.locator('#affinity-teacher svg .mark-rect.role-mark path').count()).toBe(
      inspected.affinity.teacher.rows * inspected.affinity.teacher.cols,
    );
    expect(await page.locator('#answers svg .mark-rect.role-mark path').count()).toBe(10);
    await page.locator('#inspector').screenshot({ path: join(screenshots, 'inspector.png') });
    // The chosen student token's cell is outlined in the page's blue (#1f5fbf, drawn opaque) over the image.
    const drawn = await page.evaluate(() => {
      const canvas = document.getElementById('match-hungarian') as HTMLCanvasElement;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let outline = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - 31) + Math.abs(data[i + 1]! - 95) + Math.abs(data[i + 2]! - 191) < 6) outline++;
      return { width: canvas.width, outline };
    });
    expect(drawn.width).toBeGreaterThan(100);
    expect(drawn.outline).toBeGreaterThan(100);
    await page.close();

    await wasm.activate();
    const recipe = recipes(QUICK_SCALE).get('em-kd')!;
    const teacherWeights = readSafetensors(new Uint8Array(readFileSync(join(root, 'recipes', 'assets', 'teacher', 'weights.safetensors'))), 'teacher').tensors;
    const environment = worldEnvironment('grid');
    const session = createSession({
      recipe,
      seed: 0,
      environment,
      teacherWeights,
      backend: 'wasm',
      startStage: recipe.stages.findIndex((s) => s.name === 'phase2'),
    });
    const nodeSteps: StudioStep[] = [];
    let reference: SampleInspection;
    try {
      await session.train((s) => nodeSteps.push(s), 2);
      reference = await inspectSample(environment, session.teacher!, session.student, recipe.model, 3);
    } finally {
      session.dispose();
    }
    expectSameSteps(state.steps, nodeSteps);

    // The inspection: the efficient student's pooled vision tokens against the teacher's patches.
    expect([inspected.studentGrid, inspected.teacherGrid]).toEqual([reference.studentGrid, reference.teacherGrid]);
    expect(inspected.sampleId).toBe(reference.sampleId);
    const n = inspected.studentGrid ** 2;
    expect(new Set(inspected.matches.hungarian).size).toBe(n); // one-to-one
    expect(inspected.matches.pooling).toEqual(reference.matches.pooling);
    for (const weights of inspected.matches.sinkhorn) expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(compareValues(inspected.matches.sinkhorn.flat(), reference.matches.sinkhorn.flat(), TOLERANCE.laterSteps).problem, 'Sinkhorn plan').toBeUndefined();
    expect(inspected.matches.pooling.every((cells) => cells.length === (inspected.teacherGrid / inspected.studentGrid) ** 2)).toBe(true);
    // Numbers against Node's after the same steps (the weights differ by the training tolerance).
    for (const model of ['teacher', 'student'] as const) {
      const comparison = compareValues(Array.from(inspected.affinity[model].values), Array.from(reference.affinity[model].values), TOLERANCE.laterSteps);
      expect(comparison.problem, `${model} affinity`).toBeUndefined();
      expect(inspected.answers[model].top.map((t) => t.token)).toEqual(reference.answers[model].top.map((t) => t.token));
      const probabilities = compareValues(
        inspected.answers[model].top.map((t) => t.probability),
        reference.answers[model].top.map((t) => t.probability),
        TOLERANCE.laterSteps,
      );
      expect(probabilities.problem, `${model} answer distribution`).toBeUndefined();
    }
  });

  it('survives a lost WebGPU device with a message, not a blank page', async () => {
    const page = await open('?recipe=llava-kd&steps=1');
    expect((await studioState(page)).steps).toHaveLength(1);
    await page.evaluate(() => window.__studio!.loseDevice!());
    await page.waitForFunction(() => window.__studio?.error !== undefined, undefined, { timeout: 60_000 });
    expect(await page.textContent('#message')).toMatch(/The WebGPU device was lost \(destroyed.*\)\. Training stopped; reload the page/);
    // Resuming on the lost device fails with the loss named, and the page stays.
    await page.click('#start');
    await page.waitForFunction(() => window.__studio?.status === 'stopped' && /step 1/.test(window.__studio?.error ?? ''), undefined, { timeout: 60_000 });
    const state = await studioState(page);
    expect(state.steps).toHaveLength(1);
    expect(state.error).toMatch(/lost|device/i);
    expect(await page.locator('h1').textContent()).toBe('mmkd studio');
    await page.screenshot({ path: join(screenshots, 'device-lost.png'), fullPage: true });
    await page.close();
  });

  it('keeps working offline once loaded (its service worker answers from what it kept)', async () => {
    const page = await open('?steps=0');
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    // Loaded once under the worker's control, so it keeps every file the page fetches.
    await page.reload();
    await page.waitForFunction(() => window.__studio?.status === 'ready' && navigator.serviceWorker.controller !== null, undefined, {
      timeout: PAGE_TIMEOUT_MS,
    });
    await context!.setOffline(true);
    try {
      await page.reload();
      await page.waitForFunction(() => ['ready', 'failed'].includes(window.__studio?.status ?? ''), undefined, { timeout: PAGE_TIMEOUT_MS });
      const state = await studioState(page);
      expect(state.error).toBeUndefined();
      expect(state.status).toBe('ready');
      expect(state.editor?.ok).toBe(true);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      await page.screenshot({ path: join(screenshots, 'offline.png'), fullPage: true });
    } finally {
      await context!.setOffline(false);
      await page.close();
    }
  });

  it('the objective editor shows the formula tree of a shipped example and every validation error of a bad objective, live', async () => {
    const page = await open('?steps=0');
    await page.selectOption('#editor-example', { label: 'llava-kd-dpt.json' });
    let state = await studioState(page);
    expect(state.editor?.ok).toBe(true);
    expect(await page.textContent('#editor-tree')).toMatch(/^objective = /);
    await page.screenshot({ path: join(screenshots, 'editor-valid.png'), fullPage: true });

    const example = readFileSync(join(root, 'examples', 'objectives', 'llava-kd-dpt.json'), 'utf8');
    const bad = example.replace(/"temperature":\s*[0-9.]+/, '"temperature": -1');
    expect(bad).not.toBe(example);
    await page.fill('#editor-text', bad);
    state = await studioState(page);
    expect(state.editor?.ok).toBe(false);
    const errors = await page.locator('#editor-errors li').allTextContents();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(/^objective\..*temperature/m);
    expect(await page.textContent('#editor-tree')).toBe('');

    await page.fill('#editor-text', '{"kind": "objective", "terms": {');
    expect((await page.locator('#editor-errors li').allTextContents()).join('\n')).toMatch(/malformed JSON/);
    await page.fill('#editor-text', bad);
    await page.screenshot({ path: join(screenshots, 'editor-errors.png'), fullPage: true });
    await page.close();
  });
});
