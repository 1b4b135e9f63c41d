import test from 'ava';
import { migrate } from '../../connectors/postgres/migrate.ts';
import { pgliteStore, postgresStore, type SqlStore } from '../../connectors/postgres/sql-store.ts';
import { Direction, type Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import { freshDatabase } from '../../test/services.ts';
import type { FeatureVector } from '../features/compute-features.ts';
import { postgresSink } from './postgres-sink.ts';
import type { TickOutputs } from './tick-outputs.ts';

const features = (tsMs: number, price: number, over: Partial<FeatureVector> = {}): FeatureVector => ({
  tsMs, price, simpleReturn: undefined, logReturn: undefined, nonPositivePrice: price <= 0, sma5: undefined, sma20: undefined,
  ema5: price, ema20: price, volatility20: undefined, zScore: undefined, rsi14: undefined, momentum10: undefined,
  windowMin: price, windowMax: price, tickCount: 1, ...over,
});
const prediction: Prediction = {
  commodity: 'WTI', tickTsMs: 2, tickPrice: -36.98, modelVersion: 7, horizonTicks: 1, predictedReturn: 1e-7, predictedPrice: -36.98,
  direction: Direction.DIRECTION_UP, probabilityUp: 0.52, intervalLowReturn: -0.02, intervalHighReturn: 0.02, intervalLowPrice: 0,
  intervalHighPrice: 0, intervalLevel: 0.8, inferenceUs: 4.2, predictedAtMs: 1_700_000_000_000,
};
const batch: TickOutputs[] = [
  { tick: { commodity: 'WTI', tsMs: 1, price: 18.5, unit: 'USD/barrel', source: 'csv:"quoted", back\\slash' }, features: features(1, 18.5), prediction: undefined, alert: undefined },
  { tick: { commodity: 'WTI', tsMs: 2, price: -36.98, unit: 'USD/barrel', source: 'x' }, features: features(2, -36.98, { simpleReturn: -2.998918918918919, tickCount: 2, sma5: 1e-300 }), prediction, alert: undefined },
];

async function readBack(store: SqlStore) {
  const ticks = await store.query('SELECT commodity, ts_ms, price, unit, source FROM ticks ORDER BY ts_ms');
  const feats = await store.query('SELECT ts_ms, price, simple_return, log_return, non_positive_price, sma_5, tick_count FROM features ORDER BY ts_ms');
  const preds = await store.query('SELECT commodity, tick_ts_ms, model_version, predicted_return, direction, probability_up FROM predictions');
  return { ticks: ticks.rows, feats: feats.rows, preds: preds.rows };
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
    t.deepEqual(first.preds, [{ commodity: 'WTI', tick_ts_ms: 2, model_version: 7, predicted_return: 1e-7, direction: Direction.DIRECTION_UP, probability_up: 0.52 }]);
  });
}
