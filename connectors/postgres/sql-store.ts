/**
 * One interface over the two SQL stores: a real Postgres server (pg pool) and the embedded PGlite (Postgres in
 * WASM). Both run the same SQL and migrations; callers never know which one they hold.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';

export interface SqlQuery {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
}

export interface SqlStore extends SqlQuery {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlQuery) => Promise<T>): Promise<T>;
  /** Runs several statements at once (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Calls `onNotify` for each NOTIFY on `channel` (committed transactions only), until the returned stop. After a
   * lost connection it listens again and calls `onNotify('')`: what was announced meanwhile is unknown.
   */
  listen(channel: string, onNotify: (payload: string) => void, onError: (err: unknown) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

// int8 (bigint) columns hold epoch milliseconds and versions: all far below 2^53, so numbers are exact.
const INT8_OID = 20;
pg.types.setTypeParser(INT8_OID, (v: string) => Number(v));

export function postgresStore(connectionString: string, maxConnections = 8): SqlStore {
  const pool = new pg.Pool({ connectionString, max: maxConnections, connectionTimeoutMillis: 5_000 });
  // An idle client's error (server restart) must not crash the process; the next query reconnects or fails loudly.
  pool.on('error', () => undefined);
  const run = async <R extends object>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    const res = await client.query(sql, params as unknown[] | undefined);
    return { rows: res.rows as R[] };
  };
  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    async transaction(fn) {
      const client = await pool.connect();
      // A server that goes away between two statements (a restart) makes the checked-out client emit 'error', which
      // would crash the process unheard; the next statement fails instead, and the broken client is not pooled again.
      let broken: unknown;
      const onError = (err: unknown): void => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn({ query: (sql, params) => run(client, sql, params) });
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    listen: (channel, onNotify, onError) => listenOnOwnConnection(connectionString, channel, onNotify, onError),
    close: () => pool.end(),
  };
}

const RELISTEN_MS = 1_000;

/** LISTEN needs a connection of its own (a pooled one would be handed to other queries); it is re-made when lost. */
async function listenOnOwnConnection(connectionString: string, channel: string, onNotify: (payload: string) => void, onError: (err: unknown) => void): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (stopped || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().then(() => onNotify(''), (err: unknown) => {
        onError(err);
        schedule();
      });
    }, RELISTEN_MS);
    retry.unref();
  };
  const lost = (c: pg.Client): void => {
    if (client !== c) return;
    client = undefined;
    schedule();
  };
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
    c.on('notification', (n) => {
      if (n.channel === channel) onNotify(n.payload ?? '');
    });
    c.on('error', (err) => {
      onError(err);
      lost(c);
    });
    c.on('end', () => lost(c));
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      c.end().catch(onError);
      throw err;
    }
    client = c;
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end();
  };
}

/** The embedded store's files are held by another live process. */
export class StoreInUseError extends Error {
  constructor(readonly dataDir: string, readonly pid: number) {
    super(`the embedded store ${dataDir} is in use by process ${pid} (a running \`npm start\`?): its files are one process's at a time. Stop that process first, or set DATABASE_URL to a Postgres server`);
    this.name = 'StoreInUseError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite's files are one process's: a second process opening them corrupts them. So the opener writes its pid
 * beside them and refuses a live other holder; a holder that died (SIGKILL) leaves a stale file, which is taken
 * over. Returns the release.
 */
function holdDataDir(dataDir: string): () => void {
  const file = `${dataDir}.pid`;
  mkdirSync(dirname(file), { recursive: true });
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(file, 'utf8'));
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) throw new StoreInUseError(dataDir, holder);
    rmSync(file, { force: true });
  }
}

/** The embedded store of `npm start`: PGlite with its files under `dataDir` (or in memory when undefined). */
export async function pgliteStore(dataDir: string | undefined): Promise<SqlStore> {
  const { PGlite } = await import('@electric-sql/pglite');
  const release = dataDir === undefined ? () => undefined : holdDataDir(dataDir);
  const db = await PGlite.create(dataDir, { parsers: { [INT8_OID]: (v: string) => Number(v) } }).catch((err: unknown) => {
    release();
    throw err;
  });
  const wrap = (q: { query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }> }): SqlQuery => ({
    query: async <R extends object>(sql: string, params?: readonly unknown[]) => {
      const res = await q.query(sql, params as unknown[] | undefined);
      return { rows: res.rows as R[] };
    },
  });
  return {
    kind: 'pglite',
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    async exec(sql) {
      await db.exec(sql);
    },
    // One process holds the PGlite files: its own NOTIFYs are the only ones, and they cannot be lost.
    listen: (channel, onNotify) => db.listen(channel, onNotify),
    close: async () => {
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}
