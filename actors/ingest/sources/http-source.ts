/**
 * `carbon ingest http <url>`: a CSV (any layout of csv-table.ts) or a JSON array of `{date|ts, price, commodity?, unit?}`
 * over HTTP(S). Getting the response is retried with exponential backoff on 5xx, network errors and timeouts;
 * a 4xx is the caller's mistake and fails at once. Once rows have been read, a failure is not retried (the rows
 * before it are already out): the run fails, naming the URL.
 */
import { basename } from 'node:path';
import { logger } from '../../../platform/logger.ts';
import { SourceError, type RawRow, type RowSource } from '../raw-row.ts';
import { csvTableRows, type AbsentCounter } from './csv-table.ts';
import { jsonArrayRows } from './json-rows.ts';
import { splitLines } from './lines.ts';

export type HttpFormat = 'csv' | 'json';

export interface HttpSourceOptions {
  /** Else from the Content-Type, else from the URL's extension, else from the body's first character. */
  readonly format?: HttpFormat | undefined;
  /** --commodity, already normalized. */
  readonly commodity?: string | undefined;
  /** Per attempt: until the response headers, then between two chunks of the body. */
  readonly timeoutMs: number;
  /** Attempts after the first one. */
  readonly retries: number;
  /** First backoff; doubles on every retry, up to maxBackoffMs. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly keepRowBytes?: number;
}

const log = logger.child({ component: 'ingest-http' });

/** Why one attempt failed, and whether another may succeed. */
class AttemptError extends Error {
  constructor(message: string, readonly retriable: boolean, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function describeFetchError(err: unknown): { message: string; retriable: boolean } {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  if (code !== undefined) return { message: `${code}${cause?.message ? ` (${cause.message})` : ''}`, retriable: networkCodes.has(code) };
  // undici reports network failures as TypeError('fetch failed') with the reason as cause.
  if (err instanceof TypeError) return { message: cause?.message ?? err.message, retriable: true };
  return { message: (err as Error).message ?? String(err), retriable: false };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A timer that aborts a request when nothing arrives for timeoutMs; restarted on every chunk. */
class IdleTimeout {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  timedOut = false;

  constructor(private readonly timeoutMs: number) {
    this.touch();
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`no data for ${this.timeoutMs} ms`));
    }, this.timeoutMs);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

export class HttpSource implements RowSource {
  readonly description: string;
  readonly expectedRows = undefined;
  private readonly counter: AbsentCounter = { absent: 0 };
  private readonly url: URL;

  constructor(url: string, private readonly options: HttpSourceOptions) {
    try {
      this.url = new URL(url);
    } catch {
      throw new SourceError(`http source: ${JSON.stringify(url)} is not a URL`);
    }
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new SourceError(`http source: ${url} is not an http(s) URL`);
    this.description = `http GET ${url}`;
  }

  absentCells(): number {
    return this.counter.absent;
  }

  /** One request: resolves with the response of a 2xx, throws an AttemptError otherwise. */
  private async attempt(): Promise<{ response: Response; idle: IdleTimeout }> {
    const idle = new IdleTimeout(this.options.timeoutMs);
    let response: Response;
    try {
      response = await fetch(this.url, { signal: idle.controller.signal, headers: { accept: 'text/csv, application/json;q=0.9, */*;q=0.5' } });
    } catch (err) {
      idle.stop();
      if (idle.timedOut) throw new AttemptError(`timed out after ${this.options.timeoutMs} ms without a response`, true, { cause: err });
      const { message, retriable } = describeFetchError(err);
      throw new AttemptError(`request failed: ${message}`, retriable, { cause: err });
    }
    if (response.ok) return { response, idle };
    idle.stop();
    // The body of an error is read only for the message, and only its beginning.
    const body = (await response.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
    const message = `HTTP ${response.status} ${response.statusText}${body ? `: ${body}` : ''}`;
    throw new AttemptError(message, response.status >= 500, undefined);
  }

  private async connect(): Promise<{ response: Response; idle: IdleTimeout }> {
    const attempts = this.options.retries + 1;
    const initial = this.options.initialBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 30_000;
    for (let n = 1; ; n++) {
      try {
        return await this.attempt();
      } catch (err) {
        if (!(err instanceof AttemptError)) throw err;
        if (!err.retriable) throw new SourceError(`http source: GET ${this.url.href} failed: ${err.message} (not retried)`, { cause: err });
        if (n >= attempts) {
          throw new SourceError(`http source: GET ${this.url.href} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${err.message}`, { cause: err });
        }
        const backoffMs = Math.min(max, initial * 2 ** (n - 1));
        log.warn('ingest_http_retry', { url: this.url.href, attempt: n, error: err.message, backoffMs });
        await sleep(backoffMs);
      }
    }
  }

  private formatOf(response: Response): HttpFormat | undefined {
    if (this.options.format) return this.options.format;
    const type = response.headers.get('content-type')?.toLowerCase() ?? '';
    if (type.includes('json')) return 'json';
    if (type.includes('csv')) return 'csv';
    const ext = this.url.pathname.toLowerCase();
    if (ext.endsWith('.json')) return 'json';
    if (ext.endsWith('.csv')) return 'csv';
    return undefined;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RawRow> {
    const { response, idle } = await this.connect();
    const origin = `http:${this.url.host}${this.url.pathname}`;
    const where = this.url.href;
    const fileName = basename(this.url.pathname) || undefined;
    const keep = this.options.keepRowBytes ?? 64 * 1024;
    const body = response.body;
    if (!body) throw new SourceError(`http source: GET ${where} returned no body`);
    const reader = body[Symbol.asyncIterator]();
    // The body is read through this wrapper so that the idle timer restarts on every chunk.
    const chunks: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const r = await reader.next();
          idle.touch();
          return r;
        },
        return: async () => {
          await reader.return?.();
          return { done: true, value: undefined };
        },
      }),
    };
    try {
      let format = this.formatOf(response);
      let source: AsyncIterable<Uint8Array> = chunks;
      if (format === undefined) {
        const first = await reader.next();
        idle.touch();
        const head = first.done ? new Uint8Array() : first.value;
        format = Buffer.from(head).toString('utf8').trimStart().startsWith('[') ? 'json' : 'csv';
        source = (async function* () {
          if (!first.done) yield head;
          yield* chunks;
        })();
      }
      if (format === 'csv') {
        yield* csvTableRows(splitLines(source, keep), { origin, where, commodity: this.options.commodity, fileName }, this.counter);
        return;
      }
      yield* jsonArrayRows(source, { origin, where, commodity: this.options.commodity, fileName, keepChars: keep });
    } catch (err) {
      if (err instanceof SourceError) throw err;
      const reason = idle.timedOut ? `timed out after ${this.options.timeoutMs} ms without data` : describeFetchError(err).message;
      throw new SourceError(`http source: reading the body of GET ${where} failed: ${reason}`, { cause: err });
    } finally {
      idle.stop();
    }
  }
}
