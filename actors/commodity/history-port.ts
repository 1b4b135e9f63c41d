/**
 * What a commodity actor reads to rebuild after a spawn or a worker restart: its last stored ticks before the
 * first tick to process, the tick count of the newest of them, and the challengers' stored scores; and, for a
 * replayed tick older than its window, the stored ticks from that time on. Implemented over Postgres or PGlite by
 * history-store.ts.
 */
import type { PricePoint } from '../features/window.ts';
import type { ShadowScore } from './shadow-scoring.ts';

export interface StoredHistory {
  /** Oldest first. */
  readonly ticks: readonly PricePoint[];
  /** tick_count of the features row of the newest tick in `ticks`, or 0 when there is none. */
  readonly tickCount: number;
}

export interface HistoryStore {
  /** The last `limit` ticks of `commodity` strictly before `beforeTsMs` (UTC epoch ms). */
  loadBefore(commodity: string, beforeTsMs: number, limit: number): Promise<StoredHistory>;
  /** The first `limit` stored ticks of `commodity` at or after `fromTsMs` (UTC epoch ms), oldest first. */
  loadFrom(commodity: string, fromTsMs: number, limit: number): Promise<readonly PricePoint[]>;
  /** The stored shadow scores of the commodity's challengers. */
  loadShadowScores(commodity: string): Promise<ShadowScore[]>;
}
