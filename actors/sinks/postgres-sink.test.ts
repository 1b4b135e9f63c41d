import test from 'ava';
import { migrate } from '../../connectors/postgres/migrate.ts';
import { pgliteStore, postgresStore, type SqlStore } from '../../connectors/postgres/sql-store.ts';
import { Direction, Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import { freshDatabase } from '../../test/services.ts';
import { awaitOutcomes, emptyShadowState, settleOutcomes, type ShadowScore } from '../commodity/shadow-scoring.ts';
import type { FeatureVector } from '../features/compute-features.ts';
import { postgresSink } from './postgres-sink.ts';
import type { TickOutputs } from './tick-outputs.ts';

const features = (tsMs: number, price: number, over: Partial<FeatureVector> = {}): FeatureVector => ({
  tsMs, price, simpleReturn: undefined, logReturn: undefined, nonPositivePrice: price <= 0, sma5: undefined, sma20: undefined,
  ema5: price, ema20: price, volatility20: undefined, ewmaVolatility: undefined, zScore: undefined, rsi14: undefined, momentum10: undefined,
  windowMin: price, windowMax: price, tickCount: 1, ...over,
});
const prediction = (horizonTicks: number, modelVersion: number): Prediction => Prediction.create({
  commodity: 'WTI', tickTsMs: 2, tickPrice: 18.5, modelVersion, horizonTicks, predictedReturn: 1e-7, predictedPrice: 18.5,
  direction: Direction.DIRECTION_UP, probabilityUp: 0.52, intervalLowReturn: -0.02, intervalHighReturn: 0.02, intervalLowPrice: 0,
  intervalHighPrice: 0, intervalLevel: 0.8, inferenceUs: 4.2, predictedAtMs: 1_700_000_000_000, family: 'no_change',
  quantileLevels: [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95], quantileReturns: [-0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03], scale: 0.015,
  signal: 1, signalReason: 'no significant directional skill', skill: { rows: 10, pinballRatio: 1, intervalScoreRatio: 1, mase: 1, brier: 0.25, directionalAccuracy: 0.5, pesaranTimmermannP: 1, intervalCoverage: 0.8 },
});

/** A challenger's score after `ticks` outcomes (one per tick, at times 1000, 2000, ...). */
function scoreAfter(ticks: number): ShadowScore {
  const q = (s: number) => Float64Array.from([-1.6, -1.3, -0.7, 0, 0.7, 1.3, 1.6], (z) => z * s);
  let state = emptyShadowState;
  let changed: ShadowScore[] = [];
  for (let tick = 1; tick <= ticks + 1; tick++) {
    const settled = settleOutcomes(state, tick, tick * 1000, 100 + (tick % 3));
    changed = settled.changed.length > 0 ? settled.changed : changed;
    state = awaitOutcomes(settled.state, [{ horizonTicks: 1, dueTickCount: tick + 1, tickPrice: 100 + (tick % 3), champion: { family: 'no_change', modelVersion: 7, quantiles: q(0.03) }, challengers: [{ family: 'drift', modelVersion: 8, quantiles: q(0.01) }] }]);
  }
  return changed[0]!;
}

const batch: TickOutputs[] = [
  { tick: { commodity: 'WTI', tsMs: 1, price: 18.5, unit: 'USD/barrel', source: 'csv:"quoted", back\\slash' }, features: features(1, 18.5), predictions: [], alert: undefined, shadowScores: [] },
  { tick: { commodity: 'WTI', tsMs: 2, price: -36.98, unit: 'USD/barrel', source: 'x' }, features: features(2, -36.98, { simpleReturn: -2.998918918918919, tickCount: 2, sma5: 1e-300 }), predictions: [prediction(1, 7), prediction(5, 9)], alert: undefined, shadowScores: [scoreAfter(3)] },
];

async function readBack(store: SqlStore) {
  const ticks = await store.query('SELECT commodity, ts_ms, price, unit, source FROM ticks ORDER BY ts_ms');
  const feats = await store.query('SELECT ts_ms, price, simple_return, log_return, non_positive_price, sma_5, tick_count FROM features ORDER BY ts_ms');
  const preds = await store.query('SELECT commodity, tick_ts_ms, model_version, horizon_ticks, predicted_return, direction, probability_up, family, quantile_returns, signal, skill_pinball_ratio FROM predictions ORDER BY horizon_ticks');
  const scores = await store.query('SELECT commodity, horizon_ticks, family, model_version, champion_version, realised, through_ts_ms FROM challenger_scores');
  return { ticks: ticks.rows, feats: feats.rows, preds: preds.rows, scores: scores.rows };
}

for (const kind of ['postgres', 'pglite'] as const) {
  test(`${kind}: a batch round-trips exactly (nulls, negative prices, quotes), and writing it again changes nothing`, async (t) => {
    const store = kind === 'postgres' ? postgresStore(await freshDatabase(t)) : await pgliteStore(undefined);
    t.teardown(() => store.close());
    await migrate(store);
    const sink = postgresSink(store);
    await sink.write(batch);
    const first = await readBack(store);
    await sink.write([...batch, ...batch]);
    t.deepEqual(await readBack(store), first, 'a replay (even doubled inside one batch) is absorbed by the upserts');
    t.deepEqual(first.ticks, [
      { commodity: 'WTI', ts_ms: 1, price: 18.5, unit: 'USD/barrel', source: 'csv:"quoted", back\\slash' },
      { commodity: 'WTI', ts_ms: 2, price: -36.98, unit: 'USD/barrel', source: 'x' },
    ]);
    t.deepEqual(first.feats[1], { ts_ms: 2, price: -36.98, simple_return: -2.998918918918919, log_return: null, non_positive_price: true, sma_5: 1e-300, tick_count: 2 });
    const quantiles = [-0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03];
    t.deepEqual(first.preds, [
      { commodity: 'WTI', tick_ts_ms: 2, model_version: 7, horizon_ticks: 1, predicted_return: 1e-7, direction: Direction.DIRECTION_UP, probability_up: 0.52, family: 'no_change', quantile_returns: quantiles, signal: 1, skill_pinball_ratio: 1 },
      { commodity: 'WTI', tick_ts_ms: 2, model_version: 9, horizon_ticks: 5, predicted_return: 1e-7, direction: Direction.DIRECTION_UP, probability_up: 0.52, family: 'no_change', quantile_returns: quantiles, signal: 1, skill_pinball_ratio: 1 },
    ]);
    t.deepEqual(first.scores, [{ commodity: 'WTI', horizon_ticks: 1, family: 'drift', model_version: 8, champion_version: 7, realised: 3, through_ts_ms: 4000 }]);
    // An older score (a batch written late, or a replay) never rewinds the row; a newer one moves it on.
    await sink.write([{ ...batch[1]!, shadowScores: [scoreAfter(2)] }]);
    t.deepEqual((await readBack(store)).scores, first.scores);
    await sink.write([{ ...batch[1]!, shadowScores: [scoreAfter(5)] }]);
    t.like((await readBack(store)).scores[0], { realised: 5, through_ts_ms: 6000 });
  });
}
