import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Cross-origin isolation (SharedArrayBuffer, for wasm threads and precise timers), sent by Vite's
 * dev and preview servers as `mmkd studio` sends it; any other static server must send the same.
 */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The studio builds from this folder into dist/studio (`npm run studio:build`); `mmkd studio` serves that. */
export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  // The shipped teacher's 2 MB of weights stay a file of their own, fetched once.
  build: { target: 'es2022', outDir: join(here, '..', 'dist', 'studio'), emptyOutDir: true, chunkSizeWarningLimit: 8192, assetsInlineLimit: 0 },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS, fs: { allow: [join(here, '..')] } },
  preview: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
});
