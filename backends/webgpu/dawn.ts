/**
 * WebGPU in Node through Dawn (the `webgpu` npm package). Node only: `webgpu.ts` loads this module
 * lazily, so that browser bundles never see `node:` imports.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { BackendUnavailableError, describeError, isModuleNotFound } from '../errors.js';
import type { GpuAdapterInfoLike, GpuLike } from './api.js';
import { type Diagnosis, explainNoNativeAdapter, explainNoVulkanAdapter, gatherVulkanFacts } from './vulkan-diagnosis.js';

export const DAWN_PACKAGE = 'webgpu';
export const DAWN_PACKAGE_VERSION = '0.6.2';

/** Loads a package by name; injected in tests to simulate a missing or broken install. */
export type PackageLoader = () => Promise<unknown>;

/**
 * The specifier is held in a variable on purpose: with a literal, tsc would load the package's
 * global WebGPU typings, which clash with the older copy tfjs depends on.
 */
const dawnSpecifier: string = DAWN_PACKAGE;
export const loadDawnPackage: PackageLoader = () => import(dawnSpecifier);

interface DawnModule {
  create(toggles: string[]): GpuLike;
  /** WebGPU's constant namespaces (GPUBufferUsage, GPUMapMode, ...) that tfjs reads as globals. */
  readonly globals: object;
}

function isDawnModule(value: unknown): value is DawnModule {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<keyof DawnModule, unknown>>;
  return typeof candidate.create === 'function' && typeof candidate.globals === 'object' && candidate.globals !== null;
}

/** Where a `GPU` object came from, how to let go of it, and how to explain a missing adapter. */
export interface GpuProvider {
  readonly gpu: GpuLike;
  readonly source: 'dawn' | 'navigator';
  /** Drops what the provider installed; with Dawn this lets the Node process exit. */
  release(): void;
  explainNoAdapter(): Promise<Diagnosis>;
}

const installHint =
  `npm install ${DAWN_PACKAGE}@${DAWN_PACKAGE_VERSION} (mmkd lists it as an optional dependency, so a plain ` +
  '`npm install` adds it unless optional dependencies were omitted with --omit=optional or --no-optional). ' +
  'It ships prebuilt Dawn binaries and needs nothing beyond the npm registry at install time.';

async function importDawn(load: PackageLoader): Promise<DawnModule> {
  let loaded: unknown;
  try {
    loaded = await load();
  } catch (error) {
    if (isModuleNotFound(error, DAWN_PACKAGE)) {
      throw new BackendUnavailableError(
        'webgpu',
        'package-missing',
        `the optional package '${DAWN_PACKAGE}' (Dawn's WebGPU for Node) is not installed.`,
        installHint,
        { cause: error },
      );
    }
    throw new BackendUnavailableError(
      'webgpu',
      'package-broken',
      `the package '${DAWN_PACKAGE}' is installed but its native module (dawn.node) failed to load: ${describeError(error)}`,
      `reinstall ${DAWN_PACKAGE}@${DAWN_PACKAGE_VERSION}; it ships prebuilt binaries for linux-x64, linux-arm64, ` +
        `darwin, win32-x64 and win32-arm64, and this is ${process.platform}-${process.arch}.`,
      { cause: error },
    );
  }
  if (!isDawnModule(loaded)) {
    throw new BackendUnavailableError(
      'webgpu',
      'package-broken',
      `the package '${DAWN_PACKAGE}' does not export create() and globals; it is not the Dawn binding mmkd expects.`,
      installHint,
    );
  }
  return loaded;
}

/**
 * tfjs reads WebGPU's constant namespaces (GPUBufferUsage, ...) as globals, as in a browser.
 * They are plain constants, so they stay installed after release.
 */
function installWebGPUGlobals(globals: object): void {
  for (const [key, value] of Object.entries(globals)) {
    if (!(key in globalThis)) Object.defineProperty(globalThis, key, { value, configurable: true, writable: true });
  }
}

