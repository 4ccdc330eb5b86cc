/**
 * `npm run bench -- <suite> [options]`: runs one benchmark suite. Each suite measures mmkd
 * against the alternatives a user would pick, in the same run, and prints ratios.
 */
const suites: Record<string, () => Promise<{ run(argv: readonly string[]): Promise<void> }>> = {
  losses: () => import('./losses.js'),
  matching: () => import('./matching.js'),
  prefill: () => import('./prefill.js'),
  recipes: () => import('./recipes.js'),
};

const [name, ...rest] = process.argv.slice(2);
const load = name === undefined ? undefined : suites[name];
if (load === undefined) {
  console.error(`usage: npm run bench -- <${Object.keys(suites).join('|')}> [options]`);
  process.exit(2);
}
await (await load()).run(rest);
