/**
 * `mmkd studio` as a user starts it: it serves a built studio with the cross-origin isolation
 * headers and the right content types, refuses paths outside the folder, and says how to build
 * the studio when the folder holds none. (The page itself is tested in Chromium: studio/studio.test.ts.)
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectCleanFailure, runCli } from './testing/run-cli.js';
import { scratchFolder } from './testing/scratch.js';

describe('mmkd studio', () => {
  it('serves a built studio with COOP/COEP and nothing outside it', async () => {
    const scratch = scratchFolder('mmkd-studio-cli-');
    const built = join(scratch.dir, 'built');
    mkdirSync(join(built, 'assets'), { recursive: true });
    scratch.file('built/index.html', '<!doctype html><title>mmkd studio</title>');
    scratch.file('built/assets/a.wasm', new Uint8Array([0, 97, 115, 109]));
    scratch.file('secret.txt', 'not served');
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'studio', '--port', '0', '--dir', built], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const found = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
          if (found) resolve(found[0]);
        });
        child.once('exit', (code) => reject(new Error(`mmkd studio exited with ${code} before printing its address`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const wasm = await fetch(`${url}assets/a.wasm`);
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      expect(wasm.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect((await fetch(`${url}..%2fsecret.txt`)).status).not.toBe(200);
      expect((await fetch(`${url}missing.js`)).status).toBe(404);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('says how to build the studio when the folder holds none', async () => {
    const scratch = scratchFolder('mmkd-studio-cli-');
    expectCleanFailure(await runCli(['studio', '--dir', scratch.dir, '--port', '0']), `${scratch.dir} holds no built studio`);
  });
});
