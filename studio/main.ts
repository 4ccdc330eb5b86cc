/**
 * The studio page: picks a backend (WebGPU when the browser has an adapter, else wasm, and says
 * why), trains a recipe's students against the shipped teacher in the tab with live loss curves,
 * stops and resumes, downloads a checkpoint `mmkd evaluate` reads, evaluates accuracy per question
 * type beside the teacher's, and checks objectives as they are typed. State is published on
 * `window.__studio` for the browser test. URL parameters: `recipe`, `scale` (quick|full), `seed`,
 * `backend` (webgpu|wasm), `stage` (start at this stage, from the initialised student), `steps`
 * (train that many steps when the page opens), `eval` (held-out questions scored; 500 by default).
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { env } from '@tensorflow/tfjs-core';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { DeviceLossWatch } from '../backends/device-loss.js';
import { wasm } from '../backends/wasm.js';
import { webgpuBackend } from '../backends/webgpu/backend.js';
import type { EvalReport } from '../data/eval.js';
import { readSafetensors } from '../io/safetensors.js';
import { accuracyPoints, accuracySpec, type LossPoint, lossCurvesSpec, lossPoints } from '../plot/specs.js';
import teacherState from '../recipes/assets/teacher/state.json';
import teacherWeightsUrl from '../recipes/assets/teacher/weights.safetensors?url';
import { QUICK_SCALE, recipes } from '../recipes/catalog.js';
import type { Recipe } from '../recipes/recipe.js';
import { worldEnvironment } from '../recipes/world.js';
import { checkObjective, studioShapes } from './editor.js';
import { inspectSample, type SampleInspection } from './inspect.js';
import { affinitySpec, answersSpec, drawMatches } from './inspector-view.js';
import { createSession, type Session, type StudioStep } from './session.js';
import type { StudioState } from './state.js';

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
};

const state: StudioState = {
  status: 'loading',
  backend: undefined,
  backendReason: '',
  steps: [],
  curvePoints: [],
  editor: undefined,
  accuracy: undefined,
  error: undefined,
};
window.__studio = state;

function fail(message: string): void {
  state.error = message;
  $('message').textContent = message;
}

/** WebGPU when the browser gives an adapter (unless `?backend=wasm`), else wasm; and why. */
async function chooseBackend(): Promise<{ name: 'webgpu' | 'wasm'; reason: string; deviceLoss?: DeviceLossWatch; destroyDevice?: () => void }> {
  const asked = params.get('backend');
  const useWasm = async (reason: string) => {
    // The threaded build's workers do not survive bundling (they fail with 'e is not defined'):
    // single-threaded SIMD, as in Node.
    env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
    await wasm.activate();
    return { name: 'wasm' as const, reason };
  };
  if (asked === 'wasm') return useWasm('wasm, as the address asks (?backend=wasm)');
  if (!('gpu' in navigator)) return useWasm('wasm: this browser has no WebGPU (navigator.gpu is missing)');
  const backend = webgpuBackend({ source: 'navigator' });
  try {
    const activation = await backend.open();
    await backend.activate();
    const adapter = activation.adapter;
    const about = [adapter.vendor, adapter.architecture, adapter.device].filter((s) => s).join(' ');
    return {
      name: 'webgpu',
      reason: `WebGPU on ${about || 'the browser adapter'}${adapter.kind === 'software' ? ' (a software adapter: slower than a GPU)' : ''}`,
      deviceLoss: activation.deviceLoss,
      destroyDevice: () => activation.device.destroy(),
    };
  } catch (error) {
    return useWasm(`wasm: WebGPU is present but gave no usable device (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** A Vega view of a Vega-Lite spec, drawn as SVG into `element`; its data is the named set `points` (filled later) unless `inline`. */
async function chartView(spec: TopLevelSpec, element: HTMLElement, options: { readonly inline?: boolean } = {}): Promise<View> {
  const named = options.inline ? spec : ({ ...spec, data: { name: 'points' } } as TopLevelSpec);
  const view = new View(parse(compile(named).spec), { renderer: 'svg', container: element, hover: true });
  await view.runAsync();
  return view;
}

const catalogFor = (scale: string): ReadonlyMap<string, Recipe> => (scale === 'full' ? recipes() : recipes(QUICK_SCALE));

async function main(): Promise<void> {
  const chosen = await chooseBackend();
  state.backend = chosen.name;
  state.backendReason = chosen.reason;
  $('backend').textContent = `backend: ${chosen.reason}`;
  if (chosen.destroyDevice) state.loseDevice = chosen.destroyDevice;
  chosen.deviceLoss?.onLost((lost) => {
    if (!lost.released)
      fail(
        `The WebGPU device was lost (${lost.reason}${lost.message ? `: ${lost.message}` : ''}). Training stopped; reload the page to continue on a new device, or add ?backend=wasm.`,
      );
  });

  const evalSamples = Number(params.get('eval'));
  const environment = worldEnvironment('grid', Number.isInteger(evalSamples) && evalSamples > 0 ? { evalSamples } : {});
  const teacherBytes = new Uint8Array(await (await fetch(teacherWeightsUrl)).arrayBuffer());
  const teacherWeights = readSafetensors(teacherBytes, 'the shipped teacher (weights.safetensors)').tensors;
  const teacherFingerprint = teacherState.files['weights.safetensors'];

  const recipeSelect = $<HTMLSelectElement>('recipe');
  const scaleSelect = $<HTMLSelectElement>('scale');
  const seedInput = $<HTMLInputElement>('seed');
  scaleSelect.value = params.get('scale') === 'full' ? 'full' : 'quick';
  seedInput.value = params.get('seed') ?? '0';
  for (const recipe of catalogFor('quick').values()) {
    if (recipe.name === 'teacher') continue;
    recipeSelect.add(new Option(recipe.name, recipe.name));
  }
  recipeSelect.value = params.get('recipe') ?? 'llava-kd';
  const describe = () => {
    const recipe = catalogFor(scaleSelect.value).get(recipeSelect.value);
    $('recipe-about').textContent = recipe ? `${recipe.description}. Stages: ${recipe.stages.map((s) => `${s.name} (${s.steps} steps)`).join(' → ')}.` : '';
  };
  recipeSelect.addEventListener('change', describe);
  scaleSelect.addEventListener('change', describe);
  describe();

  let session: Session | undefined;
  let curves: View | undefined;
  const start = $<HTMLButtonElement>('start');
  const stop = $<HTMLButtonElement>('stop');
  const download = $<HTMLButtonElement>('download');
  const evaluate = $<HTMLButtonElement>('evaluate');
  const bar = $<HTMLProgressElement>('progress-bar');
  const progressText = $('progress-text');

  const showProgress = () => {
    if (!session) return;
    bar.max = session.total;
    bar.value = session.done();
    const { stage, step } = session.position();
    const where = session.finished() ? 'finished' : `stage ${session.recipe.stages[stage]?.name} step ${step}`;
    progressText.textContent = `${session.done()} / ${session.total} steps (${where})`;
  };

  const onStep = async (step: StudioStep) => {
    state.steps.push(step);
    const { points } = lossPoints([step]);
    state.curvePoints.push(...points);
    // The facet's panels grow with the data: resize so the SVG takes the new size.
    await curves?.insert('points', points).resize().runAsync();
    showProgress();
  };

  /** Trains (a new session unless one is paused) until the end, Stop, or `limit` steps. */
  const train = async (limit?: number) => {
    if (session === undefined || session.finished()) {
      session?.dispose();
      const recipe = catalogFor(scaleSelect.value).get(recipeSelect.value);
      if (recipe === undefined) throw new Error(`unknown recipe '${recipeSelect.value}'`);
      state.steps.length = 0;
      state.curvePoints.length = 0;
      const startAt = params.get('stage');
      const startStage = startAt === null ? 0 : recipe.stages.findIndex((s) => s.name === startAt);
      if (startStage < 0) throw new Error(`recipe '${recipe.name}' has no stage '${startAt}' (its stages: ${recipe.stages.map((s) => s.name).join(', ')})`);
      if (startStage > 0)
        $('message').textContent = `Starting at stage ${startAt} (?stage=): earlier stages are skipped, so the student starts from its initialisation.`;
      session = createSession({
        recipe,
        startStage,
        seed: Number(seedInput.value),
        environment,
        teacherWeights,
        teacherFingerprint,
        backend: chosen.name,
        ...(chosen.deviceLoss ? { deviceLoss: chosen.deviceLoss } : {}),
      });
      curves?.finalize();
      $('curves').replaceChildren();
      curves = await chartView(
        lossCurvesSpec(
          `${recipe.name} (seed ${seedInput.value}): loss per term and stage`,
          recipe.stages.map((s) => s.name),
          [] as LossPoint[],
        ),
        $('curves'),
      );
      state.curves = () => (curves?.data('points') ?? []) as LossPoint[];
    }
    const current = session;
    state.status = 'training';
    start.disabled = true;
    stop.disabled = false;
    download.disabled = true;
    evaluate.disabled = true;
    inspectButton.disabled = true;
    for (const input of [recipeSelect, scaleSelect, seedInput]) input.disabled = true;
    showProgress();
    try {
      // One step at a time, handing control back to the page between steps, so Stop and the curves respond.
      await current.train((s) => void onStep(s), limit);
      await curves?.runAsync();
    } finally {
      state.status = current.finished() ? 'finished' : 'stopped';
      start.disabled = false;
      start.textContent = current.finished() ? 'Train again' : 'Resume';
      stop.disabled = true;
      download.disabled = false;
      evaluate.disabled = false;
      inspectButton.disabled = false;
      if (current.finished()) for (const input of [recipeSelect, scaleSelect, seedInput]) input.disabled = false;
      showProgress();
    }
  };

  start.addEventListener('click', () => {
    train().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
  });
  stop.addEventListener('click', () => session?.stop());
  download.addEventListener('click', async () => {
    if (!session) return;
    const bytes = await session.checkpoint();
    const { stage, step } = session.position();
    const name = `${session.recipe.name}-${session.finished() ? 'final' : `${session.recipe.stages[stage]?.name}-${step}`}.safetensors`;
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const link = Object.assign(document.createElement('a'), { href: url, download: name });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    $('note').textContent = `Saved ${name}: \`mmkd evaluate ${name}\` scores it.`;
  });
  evaluate.addEventListener('click', async () => {
    if (!session) return;
    evaluate.disabled = true;
    start.disabled = true;
    // The chart grows as the questions are scored: the student's bars, then the teacher's beside them.
    const runs: { label: string; report: EvalReport }[] = [];
    const draw = async (label: string, report: EvalReport, scored: number, total: number) => {
      const shown = [...runs, { label, report }];
      $('accuracy-text').textContent = `scoring the ${label.startsWith('teacher') ? 'teacher' : 'student'}: ${scored} / ${total} questions`;
      $('accuracy-chart').replaceChildren();
      await chartView(accuracySpec(`Exact match per question type (${scored} of ${total} held-out questions)`, accuracyPoints(shown)), $('accuracy-chart'), {
        inline: true,
      });
    };
    try {
      const studentLabel = `student (${session.recipe.name})`;
      const student = await session.evaluate('student', (report, scored, total) => draw(studentLabel, report, scored, total));
      runs.push({ label: studentLabel, report: student.report });
      if (session.teacher)
        runs.push({ label: 'teacher', report: (await session.evaluate('teacher', (report, scored, total) => draw('teacher', report, scored, total))).report });
      state.accuracy = runs.map((r) => ({ label: r.label, average: r.report.average }));
      $('accuracy-text').textContent = runs.map((r) => `${r.label}: ${(100 * r.report.average).toFixed(1)}% mean over types`).join('; ');
      $('accuracy-chart').replaceChildren();
      await chartView(accuracySpec(`Exact match per question type (${student.report.samples} held-out questions)`, accuracyPoints(runs)), $('accuracy-chart'), {
        inline: true,
      });
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    } finally {
      evaluate.disabled = false;
      start.disabled = false;
    }
  });

  const inspectButton = $<HTMLButtonElement>('inspect');
  const tokenInput = $<HTMLInputElement>('inspect-token');
  let inspection: SampleInspection | undefined;
  const drawAll = () => {
    if (!inspection) return;
    const token = Math.min(Math.max(0, Number(tokenInput.value) || 0), inspection.matches.hungarian.length - 1);
    drawMatches($('match-hungarian'), inspection, [inspection.matches.hungarian[token] as number], token);
    drawMatches($('match-pooling'), inspection, inspection.matches.pooling[token] ?? [], token);
    drawMatches($('match-nearest'), inspection, [inspection.matches.nearest[token] as number], token);
    drawMatches($('match-sinkhorn'), inspection, [], token, inspection.matches.sinkhorn[token]);
  };
  tokenInput.addEventListener('input', drawAll);
  inspectButton.addEventListener('click', async () => {
    if (!session?.teacher) {
      fail('this recipe trains without a teacher: nothing to match or compare');
      return;
    }
    inspectButton.disabled = true;
    try {
      inspection = await inspectSample(
        environment,
        session.teacher,
        session.student,
        session.recipe.model,
        Number($<HTMLInputElement>('inspect-index').value) || 0,
      );
      state.inspection = inspection;
      tokenInput.max = String(inspection.matches.hungarian.length - 1);
      $('inspect-about').textContent =
        `${inspection.sampleId} (${inspection.kind}): ${inspection.question} → ${inspection.answer}. The student has ${inspection.studentGrid}×${inspection.studentGrid} vision tokens, the teacher ${inspection.teacherGrid}×${inspection.teacherGrid}; blue: the chosen student token's cell, orange: the teacher patches it is matched to.`;
      drawAll();
      const prompt = inspection.question.split(' ');
      for (const [id, model] of [
        ['affinity-teacher', 'teacher'],
        ['affinity-student', 'student'],
      ] as const) {
        $(id).replaceChildren();
        await chartView(affinitySpec(`${model}: cos(vision, prompt)`, inspection.affinity[model], prompt), $(id), { inline: true });
      }
      $('answers').replaceChildren();
      await chartView(answersSpec(inspection), $('answers'), { inline: true });
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    } finally {
      inspectButton.disabled = false;
    }
  });

  setUpEditor(environment.configs.teacher, environment.configs.student);
  const steps = Number(params.get('steps'));
  if (Number.isInteger(steps) && steps > 0) await train(steps).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
  else state.status = 'ready';
}

