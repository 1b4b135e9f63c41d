/**
 * The commodities that have had ticks: the distinct ids of the feature store, read with a loose index scan
 * (one index probe per commodity, whatever the number of rows) and kept `maxAgeMs`.
 */
import type { SqlQuery } from '../connectors/postgres/sql-store.ts';

const distinctCommodities = `
WITH RECURSIVE c AS (
  (SELECT commodity FROM features ORDER BY commodity LIMIT 1)
  UNION ALL
  SELECT (SELECT f.commodity FROM features f WHERE f.commodity > c.commodity ORDER BY f.commodity LIMIT 1) FROM c WHERE c.commodity IS NOT NULL
)
SELECT commodity FROM c WHERE commodity IS NOT NULL`;

export class CommodityCatalog {
  private cached: { atMs: number; ids: readonly string[] } | undefined;
  private loading: Promise<readonly string[]> | undefined;

  constructor(private readonly sql: SqlQuery, private readonly maxAgeMs = 2_000) {}

  /** Sorted commodity ids. */
  async list(nowMs = Date.now()): Promise<readonly string[]> {
    if (this.cached && nowMs - this.cached.atMs < this.maxAgeMs) return this.cached.ids;
    this.loading ??= this.sql
      .query<{ commodity: string }>(distinctCommodities)
      .then(({ rows }) => {
        const ids = rows.map((r) => r.commodity);
        this.cached = { atMs: Date.now(), ids };
        return ids;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
