/**
 * The commodity actors' history port over Postgres or PGlite: the last stored ticks before a time (with the tick
 * count of the newest stored feature row among them), the stored ticks from a time on, and the challengers'
 * stored shadow scores.
 */
import type { HistoryStore } from './history-port.ts';
import type { ShadowScore } from './shadow-scoring.ts';
import type { SqlQuery } from '../../connectors/postgres/sql-store.ts';

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
        ticks: rows.map((r) => ({ tsMs: Number(r.ts_ms), price: Number(r.price) })),
        tickCount: newest?.tick_count == null ? 0 : Number(newest.tick_count),
      };
    },

    async loadFrom(commodity, fromTsMs, limit) {
      const { rows } = await db.query<{ ts_ms: number; price: number }>(
        'SELECT ts_ms, price FROM ticks WHERE commodity = $1 AND ts_ms >= $2 ORDER BY ts_ms LIMIT $3',
        [commodity, fromTsMs, limit],
      );
      return rows.map((r) => ({ tsMs: Number(r.ts_ms), price: Number(r.price) }));
    },

    async loadShadowScores(commodity) {
      // The state column is the whole score as the actor wrote it (shadowScoreRow in the Postgres sink).
      const { rows } = await db.query<{ state: ShadowScore }>('SELECT state FROM challenger_scores WHERE commodity = $1', [commodity]);
      return rows.map((r) => r.state);
    },
  };
}