/** The editor: the shipped example objectives, checked on every keystroke. */
function setUpEditor(teacher: Parameters<typeof studioShapes>[0], student: Parameters<typeof studioShapes>[1]): void {
  const examples = import.meta.glob('../examples/objectives/*.json', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
  const select = $<HTMLSelectElement>('editor-example');
  const text = $<HTMLTextAreaElement>('editor-text');
  for (const path of Object.keys(examples).sort()) select.add(new Option(path.split('/').pop() as string, path));
  const shapes = studioShapes(teacher, student);
  const check = () => {
    const result = checkObjective(text.value, shapes);
    state.editor = result;
    $('editor-status').textContent = result.ok ? 'valid: the formula tree' : `${result.errors.length} problem${result.errors.length === 1 ? '' : 's'}`;
    $('editor-errors').replaceChildren(...(result.ok ? [] : result.errors.map((e) => Object.assign(document.createElement('li'), { textContent: e }))));
    $('editor-tree').textContent = result.ok ? result.tree : '';
  };
  select.addEventListener('change', () => {
    text.value = examples[select.value] ?? '';
    check();
  });
  text.addEventListener('input', check);
  text.value = examples[select.value] ?? '';
  check();
}

/** Keeps working offline once loaded: the service worker keeps every file the page fetched. */
if ('serviceWorker' in navigator) {
  navigator.serviceWorker
    .register('./sw.js')
    .catch((error: unknown) => console.warn(`no offline copy: ${error instanceof Error ? error.message : String(error)}`));
}

main().catch((error: unknown) => {
  state.status = 'failed';
  fail(`The studio could not start: ${error instanceof Error ? error.message : String(error)}`);
});
