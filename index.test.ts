import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadTeacher, QUICK_SCALE, readResult, recipes, runEnvironment, runRecipe, silentProgress, useBackend } from './index.js';

describe("the package's public entry", () => {
  it('has everything runRecipe needs: a recipe, an environment, a progress sink, and loadTeacher for what it trained', async () => {
    await useBackend('wasm');
    const environment = runEnvironment({ evalSamples: 20 });
    const recipe = recipes(QUICK_SCALE).get('teacher')!;
    const dir = join(mkdtempSync(join(tmpdir(), 'mmkd-public-run-')), 'teacher');
    const result = await runRecipe({ recipe, seed: 0, dir, resume: false, environment, backend: 'wasm', checkpointEvery: 100, progress: silentProgress });
    expect(result.recipe).toBe('teacher');
    expect(await readResult(dir)).toEqual(result);
    const teacher = await loadTeacher(result.checkpoint, environment.configs.teacher);
    try {
      expect(teacher.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      teacher.model.dispose();
    }
  }, 180_000);

  it('documents every export', () => {
    const entry = join(import.meta.dirname, 'index.ts');
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    });
    const checker = program.getTypeChecker();
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!);
    const undocumented = exports
      .filter((e) => {
        const symbol = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
        return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() === '';
      })
      .map((e) => e.name);
    expect(exports.length).toBeGreaterThan(100);
    expect(undocumented).toEqual([]);
  });
});
