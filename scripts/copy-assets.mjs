// Copies what the compiled code reads at run time next to it, at the same relative paths as in
// the sources: the generated vendor/ modules (dist/backends/*.js imports ../vendor/*.js) and the
// shipped teacher checkpoint (dist/recipes/assets/teacher).
import { cpSync, existsSync } from 'node:fs';

cpSync('vendor', 'dist/vendor', { recursive: true });
if (existsSync('recipes/assets')) cpSync('recipes/assets', 'dist/recipes/assets', { recursive: true });
