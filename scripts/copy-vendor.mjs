// Copies the generated vendor/ modules next to the compiled code, so dist/backends/*.js can import
// ../vendor/*.js exactly as the TypeScript sources do.
import { cpSync } from 'node:fs';
cpSync('vendor', 'dist/vendor', { recursive: true });
