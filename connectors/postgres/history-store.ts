/**
 * What a commodity actor reads to rebuild its window: the last stored ticks before a time, and the tick count
 * of the newest stored feature row among them.
 */
import type { PricePoint } from '../../actors/features/window.ts';
import type { SqlQuery } from './sql-store.ts';

export interface StoredHistory {
  /** Oldest first. */
  readonly ticks: readonly PricePoint[];
  /** tick_count of the features row of the newest tick in `ticks`, or 0 when there is none. */
  readonly tickCount: number;
}

export interface HistoryStore {
  /** The last `limit` ticks of `commodity` strictly before `beforeTsMs` (UTC epoch ms). */
  loadBefore(commodity: string, beforeTsMs: number, limit: number): Promise<StoredHistory>;
}

export function sqlHistoryStore(db: SqlQuery): HistoryStore {
  return {
    async loadBefore(commodity, beforeTsMs, limit) {
      const { rows } = await db.query<{ ts_ms: number; price: number; tick_count: number | null }>(
        `SELECT t.ts_ms, t.price, f.tick_count
           FROM ticks t LEFT JOIN features f ON f.commodity = t.commodity AND f.ts_ms = t.ts_ms
          WHERE t.commodity = $1 AND t.ts_ms < $2
          ORDER BY t.ts_ms DESC
          LIMIT $3`,
        [commodity, beforeTsMs, limit],
      );
      rows.reverse();
      const newest = rows[rows.length - 1];
      return {
        ticks: rows.map((r) => ({ tsMs: r.ts_ms, price: r.price })),
        tickCount: newest?.tick_count ?? 0,
      };
    },
  };
}
