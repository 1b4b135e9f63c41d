/**
 * Why a commodity has no champion at a horizon, from the registry, for an UNAVAILABLE that says what to do.
 * Read only on that error path (a call that succeeds never reaches the database).
 */
import type { SqlQuery } from '../connectors/postgres/sql-store.ts';

export interface ChampionStatus {
  /** The registry has a champion at this horizon (the answering worker did not have it). */
  readonly inService: boolean;
  readonly reason: string;
}

export async function championStatus(sql: SqlQuery, commodity: string, horizonTicks: number): Promise<ChampionStatus> {
  const { rows } = await sql.query<{ version: number; status: string; family: string; trained_at: string }>(
    `SELECT version, status, family, trained_at::text FROM models WHERE commodity = $1 AND horizon_ticks = $2
     ORDER BY (status = 'active') DESC, version DESC LIMIT 1`,
    [commodity, horizonTicks],
  );
  const latest = rows[0];
  const train = `carbon train --commodity ${commodity}`;
  if (latest === undefined) return { inService: false, reason: `no model of ${commodity} was ever trained at ${horizonTicks} tick(s): ${train} (a series needs a few hundred ticks of history)` };
  const v = `v${latest.version} (${latest.family}, trained ${latest.trained_at})`;
  switch (latest.status) {
    case 'active':
      return { inService: true, reason: `the registry has ${v} in service; the answering worker has not loaded it yet: retry` };
    case 'rejected':
      return { inService: false, reason: `its latest model ${v} was rejected (rolled back, or it could not serve): ${train}` };
    case 'candidate':
      return { inService: false, reason: `its latest model ${v} was saved but never decided (its training run stopped): ${train}` };
    default:
      return { inService: false, reason: `its latest model ${v} is ${latest.status} and none is in service: ${train}` };
  }
}
