/**
 * A client of Trino's HTTP protocol (the one its CLI and JDBC driver speak): POST the statement to /v1/statement,
 * then GET each `nextUri` until the answer has none, collecting the rows. No JDBC, no Java: analysts get
 * `carbon sql`, and the tests and the bench reach Trino with nothing but fetch.
 */

/** Who asks, and where unqualified table names resolve. */
export interface TrinoSession {
  /** The coordinator, e.g. http://127.0.0.1:8080. */
  readonly serverUrl: string;
  /** X-Trino-User: Trino needs a user name even without authentication. */
  readonly user: string;
  readonly catalog?: string;
  readonly schema?: string;
  /** X-Trino-Source: shows in Trino's query list where a query came from. */
  readonly source?: string;
}

export interface TrinoColumn {
  readonly name: string;
  /** Trino's type, e.g. `bigint`, `double`, `varchar`, `date`, `timestamp(3) with time zone`. */
  readonly type: string;
}

/**
 * Rows as Trino's JSON encodes them: numbers for integers and floats (NaN and infinities as the strings "NaN",
 * "Infinity", "-Infinity"), strings for decimal, date, time, timestamp and json, booleans, nested arrays and
 * objects for array, row and map, null for NULL.
 */
export type TrinoValue = string | number | boolean | null | readonly TrinoValue[] | { readonly [key: string]: TrinoValue };

export interface TrinoResult {
  readonly queryId: string;
  readonly columns: readonly TrinoColumn[];
  readonly rows: readonly (readonly TrinoValue[])[];
  /** Set for statements that are not queries, e.g. "CREATE CATALOG". */
  readonly updateType?: string;
}

export type TrinoErrorCode =
  /** Nothing answered at the server URL (refused, reset, DNS). */
  | 'TRINO_UNREACHABLE'
  /** The server answered with an HTTP status the protocol does not allow (not Trino, or a proxy in the way). */
  | 'TRINO_HTTP_STATUS'
  /** Trino ran the statement and it failed: a syntax error, an unknown table, a failure in the catalog... */
  | 'TRINO_QUERY_FAILED'
  /** The caller's signal aborted the statement; Trino was told to cancel it. */
  | 'TRINO_CANCELLED';

export class TrinoError extends Error {
  override readonly name = 'TrinoError';
  constructor(
    readonly code: TrinoErrorCode,
    message: string,
    /** For TRINO_QUERY_FAILED: Trino's error name (e.g. TABLE_NOT_FOUND) and where in the statement it is. */
    readonly detail: { readonly errorName?: string; readonly errorType?: string; readonly line?: number; readonly column?: number; readonly queryId?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Errors worth another try as they are: the server was down or restarting. */
  get retriable(): boolean {
    return this.code === 'TRINO_UNREACHABLE';
  }
}

/** The part of Trino's QueryResults document that the client reads. */
interface QueryResults {
  readonly id: string;
  readonly nextUri?: string;
  readonly columns?: readonly TrinoColumn[];
  readonly data?: readonly (readonly TrinoValue[])[];
  readonly updateType?: string;
  readonly error?: {
    readonly message: string;
    readonly errorName?: string;
    readonly errorType?: string;
    readonly errorLocation?: { readonly lineNumber: number; readonly columnNumber: number };
  };
}

/** Statuses a gateway in front of Trino may answer while Trino is busy; the protocol says: try again shortly. */
const TRANSIENT_STATUSES = new Set([502, 503, 504]);
const TRANSIENT_RETRIES = 20;
const TRANSIENT_PAUSE_MS = 100;

function headersOf(session: TrinoSession): Record<string, string> {
  return {
    'X-Trino-User': session.user,
    ...(session.catalog ? { 'X-Trino-Catalog': session.catalog } : {}),
    ...(session.schema ? { 'X-Trino-Schema': session.schema } : {}),
    'X-Trino-Source': session.source ?? '254carbon',
    'Content-Type': 'text/plain; charset=utf-8',
  };
}

async function request(url: string, init: RequestInit): Promise<QueryResults> {
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      if (init.signal?.aborted) throw err;
      throw new TrinoError('TRINO_UNREACHABLE', `Trino does not answer at ${new URL(url).origin}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`, {}, { cause: err });
    }
    if (response.status === 200) return (await response.json()) as QueryResults;
    const body = await response.text();
    if (TRANSIENT_STATUSES.has(response.status) && attempt < TRANSIENT_RETRIES) {
      await new Promise((resolve) => setTimeout(resolve, TRANSIENT_PAUSE_MS));
      continue;
    }
    throw new TrinoError('TRINO_HTTP_STATUS', `Trino at ${new URL(url).origin} answered HTTP ${response.status}: ${body.slice(0, 300).trim()}`);
  }
}

function failure(results: QueryResults): TrinoError {
  const e = results.error!;
  const where = e.errorLocation ? ` (line ${e.errorLocation.lineNumber}, column ${e.errorLocation.columnNumber})` : '';
  return new TrinoError('TRINO_QUERY_FAILED', `${e.message}${where}`, {
    ...(e.errorName === undefined ? {} : { errorName: e.errorName }),
    ...(e.errorType === undefined ? {} : { errorType: e.errorType }),
    ...(e.errorLocation ? { line: e.errorLocation.lineNumber, column: e.errorLocation.columnNumber } : {}),
    queryId: results.id,
  });
}

/**
 * Runs one statement and returns all its rows. Aborting `signal` cancels the statement on the server (DELETE of
 * its nextUri) and rejects with TRINO_CANCELLED.
 */
export async function runStatement(session: TrinoSession, sql: string, signal?: AbortSignal): Promise<TrinoResult> {
  const base = session.serverUrl.replace(/\/+$/, '');
  let results = await request(`${base}/v1/statement`, { method: 'POST', headers: headersOf(session), body: sql, ...(signal ? { signal } : {}) }).catch((err: unknown) => {
    throw signal?.aborted ? new TrinoError('TRINO_CANCELLED', 'cancelled before Trino accepted the statement', {}, { cause: err }) : err;
  });
  let columns: readonly TrinoColumn[] = [];
  const rows: (readonly TrinoValue[])[] = [];
  for (;;) {
    if (results.columns) columns = results.columns;
    if (results.data) rows.push(...results.data);
    if (results.error) throw failure(results);
    const next = results.nextUri;
    if (next === undefined) break;
    try {
      results = await request(next, { method: 'GET', ...(signal ? { signal } : {}) });
    } catch (err) {
      if (!signal?.aborted) throw err;
      // The statement keeps running on the server unless it is told to stop.
      const refused = await fetch(next, { method: 'DELETE' }).then(
        async (r) => {
          await r.body?.cancel();
          return r.ok ? undefined : `HTTP ${r.status}`;
        },
        (e: Error) => e.message,
      );
      const told = refused === undefined ? 'Trino was asked to stop it' : `asking Trino to stop it failed (${refused})`;
      throw new TrinoError('TRINO_CANCELLED', `query ${results.id} cancelled; ${told}`, { queryId: results.id }, { cause: err });
    }
  }
  return { queryId: results.id, columns, rows, ...(results.updateType === undefined ? {} : { updateType: results.updateType }) };
}
