/**
 * Writes a commodity's whole price history to the feature store without the streaming pipeline: its ticks and
 * the features a commodity actor would compute for them, through the pipeline's own Postgres writer, so the
 * rows are the ones the stream would have written (and writing them twice changes nothing).
 */
import type { SqlStore } from '../../connectors/postgres/sql-store.ts';
import { DEFAULT_WINDOW_SIZE, type PricePoint } from '../features/window.ts';
import { postgresSink } from '../sinks/postgres-sink.ts';
import type { TickOutputs } from '../sinks/tick-outputs.ts';
import { computeSeriesFeatures } from './series-features.ts';

export interface StoreSeriesOptions {
  readonly windowSize?: number;
  readonly unit?: string;
  readonly source?: string;
  /** Rows per transaction. */
  readonly batchRows?: number;
  /** Called after each batch with the rows written so far. */
  readonly onBatch?: (rowsWritten: number, total: number) => void;
}

/** `ticks`: the whole history of `commodity`, oldest first. Returns the number of tick (and feature) rows. */
export async function storeSeriesWithFeatures(
  store: SqlStore,
  commodity: string,
  ticks: readonly PricePoint[],
  options: StoreSeriesOptions = {},
): Promise<number> {
  const features = computeSeriesFeatures(ticks, options.windowSize ?? DEFAULT_WINDOW_SIZE);
  const sink = postgresSink(store);
  const batchRows = options.batchRows ?? 2_000;
  for (let start = 0; start < ticks.length; start += batchRows) {
    const batch: TickOutputs[] = [];
    for (let i = start; i < Math.min(ticks.length, start + batchRows); i++) {
      const t = ticks[i]!;
      batch.push({
        tick: { commodity, tsMs: t.tsMs, price: t.price, unit: options.unit ?? '', source: options.source ?? '' },
        features: features[i]!,
        predictions: [],
        shadowScores: [],
        alert: undefined,
      });
    }
    await sink.write(batch);
    options.onBatch?.(start + batch.length, ticks.length);
  }
  return ticks.length;
}
