/**
 * Reads training sets from the feature store: a commodity's feature rows and ticks, oldest first, turned
 * into point-in-time correct rows by buildTrainingSet.
 */
import type { SqlQuery } from '../../connectors/postgres/sql-store.ts';
import type { FeatureVector } from '../features/compute-features.ts';
import { FEATURE_COLUMNS, featureVectorFromRow, type FeatureRow } from '../features/feature-columns.ts';
import type { PricePoint } from '../features/window.ts';
import { buildTrainingSet, type TrainingSet } from './training-set.ts';

/** A commodity's stored features and ticks, oldest first: what its training sets of every horizon are built from. */
export interface StoredSeries {
  readonly commodity: string;
  readonly features: readonly FeatureVector[];
  readonly ticks: readonly PricePoint[];
}

export async function loadStoredSeries(sql: SqlQuery, commodity: string): Promise<StoredSeries> {
  const features = await sql.query<FeatureRow>(
    `SELECT ${FEATURE_COLUMNS.map((c) => c.column).join(', ')} FROM features WHERE commodity = $1 ORDER BY ts_ms`,
    [commodity],
  );
  const ticks = await sql.query<{ ts_ms: number; price: number }>('SELECT ts_ms, price FROM ticks WHERE commodity = $1 ORDER BY ts_ms', [commodity]);
  return {
    commodity,
    features: features.rows.map(featureVectorFromRow),
    ticks: ticks.rows.map((r): PricePoint => ({ tsMs: Number(r.ts_ms), price: Number(r.price) })),
  };
}

export function trainingSetOf(series: StoredSeries, horizonTicks: number): TrainingSet {
  return buildTrainingSet(series.commodity, series.features, series.ticks, horizonTicks);
}

/** Every commodity with feature rows, alphabetically. */
export async function listFeatureCommodities(sql: SqlQuery): Promise<string[]> {
  const { rows } = await sql.query<{ commodity: string }>('SELECT DISTINCT commodity FROM features ORDER BY commodity');
  return rows.map((r) => r.commodity);
}
