// Builds vendor/tfjs-gradients.js: every gradient config that @tensorflow/tfjs-core ships, as one
// ESM module that exports them as an array and registers nothing on import.
//
// Why: in Node, tfjs-core's main entry registers no gradients, and its ESM files use extensionless
// imports that Node cannot resolve. The `@tensorflow/tfjs` union package solves this by bundling
// copies of these configs (141 MB of dependencies). We bundle only the configs. The copies share
// tfjs's engine and registries, which live on the global object, and tfjs's Tensor class
// recognises tensors from any copy (Symbol.hasInstance).

import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const core = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
const gradientsDir = join(core, 'dist', 'gradients');
const files = readdirSync(gradientsDir)
  .filter((f) => /_grad\.js$/.test(f))
  .sort();

const imports = files.map((f, i) => `import * as g${i} from ${JSON.stringify(join(gradientsDir, f))};`);
const entry = [
  ...imports,
  `const modules = [${files.map((_, i) => `g${i}`).join(', ')}];`,
  `export const gradientConfigs = modules.flatMap((m) => Object.values(m)).filter((c) => c && typeof c.kernelName === 'string' && typeof c.gradFunc === 'function');`,
].join('\n');

const out = join(root, 'vendor', 'tfjs-gradients.js');
mkdirSync(dirname(out), { recursive: true });
await build({
  stdin: { contents: entry, resolveDir: root, loader: 'js' },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  outfile: out,
  legalComments: 'none',
  logLevel: 'warning',
});
writeFileSync(
  join(root, 'vendor', 'tfjs-gradients.d.ts'),
  `import type { GradConfig } from '@tensorflow/tfjs-core';\nexport declare const gradientConfigs: readonly GradConfig[];\n`,
);
console.log(`vendor/tfjs-gradients.js: ${files.length} gradient files`);
