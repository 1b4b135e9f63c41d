/**
 * One interface over the two SQL stores: a real Postgres server (pg pool) and the embedded PGlite (Postgres in
 * WASM). Both run the same SQL and migrations; callers never know which one they hold.
 */
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
      try {
        await client.query('BEGIN');
        const out = await fn({ query: (sql, params) => run(client, sql, params) });
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async exec(sql) {
      await pool.query(sql);
    },
    close: () => pool.end(),
  };
}

/** The embedded store of `npm start`: PGlite with its files under `dataDir` (or in memory when undefined). */
export async function pgliteStore(dataDir: string | undefined): Promise<SqlStore> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dataDir, { parsers: { [INT8_OID]: (v: string) => Number(v) } });
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
    close: () => db.close(),
  };
}
