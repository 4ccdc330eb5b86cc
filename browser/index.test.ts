import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * `mmkd/browser` must load where Node's modules do not exist: bundled for the browser, it may
 * import no `node:` module, directly or through anything it re-exports.
 */
describe("the browser entry ('mmkd/browser')", () => {
  it('bundles for the browser without a Node module, and exports the library a page needs', async () => {
    const result = await build({
      entryPoints: ['browser/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      metafile: true,
      // Dependencies are the page's bundler's business; mmkd's own modules are all followed.
      external: ['@tensorflow/*', 'fp-ts', 'fp-ts/*'],
    });
    expect(result.errors).toEqual([]);
    const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
    expect(imports.filter((path) => path.startsWith('node:') || ['fs', 'path', 'os', 'child_process', 'worker_threads'].includes(path))).toEqual([]);
    const exports = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]!]!.exports;
    for (const name of [
      'compile',
      'objective',
      'weighted',
      'kl',
      'jsd',
      'match',
      'standardRegistry',
      'useBackend',
      'solveAssignment',
      'createBrowserAssignmentPool',
      'readSafetensors',
      'llavaKdObjective',
    ]) {
      expect(exports).toContain(name);
    }
    expect(exports).not.toContain('readTensorFile');
    expect(exports).not.toContain('runRecipe');
  });
});
