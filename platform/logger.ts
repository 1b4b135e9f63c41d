/**
 * Structured logs on stderr (stdout stays free for command output such as a bench's result line): one JSON object
 * a line, or on a terminal one short human line (platform/pretty-log.ts). CARBON_LOG_FORMAT=json|pretty chooses;
 * unset, a terminal gets pretty lines and anything else (a file, a pipe, Kubernetes) JSON. Level from
 * CARBON_LOG_LEVEL. Both are read here rather than in config so that config errors can be logged.
 */
import { prettyLine } from './pretty-log.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const envelope = { ts: true, level: true, event: true, pid: true } as const;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const logLevels = Object.keys(rank) as readonly LogLevel[];

export type LogFormat = 'json' | 'pretty';

export const logFormats: readonly LogFormat[] = ['json', 'pretty'];

function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && Object.hasOwn(rank, value);
}

/** config.ts refuses any other value at start; until then (a config error being logged) it means info. */
function levelFromEnv(): LogLevel {
  const raw = process.env.CARBON_LOG_LEVEL;
  return isLogLevel(raw) ? raw : 'info';
}

/** config.ts refuses any other value at start; until then (a config error being logged) unset means: by the terminal. */
function formatFromEnv(): LogFormat {
  const raw = process.env.CARBON_LOG_FORMAT;
  if (raw === 'json' || raw === 'pretty') return raw;
  return process.stderr.isTTY === true ? 'pretty' : 'json';
}

/**
 * Where log lines go: stderr, unless something that owns the terminal line takes them over for a while (a
 * progress bar clears itself, writes the line, and draws itself again below it: platform/progress.ts).
 */
const toStderr = (line: string): void => {
  process.stderr.write(line);
};
let sink: (line: string) => void = toStderr;

/** Routes every default logger's lines through `to` until the returned function is called. */
export function divertLogLines(to: (line: string) => void): () => void {
  const previous = sink;
  sink = to;
  return () => {
    sink = previous;
  };
}

/**
 * A line for the person at the terminal on stdout (the status line). On a terminal, stdout and stderr are the same
 * screen, so while something owns the bottom line (a progress bar) this line goes the way log lines go, above it.
 */
export function writeTerminalLine(line: string): void {
  if (sink !== toStderr && process.stdout.isTTY === true) sink(line);
  else process.stdout.write(line);
}

/** Errors do not survive JSON.stringify; keep what an operator needs. */
function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...(('code' in value) ? { code: value.code } : {}), stack: value.stack };
  }
  return typeof value === 'bigint' ? value.toString() : value;
}

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger whose lines all carry `bound` (e.g. the worker id or the partition). */
  child(bound: LogFields): Logger;
}

/**
 * A logger writing to stderr (through the diverted sink), or to `write` (tests), as JSON unless `format` says
 * otherwise; stderr's format follows CARBON_LOG_FORMAT and the terminal.
 */
export function createLogger(bound: LogFields = {}, write?: (line: string) => void, format: LogFormat = write ? 'json' : formatFromEnv()): Logger {
  const min = rank[levelFromEnv()];
  const out = write ?? ((line: string) => sink(line));
  const emit = (level: LogLevel, event: string, fields?: LogFields): void => {
    if (rank[level] < min) return;
    const record: LogFields = { ts: new Date().toISOString(), level, event, pid: process.pid, ...bound };
    // The envelope (ts, level, event, pid) cannot be overwritten by a field; a colliding field keeps a suffix.
    if (fields) for (const [k, v] of Object.entries(fields)) record[k in envelope ? `${k}_field` : k] = serialise(v);
    out(format === 'pretty' ? prettyLine(record) : `${JSON.stringify(record)}\n`);
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (more) => createLogger({ ...bound, ...more }, write, format),
  };
}

export const logger: Logger = createLogger();
