/**
 * Reads training sets from the feature store: a commodity's feature rows and ticks, oldest first, turned
 * into point-in-time correct rows by buildTrainingSet.
 */
import type { SqlQuery } from '../../connectors/postgres/sql-store.ts';
import type { FeatureVector } from '../features/compute-features.ts';
import type { PricePoint } from '../features/window.ts';
import { buildTrainingSet, type TrainingSet } from './training-set.ts';

/** A `features` row as selected below (double precision columns may be null). */
interface FeatureRow {
  ts_ms: number;
  price: number;
  simple_return: number | null;
  log_return: number | null;
  non_positive_price: boolean;
  sma_5: number | null;
  sma_20: number | null;
  ema_5: number;
  ema_20: number;
  volatility_20: number | null;
  z_score: number | null;
  rsi_14: number | null;
  momentum_10: number | null;
  window_min: number;
  window_max: number;
  tick_count: number;
}

const optional = (v: number | null): number | undefined => (v === null ? undefined : Number(v));

/** The FeatureVector a stored row was written from. */
export function featureVectorFromRow(r: FeatureRow): FeatureVector {
  return {
    tsMs: Number(r.ts_ms),
    price: Number(r.price),
    simpleReturn: optional(r.simple_return),
    logReturn: optional(r.log_return),
    nonPositivePrice: r.non_positive_price,
    sma5: optional(r.sma_5),
    sma20: optional(r.sma_20),
    ema5: Number(r.ema_5),
    ema20: Number(r.ema_20),
    volatility20: optional(r.volatility_20),
    zScore: optional(r.z_score),
    rsi14: optional(r.rsi_14),
    momentum10: optional(r.momentum_10),
    windowMin: Number(r.window_min),
    windowMax: Number(r.window_max),
    tickCount: Number(r.tick_count),
  };
}

export async function loadTrainingSet(sql: SqlQuery, commodity: string, horizonTicks: number): Promise<TrainingSet> {
  const features = await sql.query<FeatureRow>(
    `SELECT ts_ms, price, simple_return, log_return, non_positive_price, sma_5, sma_20, ema_5, ema_20, volatility_20,
            z_score, rsi_14, momentum_10, window_min, window_max, tick_count
     FROM features WHERE commodity = $1 ORDER BY ts_ms`,
    [commodity],
  );
  const ticks = await sql.query<{ ts_ms: number; price: number }>('SELECT ts_ms, price FROM ticks WHERE commodity = $1 ORDER BY ts_ms', [commodity]);
  return buildTrainingSet(
    commodity,
    features.rows.map(featureVectorFromRow),
    ticks.rows.map((r): PricePoint => ({ tsMs: Number(r.ts_ms), price: Number(r.price) })),
    horizonTicks,
  );
}

/** Every commodity with feature rows, alphabetically. */
export async function listFeatureCommodities(sql: SqlQuery): Promise<string[]> {
  const { rows } = await sql.query<{ commodity: string }>('SELECT DISTINCT commodity FROM features ORDER BY commodity');
  return rows.map((r) => r.commodity);
}
