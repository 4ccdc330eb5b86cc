import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The page builds from this folder; `npx vite browser` serves it for a look in a real browser. */
export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  // Relative asset URLs, so the build can be served from any folder.
  base: './',
  logLevel: 'warn',
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // tfjs's kernels make one large chunk; that is expected here.
    chunkSizeWarningLimit: 4096,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
