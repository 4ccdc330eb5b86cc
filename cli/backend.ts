import { BACKEND_FLAG_HELP, selectBackendFrom, type BackendSelection } from '../backends/index.js';

export const backendFlag = ['--backend <name>', BACKEND_FLAG_HELP] as const;

/**
 * Activates the backend the flag (else MMKD_BACKEND, else auto) names, and says on stderr what
 * was chosen and why, so that output on stdout stays clean for `--json`.
 */
export async function chooseBackend(flag: string | undefined): Promise<BackendSelection> {
  const selection = await selectBackendFrom({ flag, env: process.env });
  process.stderr.write(`mmkd: backend ${selection.summary}\n`);
  return selection;
}
