/**
 * Progress of a long job (ingest, `carbon train --all`): a bar with count, rate and ETA when stderr is a
 * terminal, periodic JSON `progress` lines through the logger otherwise (CI, Kubernetes logs). The total may be
 * unknown (a CSV folder, an HTTP feed): then the bar shows count and rate only. While a bar is drawn, log lines
 * never share its line: each clears the bar, is written, and the bar is drawn again below it.
 */
import { clearLine, cursorTo } from 'node:readline';
import cliProgress from 'cli-progress';
import { divertLogLines, logger as defaultLogger, type LogFields, type Logger } from './logger.ts';

export interface ProgressOptions {
  /** What is counted, shown and logged, e.g. `ingest`. */
  readonly label: string;
  readonly total?: number | undefined;
  /** Unit of the count, e.g. `rows`. */
  readonly unit?: string;
  /** Period of the JSON lines when not on a terminal; default 5 s. */
  readonly intervalMs?: number;
  /** Default: a bar when process.stderr is a TTY. */
  readonly interactive?: boolean;
  readonly logger?: Logger;
}

export interface Progress {
  /** Adds n to the count (call per batch rather than per row: cheap either way). */
  add(n: number): void;
  setTotal(total: number | undefined): void;
  /** Ends the bar (or the periodic lines) and logs one final `progress_done` line with the fields given. */
  stop(fields?: LogFields): void;
}

/** DECSC: the terminal remembers the cursor position (what cli-progress does when a bar starts). */
const SAVE_CURSOR = '\u001b7';

function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function createProgress(options: ProgressOptions): Progress {
  const log = options.logger ?? defaultLogger;
  const unit = options.unit ?? 'items';
  const startedMs = performance.now();
  let count = 0;
  let total = options.total;
  let stopped = false;

  const snapshot = (): LogFields => {
    const elapsedS = (performance.now() - startedMs) / 1000;
    const ratePerS = elapsedS > 0 ? count / elapsedS : 0;
    const fields: LogFields = { label: options.label, count, unit, elapsedS: Math.round(elapsedS * 10) / 10, ratePerS: Math.round(ratePerS) };
    if (total !== undefined) {
      fields.total = total;
      if (ratePerS > 0) fields.etaS = Math.max(0, Math.round((total - count) / ratePerS));
    }
    return fields;
  };

  const interactive = options.interactive ?? process.stderr.isTTY === true;
  if (interactive) {
    const barFormat = `${options.label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}`;
    const countFormat = `${options.label} {value} ${unit} | {rate}/s | {duration_formatted}`;
    const bar = new cliProgress.SingleBar({
      // Chosen at each draw: a total learnt after the start (setTotal) turns the count into a bar with an ETA.
      format: (opts, params, payload) => cliProgress.Format.Formatter({ ...opts, format: total === undefined ? countFormat : barFormat }, params, payload),
      stream: process.stderr,
      hideCursor: true,
      // Redraw even when the text did not change: a log line may have just cleared it.
      forceRedraw: true,
      fps: 5,
      etaBuffer: 50,
      formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? formatCount(v) : String(v)),
    }, cliProgress.Presets.shades_classic);
    bar.start(total ?? 0, 0, { rate: '0' });
    const giveBackLogLines = divertLogLines((line) => {
      cursorTo(process.stderr, 0);
      clearLine(process.stderr, 0);
      // The bar saved the cursor where it started (DECSC) and restores it when it stops: saved again here, at the
      // start of the bar's new line, or the lines after the bar would overwrite the log lines above it.
      process.stderr.write(`${line}${SAVE_CURSOR}`);
      bar.render();
    });
    return {
      add(n) {
        count += n;
        bar.update(count, { rate: formatCount(snapshot().ratePerS as number) });
      },
      setTotal(t) {
        total = t;
        if (t !== undefined) bar.setTotal(t);
      },
      stop(fields) {
        if (stopped) return;
        stopped = true;
        giveBackLogLines();
        bar.update(count, { rate: formatCount(snapshot().ratePerS as number) });
        bar.stop();
        log.info('progress_done', { ...snapshot(), ...fields });
      },
    };
  }

  const timer = setInterval(() => log.info('progress', snapshot()), options.intervalMs ?? 5_000);
  // A progress report never keeps the process alive on its own.
  timer.unref();
  return {
    add(n) {
      count += n;
    },
    setTotal(t) {
      total = t;
    },
    stop(fields) {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      log.info('progress_done', { ...snapshot(), ...fields });
    },
  };
}
