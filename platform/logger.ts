/**
 * Structured logs: one JSON object a line on stderr (stdout stays free for command output such as a bench's
 * result line). Level from CARBON_LOG_LEVEL, read here rather than in config so that config errors can be logged.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const envelope = { ts: true, level: true, event: true, pid: true } as const;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const logLevels = Object.keys(rank) as readonly LogLevel[];

function isLogLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && Object.hasOwn(rank, value);
}

/** config.ts refuses any other value at start; until then (a config error being logged) it means info. */
function levelFromEnv(): LogLevel {
  const raw = process.env.CARBON_LOG_LEVEL;
  return isLogLevel(raw) ? raw : 'info';
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

export function createLogger(bound: LogFields = {}, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = rank[levelFromEnv()];
  const emit = (level: LogLevel, event: string, fields?: LogFields): void => {
    if (rank[level] < min) return;
    const record: LogFields = { ts: new Date().toISOString(), level, event, pid: process.pid, ...bound };
    // The envelope (ts, level, event, pid) cannot be overwritten by a field; a colliding field keeps a suffix.
    if (fields) for (const [k, v] of Object.entries(fields)) record[k in envelope ? `${k}_field` : k] = serialise(v);
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (more) => createLogger({ ...bound, ...more }, write),
  };
}

export const logger: Logger = createLogger();
