import { describe, expect, it } from 'vitest';
import { compile, kl, objective, student as s, teacher as t, UserError, useBackend } from '../index.js';

// This file runs in a process of its own (vitest's forks pool), where nothing has activated a
// backend yet: the situation of a program that forgets `useBackend`.
describe('library use before useBackend', () => {
  const graph = objective({ vis: kl.forward(t.logits.at('visual'), s.logits.at('visual')) });
  const shapes = { teacher: { logits: [1, 4, 3] }, student: { logits: [1, 4, 3] }, labels: false };

  it('compile says to call useBackend first, instead of tfjs\'s "No backend found in registry."', async () => {
    expect(() => compile(graph, shapes)).toThrow(UserError);
    expect(() => compile(graph, shapes)).toThrow(
      "compile: no TensorFlow.js backend is active. Call `await useBackend('wasm')` (or 'cpu', 'webgpu', 'node-gpu'",
    );
    await useBackend('cpu');
    const compiled = compile(graph, shapes);
    compiled.dispose();
  });
});
