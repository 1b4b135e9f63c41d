/**
 * The real prices `npm start` serves out of the box (the repository's data/ folder: WTI, Brent, Henry Hub daily,
 * gold monthly). Their history goes into the embedded feature store by the batch path (the pipeline's own feature
 * code and Postgres writer, thousands of rows a second, where the stream would take minutes), all but the last
 * ticks of each series, which are published through the bus like any tick: their commodity actors come up with the
 * window, and serve the latest features and forecasts. On a later start only the newest tick is published again:
 * the actor recognises it as a duplicate, and comes up with the stored window.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileNameToId } from '../../actors/ingest/commodity-id.ts';
import type { PricePoint } from '../../actors/features/window.ts';
import { parsePriceCsv } from '../../actors/training/price-csv.ts';
import { storeSeriesWithFeatures } from '../../actors/training/series-store.ts';
import type { SqlStore } from '../../connectors/postgres/sql-store.ts';
import type { Logger } from '../../platform/logger.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';

/** Ticks of each series published through the bus on a first start (more than a window: the actor's features and forecasts are a function of the last 50). */
export const STREAMED_TAIL = 60;

export interface RealSeries {
  readonly commodity: string;
  readonly file: string;
  readonly ticks: readonly PricePoint[];
}

/** The `Date,Price` files of `folder` (other layouts, such as wide files, are for `carbon ingest` and are skipped). */
export function readRealSeries(folder: string, log: Logger): RealSeries[] {
  const out: RealSeries[] = [];
  for (const file of readdirSync(folder).filter((f) => f.toLowerCase().endsWith('.csv')).sort()) {
    const commodity = fileNameToId(file);
    const text = readFileSync(join(folder, file), 'utf8');
    if (commodity === undefined || !/^date,price\s*$/i.test(text.slice(0, text.indexOf('\n')))) {
      log.info('real_prices_skipped', { file, reason: 'not a Date,Price file (carbon ingest csv reads the others)' });
      continue;
    }
    out.push({ commodity, file, ticks: parsePriceCsv(text, file).ticks });
  }
  return out;
}

/**
 * Stores what the store lacks of each series, and returns the ticks to publish: the last STREAMED_TAIL of a series
 * stored now, the newest one of a series stored before.
 */
export async function storeRealHistory(store: SqlStore, series: readonly RealSeries[], log: Logger): Promise<PriceTick[]> {
  const { rows } = await store.query<{ commodity: string }>('SELECT DISTINCT commodity FROM ticks WHERE commodity = ANY($1::text[])', [series.map((s) => s.commodity)]);
  const stored = new Set(rows.map((r) => r.commodity));
  const publish: PriceTick[] = [];
  for (const s of series) {
    const asTick = (p: PricePoint): PriceTick => ({ commodity: s.commodity, tsMs: p.tsMs, price: p.price, unit: '', source: `csv:${s.file}` });
    if (stored.has(s.commodity)) {
      publish.push(asTick(s.ticks[s.ticks.length - 1]!));
      continue;
    }
    const history = s.ticks.slice(0, Math.max(0, s.ticks.length - STREAMED_TAIL));
    await storeSeriesWithFeatures(store, s.commodity, history, { source: `csv:${s.file}` });
    log.info('real_prices_stored', { commodity: s.commodity, file: s.file, stored: history.length, streamed: s.ticks.length - history.length });
    publish.push(...s.ticks.slice(history.length).map(asTick));
  }
  return publish;
}
