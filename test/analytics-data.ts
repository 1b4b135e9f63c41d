/**
 * A synthetic feature store for the analytics tests and bench: the platform's own synthetic prices
 * (SyntheticTickStream) through its own feature math, and per tick the predictions of a simple forecaster (a
 * small momentum bet with a volatility-scaled 80 % interval) at each horizon. Each commodity has two model
 * versions, the second promoted half-way through the series, with the service history and audit rows the
 * registry would have written. Deterministic for a seed. Rows go in with the column lists of the tables as they
 * are, in batches (not through the sinks, whose code is not under test here).
 */
import type pg from 'pg';
import { computeFeatures, type FeatureVector } from '../actors/features/compute-features.ts';
import { appendTick, emptyWindow, type TickWindow } from '../actors/features/window.ts';
import { syntheticCommodityIds, SyntheticTickStream } from '../actors/ingest/sources/synthetic-source.ts';
import { Direction } from '../proto/gen/carbon/v1/prediction.ts';

export interface AnalyticsDataOptions {
  readonly seed: number;
  readonly commodities: number;
  /** Ticks over all commodities: as many features rows. */
  readonly ticks: number;
  readonly startMs: number;
  readonly intervalMs: number;
  /** A prediction per horizon and tick, once the tick has a 20-tick volatility. */
  readonly horizons: readonly number[];
}

export interface PredictionRow {
  readonly commodity: string;
  readonly tickTsMs: number;
  readonly modelVersion: number;
  readonly horizonTicks: number;
  readonly tickPrice: number;
  readonly predictedReturn: number;
  readonly direction: Direction;
  readonly probabilityUp: number;
  readonly intervalLowReturn: number;
  readonly intervalHighReturn: number;
}

export interface TickRows {
  readonly commodity: string;
  readonly features: FeatureVector;
  readonly predictions: readonly PredictionRow[];
}

/** The models of one commodity and horizon. */
export interface ModelRows {
  readonly commodity: string;
  readonly horizonTicks: number;
  /** In service from the first tick, replaced by `promoted` at `promotedAtMs`. */
  readonly first: number;
  readonly promoted: number;
  readonly promotedAtMs: number;
}

const INTERVAL_LEVEL = 0.8;
/** Standard normal quantile of 0.9: the half-width of an 80 % interval in standard deviations. */
const Z_80 = 1.2815515655446004;
/** Share of the last return the forecaster bets will continue. */
const MOMENTUM = 0.05;

/** Standard normal CDF (Abramowitz-Stegun 26.2.17, |error| < 7.5e-8): good enough for a synthetic probability. */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const density = Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  const tail = density * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - tail : tail;
}

/** Two versions per commodity and horizon (1 and 2, then 3 and 4...); the promotion half-way through the steps. */
export function modelsOf(o: AnalyticsDataOptions): ModelRows[] {
  const halfwayMs = o.startMs + Math.floor(o.ticks / o.commodities / 2) * o.intervalMs;
  return syntheticCommodityIds(o.commodities).flatMap((commodity) => o.horizons.map((horizonTicks) => ({ commodity, horizonTicks })))
    .map((m, i) => ({ ...m, first: 2 * i + 1, promoted: 2 * i + 2, promotedAtMs: halfwayMs }));
}

/** Each tick's features and predictions, in time order. */
export function* analyticsRows(o: AnalyticsDataOptions): Generator<TickRows> {
  const stream = new SyntheticTickStream({ seed: o.seed, commodities: o.commodities, ticks: o.ticks, startMs: o.startMs, intervalMs: o.intervalMs });
  const models = modelsOf(o);
  const states = new Map(syntheticCommodityIds(o.commodities).map((commodity) => [commodity, {
    window: emptyWindow() as TickWindow,
    count: 0,
    models: models.filter((m) => m.commodity === commodity),
  }]));
  for (let tick = stream.next(); tick !== undefined; tick = stream.next()) {
    const state = states.get(tick.commodity)!;
    state.window = appendTick(state.window, { tsMs: tick.tsMs, price: tick.price });
    state.count++;
    const features = computeFeatures(state.window, state.count);
    const predictions: PredictionRow[] = [];
    const volatility = features.volatility20;
    if (volatility !== undefined && volatility > 0) {
      for (const model of state.models) {
        const h = model.horizonTicks;
        const spread = volatility * Math.sqrt(h);
        const predictedReturn = MOMENTUM * (features.logReturn ?? 0) * h;
        predictions.push({
          commodity: tick.commodity,
          tickTsMs: tick.tsMs,
          modelVersion: tick.tsMs < model.promotedAtMs ? model.first : model.promoted,
          horizonTicks: h,
          tickPrice: tick.price,
          predictedReturn,
          direction: predictedReturn > 0 ? Direction.DIRECTION_UP : Direction.DIRECTION_DOWN,
          probabilityUp: normalCdf(predictedReturn / spread),
          intervalLowReturn: predictedReturn - Z_80 * spread,
          intervalHighReturn: predictedReturn + Z_80 * spread,
        });
      }
    }
    yield { commodity: tick.commodity, features, predictions };
  }
}

// --- loading ------------------------------------------------------------------------------------------------------

const BATCH_ROWS = 10_000;

