import { BACKEND_FLAG_HELP, type BackendChoice, type BackendSelection, resolveBackendChoice, selectBackendFrom } from '../backends/index.js';

/** `--backend`, on commands that compute with tensors. */
export const backendFlag = ['--backend <name>', BACKEND_FLAG_HELP] as const;

/**
 * `--backend`, on commands that do no tensor work (match, compare, losses): every command takes
 * it, so a script can pass the same flags to all of them; these check the name and ignore it.
 */
export const ignoredBackendFlag = [
  '--backend <name>',
  'accepted for consistency with the other commands (the name is checked); this command does no tensor work',
] as const;

/**
 * Activates the backend the flag (else MMKD_BACKEND, else auto) names, and says on stderr what
 * was chosen and why, so that output on stdout stays clean for `--json`.
 */
export async function chooseBackend(flag: string | undefined): Promise<BackendSelection> {
  const selection = await selectBackendFrom({ flag, env: process.env });
  process.stderr.write(`mmkd: backend ${selection.summary}\n`);
  return selection;
}

/** Checks the name a command without tensor work was given (flag, else MMKD_BACKEND), activating nothing. */
export function checkBackendName(flag: string | undefined): BackendChoice {
  return resolveBackendChoice({ flag, env: process.env }).choice;
}
