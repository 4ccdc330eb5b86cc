import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { wholeNumber } from './run.js';

/** What the studio's files are served as. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.ts': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

/**
 * Cross-origin isolation: the page may use SharedArrayBuffer (wasm threads) and precise timers.
 * Any other server of the built files must send the same two headers.
 */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

/** Whether `dir` holds a built studio (its page and the assets Vite wrote), not the sources. */
const isBuiltStudio = (dir: string): boolean => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets'));

/** The built studio: the clone's dist/studio (from the sources), or dist/studio beside dist/cli (compiled). */
export function builtStudioDir(): string {
  const candidates = ['../../dist/studio', '../../studio'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  return candidates.find(isBuiltStudio) ?? (candidates[0] as string);
}

/** Serves the files of `root` (GET and HEAD only, nothing outside it) with the isolation headers. */
export function studioServer(root: string): Server {
  const base = resolve(root);
  return createServer(async (request, response) => {
    const headers = { ...ISOLATION_HEADERS, 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-cache' };
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const path = resolve(base, `.${normalize(pathname.endsWith('/') ? `${pathname}index.html` : pathname)}`);
    if (path !== base && !path.startsWith(base + sep)) {
      response.writeHead(403, headers).end('outside the studio');
      return;
    }
    try {
      if (!(await stat(path)).isFile()) throw new Error('not a file');
      const body = await readFile(path);
      response.writeHead(200, { ...headers, 'Content-Type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': body.length });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`not found: ${pathname}`);
    }
  });
}

export function studioCommand(program: Command): void {
  program
    .command('studio')
    .description(
      "serve the studio: a page that trains a recipe's students against the shipped teacher in the browser tab (WebGPU, else wasm) with live loss curves, evaluates them, downloads checkpoints `mmkd evaluate` reads, and checks objectives as they are typed",
    )
    .option('--port <n>', 'the port (0: any free one)', '5178')
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .option('--dir <folder>', 'serve this build of the studio (default: the one `npm run studio:build` writes to dist/studio)')
    .action(async (options: { readonly port: string; readonly host: string; readonly dir?: string }) => {
      const dir = options.dir ?? builtStudioDir();
      if (!isBuiltStudio(dir)) {
        throw new CliError(
          options.dir === undefined
            ? `the studio is not built (no ${join(dir, 'index.html')}): run \`npm run studio:build\` in mmkd's clone, or pass --dir <a built studio>`
            : `${dir} holds no built studio (an index.html and the assets/ Vite writes); build one with \`npm run studio:build\``,
        );
      }
      const port = wholeNumber(options.port, '--port');
      const server = studioServer(dir);
      await new Promise<void>((done, failed) => {
        server.once('error', (e: NodeJS.ErrnoException) =>
          failed(
            new CliError(
              e.code === 'EADDRINUSE'
                ? `port ${port} is in use: pass another --port (0 picks a free one)`
                : `cannot listen on ${options.host}:${port}: ${e.message}`,
            ),
          ),
        );
        server.listen(port, options.host, done);
      });
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      process.stdout.write(`mmkd studio: http://${host}:${address.port}/ (serving ${dir}; Ctrl-C stops it)\n`);
      await new Promise<void>((done) => {
        const close = () => server.close(() => done());
        process.once('SIGINT', close);
        process.once('SIGTERM', close);
      });
    });
}
