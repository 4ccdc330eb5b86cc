/**
 * Why Dawn found no adapter on Linux, from what is on disk. Node only.
 *
 * Dawn reports a missing adapter as `null`; its reasons ("Couldn't load Vulkan", "Vulkan
 * shaderUniform*ArrayDynamicIndexing required") go to the process's stderr from native code,
 * where we cannot catch them. So we look for what Dawn needs ourselves: the Vulkan loader, driver
 * manifests (ICDs), and, for lavapipe, the Mesa version inside the driver library.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { UnavailableCode } from '../errors.js';

/** Dawn refuses lavapipe before Mesa 25 (bookworm ships 22.3, which lacks required features). */
export const MIN_MESA_MAJOR = 25;

/** How to get a usable software Vulkan driver on Debian bookworm (and where that is easier). */
export const LAVAPIPE_INSTALL_STEPS = [
  "On Debian bookworm, as root, install Mesa >= 25's lavapipe (software Vulkan) from bookworm-backports:",
  "  sed -E -i '/^Suites:[[:space:]]+bookworm([[:space:]]|$)/ s/[[:space:]]*$/ bookworm-backports/' /etc/apt/sources.list.d/debian.sources",
  '  apt-get update',
  '  apt-get install -y -t bookworm-backports mesa-vulkan-drivers',
  '  export XDG_RUNTIME_DIR=$(mktemp -d)   # only if unset: some Mesa builds complain without one',
  '(On Ubuntu 25.04 or later, Debian trixie or later: apt-get install mesa-vulkan-drivers.',
  " In mmkd's repository, .ci/install-system-deps.sh does all of this.)",
].join('\n');

const GPU_DRIVER_HINT =
  "install your GPU's Vulkan driver (NVIDIA: the proprietary driver with its Vulkan ICD, and in a " +
  'container the NVIDIA toolkit\'s "graphics" capability; AMD/Intel: Mesa\'s radv/anv), or, on a ' +
  'machine without a GPU, a software driver.';

export interface IcdFact {
  /** The manifest (`/usr/share/vulkan/icd.d/lvp_icd.json`). */
  readonly manifest: string;
  /** `library_path` from the manifest; may be a bare file name. */
  readonly library: string;
  readonly driver: 'lavapipe' | 'nvidia' | 'other';
  /** For lavapipe: the Mesa version found in the library ("22.3.6"), if it could be read. */
  readonly mesaVersion?: string;
}

export interface VulkanFacts {
  /** Where libvulkan.so.1 was found, if anywhere. */
  readonly loader: string | undefined;
  readonly icds: readonly IcdFact[];
  /** The manifest folders (or VK_DRIVER_FILES entries) that were searched. */
  readonly searched: readonly string[];
}

/** What the diagnosis needs from the file system; tests pass a fake. */
export interface FileSystemView {
  isFile(path: string): Promise<boolean>;
  list(dir: string): Promise<readonly string[]>;
  readText(path: string): Promise<string>;
  /** The first match of `pattern` in the file's bytes read as latin1, or undefined. */
  search(path: string, pattern: RegExp): Promise<RegExpMatchArray | undefined>;
}

export const nodeFileSystem: FileSystemView = {
  async isFile(path) {
    try {
      return (await stat(path)).isFile();
    } catch {
      return false;
    }
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch {
      return [];
    }
  },
  readText: (path) => readFile(path, 'utf8'),
  async search(path, pattern) {
    try {
      return (await readFile(path)).toString('latin1').match(pattern) ?? undefined;
    } catch {
      return undefined;
    }
  },
};

const MULTIARCH: Readonly<Record<string, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

function splitPaths(value: string | undefined): string[] {
  return (value ?? '').split(':').filter((entry) => entry.length > 0);
}

async function findLoader(fs: FileSystemView, env: NodeJS.ProcessEnv, arch: string): Promise<string | undefined> {
  const triple = MULTIARCH[arch];
  const dirs = [
    ...splitPaths(env.LD_LIBRARY_PATH),
    ...(triple ? [`/usr/lib/${triple}`, `/lib/${triple}`] : []),
    '/usr/lib64',
    '/lib64',
    '/usr/lib',
    '/lib',
    '/usr/local/lib',
  ];
  for (const dir of dirs) {
    const candidate = join(dir, 'libvulkan.so.1');
    if (await fs.isFile(candidate)) return candidate;
  }
  // Libraries in folders listed only in /etc/ld.so.conf.d are known to the dynamic linker's cache.
  return (await fs.search('/etc/ld.so.cache', /libvulkan\.so\.1/)) ? 'libvulkan.so.1 (ld.so.cache)' : undefined;
}

