/**
 * The shipped examples, made from code so they cannot drift: `npm run examples` writes them, and
 * examples/examples.test.ts checks that the committed files equal what this produces.
 */
import { graphToJson } from '../core/json.js';
import { IGNORE_LABEL, ROLE_CODES } from '../core/roles.js';
import { type HostTensor, hostTensor, writeSafetensors } from '../io/index.js';
import { emKdObjective } from '../recipes/objectives/em-kd.js';
import { LLAVA_KD_PAPER_WEIGHTS, llavaKdObjective } from '../recipes/objectives/llava-kd.js';

export interface ExampleFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

const text = (path: string, content: string): ExampleFile => ({ path, bytes: new TextEncoder().encode(content) });

export function exampleFiles(): ExampleFile[] {
  return [
    text(
      'examples/objectives/llava-kd-dpt.json',
      graphToJson(
        llavaKdObjective(LLAVA_KD_PAPER_WEIGHTS),
        'LLaVA-KD distilled pre-training (DPT, eq. 6): L_PT + α·L_res + β·L_vis + γ·L_rel with α=1, β=1, γ=0.5 (paper §4.1). Train the projector only.',
      ),
    ),
    text(
      'examples/objectives/llava-kd-dft.json',
      graphToJson(
        llavaKdObjective(LLAVA_KD_PAPER_WEIGHTS),
        "LLaVA-KD distilled fine-tuning (DFT, eq. 7): L_reg + α'·L_res + β'·L_vis + γ'·L_rel with α'=1, β'=1, γ'=0.5 (paper §4.1). Train the projector and the LLM.",
      ),
    ),
    text(
      'examples/objectives/em-kd-phase2.json',
      graphToJson(
        emKdObjective(),
        'EM-KD phase 2: 0.5·L_sup + 0.5·L_rld + 0.25·L_vsd + 25·L_vlad, vision tokens matched by a Hungarian assignment on the L1 distance between vision logits (EM-KD, AAAI 2026).',
      ),
    ),
    { path: 'examples/inputs/tiny-llava.safetensors', bytes: tinyInputs() },
    { path: 'examples/inputs/tiny-efficient.safetensors', bytes: efficientInputs() },
  ];
}

/**
 * Outputs of a made-up teacher and student for 2 sequences of 12 positions laid out as LLaVA
 * does: <bos>, 4 visual tokens, a 3-token question, a separator, a 2-token answer and <eos>
 * (sample 1 has one padding position). Vocabulary 32, hidden widths 16 (teacher) and 8 (student).
 * The student's logits are the teacher's plus seeded noise, so every divergence is small but
 * not zero.
 */
function tinyInputs(): Uint8Array {
  const B = 2;
  const T = 12;
  const V = 32;
  const { prompt, visual, response, pad } = ROLE_CODES;
  const layout = [prompt, visual, visual, visual, visual, prompt, prompt, prompt, prompt, response, response, response];
  const roles = new Int32Array(B * T);
  roles.set(layout, 0);
  roles.set([...layout.slice(0, T - 1), pad], T);
  roles[T + T - 2] = response;
  const labels = new Int32Array(B * T).fill(IGNORE_LABEL);
  const random = seeded(7);
  for (let i = 0; i < B * T; i++) if (roles[i] === response) labels[i] = Math.floor(random() * V);
  const teacher = Float32Array.from({ length: B * T * V }, () => 4 * (random() - 0.5));
  const student = teacher.map((x) => x + 1.5 * (random() - 0.5));
  const hidden = (width: number) => Float32Array.from({ length: B * T * width }, () => random() - 0.5);
  const tensors: Record<string, HostTensor> = {
    'teacher.logits': hostTensor('float32', [B, T, V], teacher),
    'student.logits': hostTensor('float32', [B, T, V], student),
    'teacher.hidden': hostTensor('float32', [B, T, 16], hidden(16)),
    'student.hidden': hostTensor('float32', [B, T, 8], hidden(8)),
    roles: hostTensor('int32', [B, T], roles),
    labels: hostTensor('int32', [B, T], labels),
  };
  return writeSafetensors(tensors, { description: 'mmkd example: made-up teacher and student outputs, LLaVA layout' });
}

/**
 * Outputs of a made-up teacher with 4 vision tokens (a 2×2 grid) and an efficient student that
 * pooled them to 1, for the EM-KD objective: the sequences differ in length, so each side has its
 * own roles. Vocabulary 32; hidden widths 16 for both (EM-KD's student keeps the LM's width).
 */
function efficientInputs(): Uint8Array {
  const B = 2;
  const V = 32;
  const { prompt, visual, response, pad } = ROLE_CODES;
  const teacherLayout = [prompt, visual, visual, visual, visual, prompt, prompt, prompt, response, response, response, pad];
  const studentLayout = [prompt, visual, prompt, prompt, prompt, response, response, response, pad];
  const [Tt, Ts] = [teacherLayout.length, studentLayout.length];
  const random = seeded(11);
  const repeat = (layout: number[]) => Int32Array.from([...layout, ...layout]);
  const labels = new Int32Array(B * Ts).fill(IGNORE_LABEL);
  for (let i = 0; i < B * Ts; i++) if (studentLayout[i % Ts] === response) labels[i] = Math.floor(random() * V);
  const values = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * (random() - 0.5));
  const tensors: Record<string, HostTensor> = {
    'teacher.logits': hostTensor('float32', [B, Tt, V], values(B * Tt * V, 4)),
    'student.logits': hostTensor('float32', [B, Ts, V], values(B * Ts * V, 4)),
    'teacher.hidden': hostTensor('float32', [B, Tt, 16], values(B * Tt * 16, 1)),
    'student.hidden': hostTensor('float32', [B, Ts, 16], values(B * Ts * 16, 1)),
    'teacher.roles': hostTensor('int32', [B, Tt], repeat(teacherLayout)),
    'student.roles': hostTensor('int32', [B, Ts], repeat(studentLayout)),
    labels: hostTensor('int32', [B, Ts], labels),
  };
  return writeSafetensors(tensors, { description: 'mmkd example: made-up teacher (4 vision tokens) and efficient student (1), LLaVA layout' });
}

/** A small deterministic generator (mulberry32), enough for example data. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { writeFileSync } = await import('node:fs');
  for (const file of exampleFiles()) {
    writeFileSync(file.path, file.bytes);
    console.log(`wrote ${file.path}`);
  }
}
