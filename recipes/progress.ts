/**
 * A progress bar per stage: step, each loss term, steps per second, time left. On a terminal it
 * redraws one line; elsewhere (CI logs) it prints a line every tenth of the stage.
 */
export interface Progress {
  /** A stage begins; `first` steps of it are already done (a resumed run). */
  stage(name: string, total: number, note?: string, first?: number): void;
  step(step: number, loss: number, terms: Readonly<Record<string, number>>): void;
  done(message: string): void;
  note(message: string): void;
}

/** Where progress goes: `process.stderr`, or anything with `write` (typed without Node's types). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * A `Progress` that writes to `stream` (`process.stderr` in the CLI): a redrawn bar per stage on a
 * terminal, a line every tenth of a stage elsewhere; `prefix` starts every line (the demo names
 * its runs with it).
 */
export function progressTo(stream: ProgressStream, options: { readonly prefix?: string } = {}): Progress {
  const tty = stream.isTTY === true;
  const prefix = options.prefix ? `${options.prefix} ` : '';
  let name = '';
  let total = 0;
  let started = 0;
  let first = 0;
  let lastPrinted = -1;
  const line = (step: number, loss: number, terms: Readonly<Record<string, number>>) => {
    const done = step + 1;
    const elapsed = (performance.now() - started) / 1000;
    // The rate counts the steps this process trained, not those a resumed run had already done.
    const rate = (done - first) / Math.max(elapsed, 1e-9);
    const eta = (total - done) / rate;
    const width = 20;
    const filled = Math.round((done / total) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const parts = Object.entries(terms).map(([k, v]) => `${k} ${v.toFixed(3)}`);
    return `${prefix}[${name}] ${bar} ${done}/${total}  loss ${loss.toFixed(4)}${parts.length > 1 ? `  (${parts.join(', ')})` : ''}  ${rate.toFixed(1)} steps/s  ETA ${formatSeconds(eta)}`;
  };
  return {
    stage(stageName, stageTotal, note, firstStep = 0) {
      name = stageName;
      total = stageTotal;
      first = firstStep;
      started = performance.now();
      lastPrinted = -1;
      if (note) stream.write(`${prefix}[${name}] ${note}\n`);
    },
    step(step, loss, terms) {
      if (tty) {
        stream.write(`\r\x1b[2K${line(step, loss, terms)}`);
        return;
      }
      const tenth = Math.floor(((step + 1) * 10) / total);
      if (tenth !== lastPrinted || step + 1 === total) {
        lastPrinted = tenth;
        stream.write(`${line(step, loss, terms)}\n`);
      }
    },
    done(message) {
      stream.write(`${tty ? '\r\x1b[2K' : ''}${prefix}[${name}] ${message}\n`);
    },
    note(message) {
      stream.write(`${prefix}${message}\n`);
    },
  };
}

/** A progress sink that prints nothing (tests, library use). */
export const silentProgress: Progress = { stage: () => {}, step: () => {}, done: () => {}, note: () => {} };

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
