/**
 * Which backend to run on: `--backend auto|cpu|wasm|webgpu|node-gpu`, the library's `backend`
 * option and `MMKD_BACKEND` all resolve here, so the three agree.
 *
 * `auto` prefers node-gpu (CUDA), then WebGPU on a *hardware* adapter, then wasm, and says why.
 * A backend asked for by name is activated or fails with `BackendUnavailableError` (the reason
 * and the fix); it never falls back to another silently.
 */

import { cpu } from './cpu.js';
import { type DeviceLossWatch, noDeviceLoss } from './device-loss.js';
import { BackendUnavailableError, describeError, UnknownBackendError } from './errors.js';
import { type NodeGpuBackend, nodeGpu } from './node-gpu.js';
import type { Backend, BackendName } from './types.js';
import { wasm } from './wasm.js';
import type { AdapterReport } from './webgpu/adapter.js';
import { formatAdapter } from './webgpu/adapter.js';
import { type WebGPUActivation, type WebGPUBackend, webgpu } from './webgpu/backend.js';

export const BACKEND_CHOICES = ['auto', 'cpu', 'wasm', 'webgpu', 'node-gpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The environment variable that picks a backend when no flag or option does. */
export const BACKEND_ENV_VAR = 'MMKD_BACKEND';

/** Help text for the CLI's `--backend <name>` flag. */
export const BACKEND_FLAG_HELP =
  `compute backend: ${BACKEND_CHOICES.join('|')} (default: $${BACKEND_ENV_VAR}, else auto; ` +
  'auto prefers node-gpu, then webgpu on a hardware adapter, then wasm)';

/** Where a choice came from, so messages can say "asked for by MMKD_BACKEND". */
export type ChoiceSource = 'flag' | 'option' | 'env' | 'default';

export interface ResolvedChoice {
  readonly choice: BackendChoice;
  readonly source: ChoiceSource;
}

const SOURCE_TEXT: Readonly<Record<ChoiceSource, string>> = {
  flag: '--backend',
  option: 'the backend option',
  env: BACKEND_ENV_VAR,
  default: 'default',
};

export function isBackendChoice(value: string): value is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(value);
}

/** Validates a name; the error lists the valid ones and says where the bad one came from. */
export function parseBackendChoice(value: string, source: ChoiceSource = 'option'): BackendChoice {
  const name = value.trim().toLowerCase();
  if (isBackendChoice(name)) return name;
  throw new UnknownBackendError(`unknown backend '${value}' (from ${SOURCE_TEXT[source]}): choose one of ${BACKEND_CHOICES.join(', ')}`);
}

/**
 * Precedence: the CLI flag, then the library option, then `MMKD_BACKEND`, then `auto`. Empty
 * strings count as unset, so `MMKD_BACKEND=` does not override anything.
 */
export function resolveBackendChoice(inputs: {
  readonly flag?: string | undefined;
  readonly option?: string | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
}): ResolvedChoice {
  const candidates: readonly (readonly [string | undefined, ChoiceSource])[] = [
    [inputs.flag, 'flag'],
    [inputs.option, 'option'],
    [inputs.env?.[BACKEND_ENV_VAR], 'env'],
  ];
  for (const [value, source] of candidates) {
    if (value !== undefined && value.trim() !== '') return { choice: parseBackendChoice(value, source), source };
  }
  return { choice: 'auto', source: 'default' };
}

/** A candidate `auto` passed over, and why. */
export interface Rejection {
  readonly backend: BackendName;
  readonly reason: string;
  readonly error?: BackendUnavailableError;
}

/** The backend chosen for a command, why, and what was passed over (`selectBackend`). */
export interface BackendSelection {
  readonly backend: Backend;
  readonly choice: BackendChoice;
  readonly source: ChoiceSource;
  /** Why this backend: "asked for by --backend", or auto's reasons for passing over the others. */
  readonly reason: string;
  /** One line to print: "wasm: no hardware WebGPU adapter (found llvmpipe, ...); tfjs-node-gpu not installed". */
  readonly summary: string;
  readonly rejected: readonly Rejection[];
  /** The adapter, when WebGPU was probed or chosen. */
  readonly adapter?: AdapterReport;
  /** Set when the chosen backend is WebGPU: release it at the end of a run so Node can exit. */
  readonly webgpu?: WebGPUActivation;
  /** Device loss of the chosen backend (never fires for cpu and wasm). */
  readonly deviceLoss: DeviceLossWatch;
}

/** The backends selection chooses among; tests substitute fakes. */
export interface SelectionCandidates {
  readonly cpu: Backend;
  readonly wasm: Backend;
  readonly webgpu: WebGPUBackend;
  readonly nodeGpu: NodeGpuBackend;
  /** Whether this is Node (node-gpu is only a candidate there). */
  readonly inNode: boolean;
}

export const defaultCandidates: SelectionCandidates = {
  cpu,
  wasm,
  webgpu,
  nodeGpu,
  inNode: typeof process !== 'undefined' && typeof process.versions?.node === 'string',
};

function nodeGpuRejection(error: BackendUnavailableError): string {
  return error.code === 'package-missing' ? 'tfjs-node-gpu not installed' : `tfjs-node-gpu unusable (${clause(error.reason)})`;
}

/** Reasons are sentences; inside parentheses the final period goes. */
function clause(reason: string): string {
  return reason.trim().replace(/\.$/, '');
}

