/**
 * How a log record reads on a terminal: one short line, time, level, component, what happened and the fields
 * that say about what, e.g.
 *
 *   02:41:07 WARN  primary    worker exited  slot=1 reason=exit_70 restartInMs=1000
 *
 * The JSON form (CARBON_LOG_FORMAT=json, the default off a terminal) keeps everything, stacks included; this one
 * drops what a person does not read (pid, stacks) and cuts long values.
 */
import type { LogFields, LogLevel } from './logger.ts';

/**
 * Fields shown in the line's head (or not at all: pid, stacks), not among the key=value pairs. `lines` (a list of
 * strings, e.g. a table) is printed below the line as it is, indented.
 */
const headFields = new Set(['ts', 'level', 'event', 'pid', 'component', 'role', 'slot', 'stack', 'lines']);

/** Longest value shown; the JSON form has the rest. */
const MAX_VALUE_CHARS = 80;

const levelText: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' };

function cut(text: string): string {
  return text.length <= MAX_VALUE_CHARS ? text : `${text.slice(0, MAX_VALUE_CHARS - 3)}...`;
}

/** A bare word when it reads as one, else quoted. */
function text(value: string): string {
  return value !== '' && /^[\w.:/@+%-]+$/.test(value) ? cut(value) : cut(JSON.stringify(value));
}

/** An error (as serialised by the logger) is its message, and its code when it has one. */
function isSerialisedError(value: object): value is { name: string; message: string; code?: unknown } {
  return 'message' in value && 'name' in value && 'stack' in value;
}

function valueText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return text(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null) return String(value);
  if (typeof value === 'object' && isSerialisedError(value)) {
    return text(value.code === undefined ? value.message : `${value.message} [${String(value.code)}]`);
  }
  return cut(JSON.stringify(value));
}

/** Who speaks: the component, else the process role (`worker/1` for a worker's slot). */
function speaker(record: LogFields): string {
  const component = record.component ?? record.role;
  const name = typeof component === 'string' ? component : 'carbon';
  return record.slot === undefined || record.component !== undefined ? name : `${name}/${String(record.slot)}`;
}

/** `HH:MM:SS` of the record's ISO time (UTC, as the JSON form and the status line). */
function clock(ts: unknown): string {
  return typeof ts === 'string' ? ts.slice(11, 19) : '--:--:--';
}

/** The terminal line of a record built by the logger (ts, level, event, then fields); ends with a newline. */
export function prettyLine(record: LogFields): string {
  const level = levelText[record.level as LogLevel] ?? String(record.level);
  const what = String(record.event).replace(/_/g, ' ');
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (headFields.has(key)) continue;
    const shown = valueText(value);
    if (shown !== undefined) pairs.push(`${key}=${shown}`);
  }
  const below = Array.isArray(record.lines) ? record.lines.map((l) => `    ${String(l)}\n`).join('') : '';
  return `${clock(record.ts)} ${level} ${speaker(record).padEnd(10)} ${what}${pairs.length > 0 ? `  ${pairs.join(' ')}` : ''}\n${below}`;
}
