/**
 * How tests that need system packages (Mesa's lavapipe for WebGPU in Node, Debian's chromium for
 * the browser test) decide to run. They run by default and, where the packages are missing, FAIL
 * with the install hint: CI installs the packages (.ci/install-system-deps.sh), so a skip there
 * would hide a broken setup. A developer without them opts out explicitly.
 */
import { BackendUnavailableError } from '../errors.js';

export const SKIP_GPU_TESTS_VAR = 'MMKD_SKIP_GPU_TESTS';

/** True only when MMKD_SKIP_GPU_TESTS=1: the one way to skip the WebGPU and browser tests. */
export const skipGpuTests: boolean = process.env[SKIP_GPU_TESTS_VAR] === '1';

const HOW_TO_GET_THEM =
  'These tests need system packages that CI installs: run `sudo bash .ci/install-system-deps.sh` ' +
  `(Debian bookworm), or set ${SKIP_GPU_TESTS_VAR}=1 to skip the WebGPU and browser tests on a machine without them.`;

/**
 * A missing-backend failure with the install hint appended (the original kept as `cause`). Other
 * errors are bugs, not setup problems, and are returned unchanged.
 */
export function withInstallHint(error: unknown): unknown {
  if (!(error instanceof BackendUnavailableError)) return error;
  return new Error(`${error.message}\n\n${HOW_TO_GET_THEM}`, { cause: error });
}

/** The same hint for a missing program (chromium) rather than a backend. */
export function missingProgram(what: string): Error {
  return new Error(`${what}\n\n${HOW_TO_GET_THEM}`);
}
