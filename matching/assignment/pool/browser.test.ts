/**
 * The web-worker transport in a real browser: headless Chromium, a cross-origin-isolated page
 * (COOP/COEP headers, so SharedArrayBuffer exists), the pool and the worker bundled by esbuild.
 * Skipped where no Chromium is installed (set MMKD_CHROMIUM to its executable to choose one).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const executable = [process.env['MMKD_CHROMIUM'], '/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/google-chrome']
  .filter((p): p is string => p !== undefined && p !== '')
  .find((p) => existsSync(p));

describe.skipIf(executable === undefined)('assignment pool in a browser (web workers)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmkd-browser-pool-'));
  let server: Server;
  let origin = '';

  beforeAll(async () => {
    const here = new URL('.', import.meta.url).pathname;
    await build({
      entryPoints: { page: join(here, '../testing/browser-page.ts'), 'worker-browser': join(here, 'worker-browser.ts') },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outdir: dir,
      logLevel: 'silent',
    });
    server = createServer((req, res) => {
      const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
      if (req.url === '/') {
        res.writeHead(200, { ...headers, 'Content-Type': 'text/html' });
        res.end('<!doctype html><script type="module" src="/page.js"></script>');
      } else if (req.url === '/page.js' || req.url === '/worker-browser.js') {
        res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' });
        res.end(readFileSync(join(dir, req.url.slice(1))));
      } else {
        res.writeHead(404, headers);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a batch through web workers equals the sequential path, and errors cross the boundary', async () => {
    const browser = await chromium.launch({ executablePath: executable!, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(origin);
      const handle = await page.waitForFunction(() => (globalThis as { poolCheck?: unknown }).poolCheck, undefined, { timeout: 30_000 });
      expect(await handle.jsonValue()).toEqual({
        isolated: true,
        count: 12,
        identical: true,
        error: 'AssignmentError: problems[0]: cost[0, 1] is NaN',
      });
    } finally {
      await browser.close();
    }
  });
});
