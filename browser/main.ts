/**
 * The browser page: activates mmkd's WebGPU backend on the browser's own `navigator.gpu`, runs
 * the named checks, and publishes the numbers on `window.__mmkdResults` (and in the page, for a
 * human). Served by Vite; driven headless by browser.test.ts.
 */
import { getBackend } from '@tensorflow/tfjs-core';
import { runChecks } from '../backends/testing/numeric-checks.js';
import { webgpuBackend } from '../backends/webgpu/backend.js';
import { selectChecks } from './checks.js';
import type { PageReport } from './report.js';

async function run(): Promise<PageReport> {
  const start = performance.now();
  const checks = selectChecks(location.search);
  // CPU forwarding off, as in the Node tests: every kernel must run on the GPU.
  const backend = webgpuBackend({ source: 'navigator', cpuForward: false });
  const activation = await backend.open();
  // One console line per check: the driving test shows them when the page stalls.
  const results = await runChecks(
    checks,
    () => performance.now(),
    (name, outcome) => console.info(`[check] ${name}: ${outcome.ok ? `${Math.round(outcome.ms)} ms` : outcome.error}`),
  );
  const report: PageReport = {
    status: 'done',
    backend: getBackend(),
    adapter: activation.adapter,
    results,
    ms: performance.now() - start,
    userAgent: navigator.userAgent,
  };
  await activation.release();
  return report;
}

function publish(report: PageReport): void {
  window.__mmkdResults = report;
  const out = document.getElementById('out');
  if (out) out.textContent = JSON.stringify(report, null, 2);
}

run().then(publish, (error: unknown) =>
  publish({ status: 'failed', error: error instanceof Error ? error.message : String(error), userAgent: navigator.userAgent }),
);
