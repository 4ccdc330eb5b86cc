import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const run = promisify(execFile);

export interface CliOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI from source (for tests); resolves with the exit code and both streams, never throws. */
export async function runCli(args: readonly string[], options: { readonly timeoutMs?: number } = {}): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { timeout: options.timeoutMs ?? 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failure = e as CliOutcome;
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** A failure prints one clear message: exit code 1, no stack trace, no internal error. */
export function expectCleanFailure(result: CliOutcome, message: string | RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr).not.toMatch(/internal error/);
}