/** The loader's manifest search order (VK_DRIVER_FILES / VK_ICD_FILENAMES replace it). */
async function manifestFiles(fs: FileSystemView, env: NodeJS.ProcessEnv): Promise<{ files: string[]; searched: string[] }> {
  const explicit = splitPaths(env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES);
  if (explicit.length > 0) return { files: explicit, searched: explicit };
  const dataHome = env.XDG_DATA_HOME ?? (env.HOME ? join(env.HOME, '.local/share') : undefined);
  const dataDirs = splitPaths(env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share');
  const dirs = [
    ...(dataHome ? [join(dataHome, 'vulkan/icd.d')] : []),
    '/etc/xdg/vulkan/icd.d',
    '/etc/vulkan/icd.d',
    ...dataDirs.map((dir) => join(dir, 'vulkan/icd.d')),
  ];
  const files: string[] = [];
  for (const dir of [...new Set(dirs)]) {
    for (const name of await fs.list(dir)) if (name.endsWith('.json')) files.push(join(dir, name));
  }
  return { files, searched: [...new Set(dirs)] };
}

async function readIcd(fs: FileSystemView, manifest: string): Promise<IcdFact | undefined> {
  let library: string;
  try {
    const parsed: unknown = JSON.parse(await fs.readText(manifest));
    const icd = (parsed as { ICD?: { library_path?: unknown } }).ICD;
    if (typeof icd?.library_path !== 'string') return undefined;
    library = icd.library_path;
  } catch {
    return undefined;
  }
  const text = `${manifest} ${library}`;
  if (/lvp|lavapipe/i.test(text)) {
    const match = await fs.search(library, /Mesa (\d+\.\d+(?:\.\d+)?)/);
    return { manifest, library, driver: 'lavapipe', ...(match?.[1] ? { mesaVersion: match[1] } : {}) };
  }
  return { manifest, library, driver: /nvidia/i.test(text) ? 'nvidia' : 'other' };
}

export async function gatherVulkanFacts(
  fs: FileSystemView = nodeFileSystem,
  env: Readonly<Record<string, string | undefined>> = process.env,
  arch: string = process.arch,
): Promise<VulkanFacts> {
  const loader = await findLoader(fs, env, arch);
  const { files, searched } = await manifestFiles(fs, env);
  const icds: IcdFact[] = [];
  for (const file of files) {
    const icd = await readIcd(fs, file);
    if (icd !== undefined) icds.push(icd);
  }
  return { loader, icds, searched };
}

export interface Diagnosis {
  readonly code: UnavailableCode;
  readonly reason: string;
  readonly fix: string;
}

function mesaMajor(version: string | undefined): number | undefined {
  const major = Number.parseInt(version ?? '', 10);
  return Number.isFinite(major) ? major : undefined;
}

function describeIcd(icd: IcdFact): string {
  if (icd.driver === 'lavapipe') return `lavapipe (Mesa ${icd.mesaVersion ?? 'version unknown'})`;
  return icd.driver === 'nvidia' ? `NVIDIA (${icd.library})` : icd.library;
}

/** Turns the facts into the reason Dawn most likely had, and the fix. Pure, so it is unit-tested. */
export function explainNoVulkanAdapter(facts: VulkanFacts): Diagnosis {
  const fixDriver = `${GPU_DRIVER_HINT}\n${LAVAPIPE_INSTALL_STEPS}`;
  if (facts.loader === undefined) {
    return {
      code: 'vulkan-loader-missing',
      reason: 'Dawn could not load the Vulkan loader: libvulkan.so.1 is not installed.',
      fix: `install the loader (Debian/Ubuntu: apt-get install libvulkan1) and a Vulkan driver: ${fixDriver}`,
    };
  }
  if (facts.icds.length === 0) {
    return {
      code: 'vulkan-driver-missing',
      reason: `the Vulkan loader is installed (${facts.loader}) but no Vulkan driver is: no driver manifest (ICD) found in ${facts.searched.join(', ')}.`,
      fix: fixDriver,
    };
  }
  const oldLavapipe = facts.icds.find((icd) => {
    const major = mesaMajor(icd.mesaVersion);
    return icd.driver === 'lavapipe' && major !== undefined && major < MIN_MESA_MAJOR;
  });
  const others = facts.icds.filter((icd) => icd.driver !== 'lavapipe').map(describeIcd);
  if (oldLavapipe !== undefined) {
    const alsoOthers = others.length > 0 ? ` The other Vulkan drivers (${others.join(', ')}) found no usable GPU either.` : '';
    return {
      code: 'mesa-too-old',
      reason:
        `the software Vulkan driver is Mesa ${oldLavapipe.mesaVersion ?? '?'}'s lavapipe, which Dawn refuses ` +
        `(it needs Mesa >= ${MIN_MESA_MAJOR}).${alsoOthers}`,
      fix: `upgrade Mesa's Vulkan drivers.\n${LAVAPIPE_INSTALL_STEPS}`,
    };
  }
  return {
    code: 'no-adapter',
    reason: `Dawn found no usable adapter, although Vulkan drivers are installed: ${facts.icds.map(describeIcd).join(', ')}.`,
    fix:
      'check that the driver sees the device (vulkaninfo --summary, from the vulkan-tools package); in a container, ' +
      `that /dev/dri or /dev/nvidia* is passed through. Otherwise ${fixDriver}`,
  };
}

/** Where Linux's Vulkan diagnosis does not apply. */
export function explainNoNativeAdapter(platform: string): Diagnosis {
  const api = platform === 'darwin' ? 'Metal' : platform === 'win32' ? 'Direct3D 12 or Vulkan' : 'Vulkan';
  return {
    code: 'no-adapter',
    reason: `Dawn found no ${api} adapter on this ${platform} machine.`,
    fix: platform === 'darwin' ? 'use a Mac with Metal support (any Mac since 2012) on a current macOS.' : `update the GPU driver so that it provides ${api}.`,
  };
}