const NO_ADAPTER_CODES: ReadonlySet<string> = new Set(['no-adapter', 'vulkan-loader-missing', 'vulkan-driver-missing', 'mesa-too-old']);

function webgpuRejection(probe: Awaited<ReturnType<WebGPUBackend['probe']>>): string {
  if (!probe.ok) {
    const what = NO_ADAPTER_CODES.has(probe.error.code) ? 'no WebGPU adapter' : 'WebGPU unavailable';
    return `${what} (${clause(probe.error.reason)})`;
  }
  const found = probe.adapter.softwareName ?? formatAdapter(probe.adapter);
  return `no hardware WebGPU adapter (found ${found}, a software rasterizer)`;
}

async function chooseAutomatically(source: ChoiceSource, candidates: SelectionCandidates): Promise<BackendSelection> {
  const rejected: Rejection[] = [];
  const finish = (backend: Backend, reason: string, extra: Partial<BackendSelection> = {}): BackendSelection => ({
    backend,
    choice: 'auto',
    source,
    reason,
    summary: `${backend.name}: ${reason}`,
    rejected,
    deviceLoss: noDeviceLoss,
    ...extra,
  });

  if (candidates.inNode) {
    const probe = await candidates.nodeGpu.probe();
    if (probe.ok) {
      try {
        await candidates.nodeGpu.activate();
        return finish(candidates.nodeGpu, '@tensorflow/tfjs-node-gpu is installed and TensorFlow found a CUDA device');
      } catch (error) {
        if (!(error instanceof BackendUnavailableError)) throw error;
        rejected.push({ backend: 'node-gpu', reason: nodeGpuRejection(error), error });
      }
    } else {
      rejected.push({ backend: 'node-gpu', reason: nodeGpuRejection(probe.error), error: probe.error });
    }
  }

  const probe = await candidates.webgpu.probe();
  let adapter: AdapterReport | undefined;
  if (probe.ok && probe.adapter.kind === 'hardware') {
    try {
      const activation = await candidates.webgpu.open();
      await candidates.webgpu.activate();
      const others = rejected.map((r) => r.reason);
      return finish(candidates.webgpu, [`hardware adapter ${formatAdapter(activation.adapter)}`, ...others].join('; '), {
        adapter: activation.adapter,
        webgpu: activation,
        deviceLoss: activation.deviceLoss,
      });
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      rejected.unshift({ backend: 'webgpu', reason: `WebGPU failed to start (${clause(error.reason)})`, error });
    }
  } else {
    if (probe.ok) adapter = probe.adapter;
    // Listed first: the closer alternative is the one a reader asks about first.
    rejected.unshift({ backend: 'webgpu', reason: webgpuRejection(probe), ...(probe.ok ? {} : { error: probe.error }) });
  }

  const because = rejected.map((r) => r.reason).join('; ');
  const extra = adapter ? { adapter } : {};
  try {
    await candidates.wasm.activate();
    return finish(candidates.wasm, because, extra);
  } catch (error) {
    // wasm is part of mmkd's own dependencies; if even it fails, the reference backend still runs.
    rejected.push({ backend: 'wasm', reason: `wasm failed to start (${describeError(error)})` });
    await candidates.cpu.activate();
    return finish(candidates.cpu, rejected.map((r) => r.reason).join('; '), extra);
  }
}

/**
 * Activates the backend a choice names. For `auto`, tries the candidates in order and reports
 * why it passed over each; for a name, activates exactly that backend or throws.
 */
export async function selectBackend(requested: BackendChoice | ResolvedChoice, candidates: SelectionCandidates = defaultCandidates): Promise<BackendSelection> {
  const { choice, source } = typeof requested === 'string' ? { choice: requested, source: 'option' as const } : requested;
  if (choice === 'auto') return chooseAutomatically(source, candidates);

  const asked = `asked for by ${SOURCE_TEXT[source]}`;
  const base = { choice, source, reason: asked, rejected: [] as const };
  switch (choice) {
    case 'cpu':
    case 'wasm': {
      const backend = candidates[choice];
      await backend.activate();
      return { ...base, backend, summary: `${choice}: ${asked}`, deviceLoss: noDeviceLoss };
    }
    case 'webgpu': {
      const activation = await candidates.webgpu.open();
      await candidates.webgpu.activate();
      return {
        ...base,
        backend: candidates.webgpu,
        summary: `webgpu: ${asked}; adapter ${formatAdapter(activation.adapter)}`,
        adapter: activation.adapter,
        webgpu: activation,
        deviceLoss: activation.deviceLoss,
      };
    }
    case 'node-gpu': {
      if (!candidates.inNode) {
        throw new BackendUnavailableError(
          'node-gpu',
          'package-missing',
          'node-gpu runs only in Node (it is a native TensorFlow addon).',
          'in a browser, use --backend webgpu or wasm.',
        );
      }
      await candidates.nodeGpu.activate();
      return { ...base, backend: candidates.nodeGpu, summary: `node-gpu: ${asked}`, deviceLoss: noDeviceLoss };
    }
  }
}

/** Resolves flag / option / `MMKD_BACKEND` and activates the result: what the CLI and library call. */
export function selectBackendFrom(
  inputs: Parameters<typeof resolveBackendChoice>[0],
  candidates: SelectionCandidates = defaultCandidates,
): Promise<BackendSelection> {
  return selectBackend(resolveBackendChoice(inputs), candidates);
}
