/**
 * The browser page on WebGPU in Debian's headless Chromium (SwiftShader on a machine without a
 * GPU), compared check by check with the same computations on wasm in Node (on cpu for the few
 * checks that need a kernel wasm lacks, such as UnsortedSegmentSum in gather's gradient).
 *
 * Runs unless MMKD_SKIP_GPU_TESTS=1; without chromium it fails with the install hint. The page is
 * built with Vite into a temporary folder and served by Vite's preview server on 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpu } from '../backends/cpu.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, requireChromium } from '../backends/testing/chromium.js';
import { skipGpuTests } from '../backends/testing/gpu-test-gate.js';
import { type CheckResults, compareValues, FLOAT32_TOLERANCE, runChecks } from '../backends/testing/numeric-checks.js';
import { wasm } from '../backends/wasm.js';
import { browserChecks } from './checks.js';
import type { PageReport } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const configFile = join(here, 'vite.config.ts');
/** The page runs every check in one go; software WebGPU on a 2-core CI machine needs minutes. */
const PAGE_TIMEOUT_MS = 240_000;

describe.skipIf(skipGpuTests)('browser page: WebGPU in headless Chromium vs wasm in Node', () => {
  const scratch: string[] = [];
  let server: PreviewServer | undefined;
  let context: BrowserContext | undefined;
  let report: PageReport;
  let reference: CheckResults;
  const wasmLacks = new Set(wasm.capabilities.missingKernels);
  const referenceFor = (kernels: readonly string[]): 'wasm' | 'cpu' => (kernels.some((k) => wasmLacks.has(k)) ? 'cpu' : 'wasm');
  const consoleLines: string[] = [];
  const timings: Record<string, number> = {};

  async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      timings[label] = Math.round(performance.now() - start);
    }
  }

  beforeAll(async () => {
    requireChromium();
    const outDir = await mkdtemp(join(tmpdir(), 'mmkd-browser-build-'));
    const profile = await mkdtemp(join(tmpdir(), 'mmkd-chromium-profile-'));
    scratch.push(outDir, profile);

    await timed('vite build', () => build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } }));
    server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
    const url = server.resolvedUrls?.local[0];
    if (url === undefined) throw new Error('Vite preview server reported no local URL');

    context = await timed('chromium start', () =>
      chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] }),
    );
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    // An uncaught error in the page (a module that cannot load, say) means no results will come:
    // fail at once with it rather than wait out the timeout.
    let pageFailed: (error: Error) => void = () => undefined;
    const pageError = new Promise<never>((_, reject) => (pageFailed = reject));
    pageError.catch(() => undefined);
    page.on('pageerror', (error) => {
      consoleLines.push(`pageerror: ${error.message}`);
      pageFailed(new Error(`the page threw: ${error.message}\n${consoleLines.slice(-40).join('\n')}`));
    });
    report = await timed('page checks', async () => {
      await page.goto(url);
      const ready = page.waitForFunction(() => window.__mmkdResults !== undefined, undefined, { timeout: PAGE_TIMEOUT_MS });
      await Promise.race([ready, pageError]).catch((error: unknown) => {
        if (error instanceof Error && error.message.startsWith('the page threw')) throw error;
        const seen = consoleLines.length > 0 ? consoleLines.slice(-40).join('\n') : '(nothing)';
        throw new Error(`the page published no results within ${PAGE_TIMEOUT_MS / 1000} s; its console said:\n${seen}`, { cause: error });
      });
      const published = await page.evaluate(() => window.__mmkdResults);
      if (published === undefined) throw new Error('the page published no results');
      return published;
    });

    reference = await timed('reference in Node', async () => {
      await wasm.activate();
      const onWasm = await runChecks(browserChecks.filter((c) => referenceFor(c.kernels) === 'wasm'));
      await cpu.activate();
      const onCpu = await runChecks(browserChecks.filter((c) => referenceFor(c.kernels) === 'cpu'));
      return { ...onWasm, ...onCpu };
    });
    console.info(`[browser] timings (ms): ${JSON.stringify(timings)}`);
    if (report.status === 'done') {
      console.info(`[browser] ${report.userAgent}\n[browser] adapter: ${JSON.stringify({ ...report.adapter, features: report.adapter.features.length })}`);
    }
  }, PAGE_TIMEOUT_MS + 120_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('activates WebGPU on the browser adapter and reports it', () => {
    if (report.status !== 'done') throw new Error(`the page failed: ${report.error}\n${consoleLines.join('\n')}`);
    expect(report.backend).toBe('webgpu');
    if (/swiftshader/i.test(`${report.adapter.architecture} ${report.adapter.device}`)) {
      expect(report.adapter).toMatchObject({ kind: 'software', softwareName: 'SwiftShader' });
    }
  });

  for (const check of browserChecks) {
    it(`${check.name}: WebGPU in the browser agrees with ${referenceFor(check.kernels)} in Node`, () => {
      if (report.status !== 'done') throw new Error(`the page failed: ${report.error}`);
      const got = report.results[check.name];
      const want = reference[check.name];
      if (!want?.ok) throw new Error(`${referenceFor(check.kernels)} reference failed: ${want?.error}`);
      if (!got?.ok) throw new Error(`browser failed: ${got?.error}\n${consoleLines.join('\n')}`);
      const comparison = compareValues(got.values, want.values, check.tolerance ?? FLOAT32_TOLERANCE);
      expect(comparison.problem, `max |error| ${comparison.maxAbsError}`).toBeUndefined();
    });
  }
});