/**
 * tfjs's WebGPU backend looks for `navigator.gpu` (to register itself, and again in its
 * constructor). Node 20 has no `navigator`; Node 21+ has one without `gpu`. Returns the undo.
 */
function installNavigatorGpu(gpu: GpuLike): () => void {
  const scope = globalThis as { navigator?: object };
  if (scope.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return () => Reflect.deleteProperty(globalThis, 'navigator');
  }
  const navigator = scope.navigator;
  Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  return () => Reflect.deleteProperty(navigator, 'gpu');
}

async function explainNoDawnAdapter(): Promise<Diagnosis> {
  if (process.platform !== 'linux') return explainNoNativeAdapter(process.platform);
  return explainNoVulkanAdapter(await gatherVulkanFacts());
}

/** Loads Dawn, creates its `GPU` object and exposes it as `navigator.gpu`, in that order. */
export async function openDawn(load: PackageLoader, toggles: readonly string[]): Promise<GpuProvider> {
  const dawn = await importDawn(load);
  let gpu: GpuLike;
  try {
    gpu = dawn.create([...toggles]);
  } catch (error) {
    throw new BackendUnavailableError(
      'webgpu',
      'package-broken',
      `Dawn refused to start: ${describeError(error)}`,
      'check the Dawn toggles passed to create() (an unknown backend= or adapter= toggle prints the valid ones).',
      { cause: error },
    );
  }
  installWebGPUGlobals(dawn.globals);
  const uninstall = installNavigatorGpu(gpu);
  let released = false;
  return {
    gpu,
    source: 'dawn',
    release() {
      if (released) return;
      released = true;
      // Dawn keeps Node's event loop alive for as long as its GPU object is reachable.
      uninstall();
    },
    explainNoAdapter: explainNoDawnAdapter,
  };
}

/** What a quiet probe saw: the adapter's info and features, as `describeAdapter` reads them. */
export interface QuietAdapterProbe {
  readonly info: GpuAdapterInfoLike;
  readonly isFallbackAdapter: boolean;
  readonly features: readonly string[];
}

/**
 * Asks Dawn for an adapter in a short-lived child process and returns what it found, or
 * `undefined` when the child could not tell (no package, no adapter, a crash): the caller then
 * probes in-process, which explains the failure properly.
 *
 * Why a child: Dawn's native code writes warnings straight to file descriptor 2 when it opens an
 * adapter (on lavapipe, two "maxDynamic…BuffersPerPipelineLayout artificially reduced" lines),
 * which Node cannot intercept. `auto` probes WebGPU on every command, usually only to pass over a
 * software adapter, so the probe runs where its stderr can be dropped. A device that is actually
 * used is still opened in-process, where Dawn may print them once.
 */
export async function probeDawnQuietly(toggles: readonly string[], powerPreference?: string): Promise<QuietAdapterProbe | undefined> {
  let entry: string;
  try {
    entry = pathToFileURL(createRequire(import.meta.url).resolve(DAWN_PACKAGE)).href;
  } catch {
    return undefined;
  }
  const script = `
    const { create } = await import(${JSON.stringify(entry)});
    const adapter = await create(${JSON.stringify(toggles)}).requestAdapter(${JSON.stringify(powerPreference ? { powerPreference } : {})});
    const info = adapter === null ? null : (adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {});
    process.stdout.write(JSON.stringify(adapter === null ? null : {
      info: { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '', isFallbackAdapter: info.isFallbackAdapter === true },
      isFallbackAdapter: adapter.isFallbackAdapter === true,
      features: [...adapter.features],
    }));
    process.exit(0);`;
  const stdout = await new Promise<string | undefined>((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 }, (error, out) => resolve(error ? undefined : out));
  });
  if (stdout === undefined) return undefined;
  try {
    const found = JSON.parse(stdout) as QuietAdapterProbe | null;
    return found ?? undefined;
  } catch {
    return undefined;
  }
}
