/**
 * The platform's database for an operator command: Postgres at DATABASE_URL, or the embedded store in
 * CARBON_DATA_DIR when it is not set (only while `npm start` is not running: PGlite is one process's), migrated.
 */
import { join } from 'node:path';
import { migrate } from '../../connectors/postgres/migrate.ts';
import { pgliteStore, postgresStore, type SqlStore } from '../../connectors/postgres/sql-store.ts';
import type { Config } from '../../platform/config.ts';

export async function openPlatformDatabase(config: Config, poolSize = 2): Promise<SqlStore> {
  const sql = config.databaseUrl === undefined ? await pgliteStore(join(config.dataDir, 'pglite')) : postgresStore(config.databaseUrl, poolSize);
  try {
    await migrate(sql);
  } catch (err) {
    await sql.close();
    throw err;
  }
  return sql;
}
