// Compiles a tiny consumer of mmkd's published declarations the strict way a browser or Deno
// project would: skipLibCheck off and no ambient types (no @types/node). A Node type that leaks
// into a public .d.ts (NodeJS.WriteStream, Buffer, …) fails here with "Cannot find namespace".
//
//   node scripts/check-consumer-types.mjs
//
// Declarations are emitted afresh into tmp/consumer-types/ (gitignored), from tsconfig.build.json,
// so the check does not depend on (or disturb) an earlier `npm run build`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const work = join(root, 'tmp', 'consumer-types');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
// tsc emits declarations even when the sources have type errors; those are the typecheck's job.
spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--emitDeclarationOnly', '--sourceMap', 'false', '--outDir', join(work, 'dist')], {
  stdio: 'ignore',
});

writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module' }));
writeFileSync(
  join(work, 'consumer.ts'),
  `import { compile, explain, kl, objective, standardRegistry, student as s, teacher as t, useBackend, weighted } from 'mmkd';
import * as browser from 'mmkd/browser';

const graph = objective({ vis: weighted(0.5, kl.forward(t.logits.at('visual'), s.logits.at('visual'))) });
export const text: string = explain(graph, standardRegistry);
export async function run(): Promise<void> {
  await useBackend('cpu');
  compile(graph, { teacher: { logits: [1, 2, 3] }, student: { logits: [1, 2, 3] }, labels: false });
  await browser.useBackend('webgpu');
  browser.compile(graph, { teacher: { logits: [1, 2, 3] }, student: { logits: [1, 2, 3] }, labels: false });
}
`,
);
writeFileSync(
  join(work, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: [],
      lib: ['ES2022', 'DOM'],
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      paths: { mmkd: ['./dist/index.d.ts'], 'mmkd/browser': ['./dist/browser/index.d.ts'] },
    },
    files: ['consumer.ts'],
  }),
);
const result = spawnSync(process.execPath, [tsc, '-p', join(work, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8' });
const errors = result.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
// tfjs-core 4.22's own declarations need the \`long\` package's global type (hash_util.d.ts);
// that is tfjs's to fix, so only errors in mmkd's declarations and the consumer count.
const ours = errors.filter((line) => !line.startsWith('node_modules/') && !line.includes('/node_modules/'));
if (ours.length > 0) {
  console.error(ours.join('\n'));
  console.error(`\n${ours.length} error(s): mmkd's declarations do not compile for a consumer without @types/node.`);
  process.exit(1);
}
console.log(
  `mmkd's declarations compile for a consumer with skipLibCheck off and no @types/node` +
    (errors.length > 0 ? ` (${errors.length} error(s) in dependencies' own declarations ignored).` : '.'),
);