async function insertFeatures(db: pg.Pool, rows: readonly TickRows[]): Promise<void> {
  const f = rows.map((r) => r.features);
  const col = <T>(pick: (x: FeatureVector) => T) => f.map(pick);
  await db.query(
    `INSERT INTO ticks (commodity, ts_ms, price, unit, source)
     SELECT c, t, p, 'USD', 'synthetic' FROM unnest($1::text[], $2::bigint[], $3::float8[]) AS u(c, t, p)`,
    [rows.map((r) => r.commodity), col((x) => x.tsMs), col((x) => x.price)],
  );
  await db.query(
    `INSERT INTO features (commodity, ts_ms, price, simple_return, log_return, non_positive_price, sma_5, sma_20,
       ema_5, ema_20, volatility_20, z_score, rsi_14, momentum_10, window_min, window_max, tick_count)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::bool[], $7::float8[],
       $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::float8[],
       $15::float8[], $16::float8[], $17::bigint[])`,
    [
      rows.map((r) => r.commodity), col((x) => x.tsMs), col((x) => x.price), col((x) => x.simpleReturn ?? null),
      col((x) => x.logReturn ?? null), col((x) => x.nonPositivePrice), col((x) => x.sma5 ?? null), col((x) => x.sma20 ?? null),
      col((x) => x.ema5), col((x) => x.ema20), col((x) => x.volatility20 ?? null), col((x) => x.zScore ?? null),
      col((x) => x.rsi14 ?? null), col((x) => x.momentum10 ?? null), col((x) => x.windowMin), col((x) => x.windowMax),
      col((x) => x.tickCount),
    ],
  );
}

async function insertPredictions(db: pg.Pool | pg.PoolClient, p: readonly PredictionRow[]): Promise<void> {
  if (p.length === 0) return;
  const col = <T>(pick: (x: PredictionRow) => T) => p.map(pick);
  await db.query(
    `INSERT INTO predictions (commodity, tick_ts_ms, model_version, horizon_ticks, tick_price, predicted_return,
       predicted_price, direction, probability_up, interval_low_return, interval_high_return, interval_level,
       inference_us, predicted_at_ms)
     SELECT c, t, v, h, p, r, p * exp(r), d, u, lo, hi, ${INTERVAL_LEVEL}, 50, t + 1
     FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::int[], $5::float8[], $6::float8[], $7::smallint[],
       $8::float8[], $9::float8[], $10::float8[]) AS u(c, t, v, h, p, r, d, u, lo, hi)`,
    [
      col((x) => x.commodity), col((x) => x.tickTsMs), col((x) => x.modelVersion), col((x) => x.horizonTicks),
      col((x) => x.tickPrice), col((x) => x.predictedReturn), col((x) => x.direction), col((x) => x.probabilityUp),
      col((x) => x.intervalLowReturn), col((x) => x.intervalHighReturn),
    ],
  );
}

/**
 * The registry's rows. The models of the first horizon are the ones in service (the first, then the promoted
 * one, with the service history and the promotion audited); those of the other horizons stay candidates, whose
 * predictions are stored too (as a challenger's would be), since the registry has one model in service per
 * commodity.
 */
async function insertModels(db: pg.Pool, o: AnalyticsDataOptions, models: readonly ModelRows[]): Promise<void> {
  for (const m of models) {
    const served = m.horizonTicks === o.horizons[0];
    await db.query(
      `INSERT INTO models (version, commodity, status, params, metrics, format, model, horizon_ticks, train_from_ms,
         train_to_ms, train_rows, trained_at)
       VALUES ($1, $3, $7, '{}', '{}', 'synthetic/1', '\\x00', $4, $5::bigint, $5::bigint, 0, to_timestamp($5::bigint / 1000.0)),
              ($2, $3, $8, '{}', '{}', 'synthetic/1', '\\x00', $4, $5::bigint, $6::bigint, 0, to_timestamp($6::bigint / 1000.0))`,
      [m.first, m.promoted, m.commodity, m.horizonTicks, o.startMs, m.promotedAtMs, served ? 'retired' : 'candidate', served ? 'active' : 'candidate'],
    );
    if (!served) continue;
    await db.query(
      `INSERT INTO model_service (commodity, model_version, from_at, to_at, reason)
       VALUES ($1, $2, to_timestamp($4::bigint / 1000.0), to_timestamp($5::bigint / 1000.0), 'first model'),
              ($1, $3, to_timestamp($5::bigint / 1000.0), NULL, 'promoted: beat the model in service')`,
      [m.commodity, m.first, m.promoted, o.startMs, m.promotedAtMs],
    );
    await db.query(
      `INSERT INTO audit_log (at, actor, action, subject, details) VALUES (to_timestamp($1::bigint / 1000.0), 'trainer', 'model.promote', $2, $3)`,
      [m.promotedAtMs, `v${m.promoted}`, { commodity: m.commodity, previous: m.first }],
    );
  }
}

/** Writes the whole synthetic store; returns the row counts. */
export async function loadAnalyticsData(db: pg.Pool, o: AnalyticsDataOptions): Promise<{ features: number; predictions: number }> {
  let batch: TickRows[] = [];
  let features = 0;
  let predictions = 0;
  const flush = async (): Promise<void> => {
    await insertFeatures(db, batch);
    const p = batch.flatMap((r) => r.predictions);
    await insertPredictions(db, p);
    features += batch.length;
    predictions += p.length;
    batch = [];
  };
  for (const rows of analyticsRows(o)) {
    batch.push(rows);
    if (batch.length >= BATCH_ROWS) await flush();
  }
  if (batch.length > 0) await flush();
  await insertModels(db, o, modelsOf(o));
  return { features, predictions };
}
