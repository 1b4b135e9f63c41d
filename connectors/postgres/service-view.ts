/**
 * What is in service, for the operators' view (`carbon status`): the commodities the platform has stored ticks
 * of, and the champion of each commodity and horizon (the registry's active versions). Read-only.
 */
import type { SqlQuery } from './sql-store.ts';

export interface ChampionInService {
  readonly commodity: string;
  readonly horizonTicks: number;
  readonly version: number;
  /** The forecaster family, where the registry records one. */
  readonly family: string | undefined;
  /** UTC epoch ms. */
  readonly trainedAtMs: number;
}

/**
 * The distinct commodities of `ticks`, by walking its primary key (commodity, ts) one commodity at a time: a few
 * index probes per commodity however many ticks there are, where SELECT DISTINCT would read them all.
 */
export async function storedCommodities(sql: SqlQuery): Promise<string[]> {
  const { rows } = await sql.query<{ commodity: string }>(`
    WITH RECURSIVE c(commodity) AS (
      SELECT min(commodity) FROM ticks
      UNION ALL
      SELECT (SELECT min(t.commodity) FROM ticks t WHERE t.commodity > c.commodity) FROM c WHERE c.commodity IS NOT NULL
    )
    SELECT commodity FROM c WHERE commodity IS NOT NULL`);
  return rows.map((r) => r.commodity);
}

export async function championsInService(sql: SqlQuery): Promise<ChampionInService[]> {
  // to_jsonb reads `family` where the registry has the column and gives null where it does not.
  const { rows } = await sql.query<{ commodity: string; horizon_ticks: number; version: number; family: string | null; trained_at_ms: number }>(`
    SELECT commodity, horizon_ticks, version, to_jsonb(m) ->> 'family' AS family,
           floor(extract(epoch FROM trained_at) * 1000)::bigint AS trained_at_ms
    FROM models m WHERE status = 'active' ORDER BY commodity, horizon_ticks`);
  return rows.map((r) => ({
    commodity: r.commodity,
    horizonTicks: Number(r.horizon_ticks),
    version: Number(r.version),
    family: r.family ?? undefined,
    trainedAtMs: Number(r.trained_at_ms),
  }));
}
