import { cpus, totalmem } from 'node:os';

/** `--key value` options over defaults; unknown keys are an error that lists the known ones. */
export function parseOptions(argv: readonly string[], defaults: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const key = arg.slice(2);
    if (!(key in defaults))
      throw new Error(
        `unknown option --${key}; options: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(' ')}`,
      );
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = 'true';
    else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

/** One untimed warm-up, then `reps` timed runs (ms). */
export async function timeAsync(f: () => Promise<void>, reps: number): Promise<number[]> {
  await f();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    await f();
    times.push(performance.now() - start);
  }
  return times;
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The machine, as RESULTS.md names it. */
export function machineDescription(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}
