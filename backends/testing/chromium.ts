/**
 * Debian's Chromium, as the browser tests drive it through playwright-core (no browser is ever
 * downloaded): where it is, the flags it starts with, and the failure with the install hint when
 * it is missing.
 */
import { existsSync } from 'node:fs';
import { missingProgram } from './gpu-test-gate.js';

/** The Chromium binary (MMKD_CHROMIUM names another). */
export const CHROMIUM_PATH = process.env['MMKD_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Chromium's own network activity (component updates, sync, field trials) is refused on a closed
 * network and only slows start-up; WebGPU needs --enable-unsafe-webgpu on Linux and a GPU process,
 * so --disable-gpu is not passed.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
];

/** Throws the install hint when Chromium is not where CHROMIUM_PATH says. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw missingProgram(
      `Debian's chromium is not installed at ${CHROMIUM_PATH} (apt-get install chromium; MMKD_CHROMIUM names another path). No browser is downloaded.`,
    );
  }
}
