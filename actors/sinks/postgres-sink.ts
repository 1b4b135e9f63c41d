/**
 * Ticks, features and predictions to Postgres (or PGlite): one transaction per batch, one multi-row upsert per
 * table through unnest(), so a batch costs three statements whatever its size. Upserts make a replay harmless.
 */
import type { SqlQuery, SqlStore } from '../../connectors/postgres/sql-store.ts';
import { boolArray, numberArray, textArray } from './array-literals.ts';
import type { OutputWriter, TickOutputs } from './tick-outputs.ts';

/** A row key appears once per statement (Postgres refuses to upsert one row twice in a statement); last wins. */
function lastPerKey<T>(rows: readonly T[], key: (row: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const r of rows) byKey.set(key(r), r);
  return [...byKey.values()];
}


async function upsertTicks(tx: SqlQuery, batch: readonly TickOutputs[]): Promise<void> {
  await tx.query(
    `INSERT INTO ticks (commodity, ts_ms, price, unit, source)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::text[], $5::text[])
     ON CONFLICT (commodity, ts_ms) DO NOTHING`,
    [
      textArray(batch.map((o) => o.tick.commodity)),
      numberArray(batch.map((o) => o.tick.tsMs)),
      numberArray(batch.map((o) => o.tick.price)),
      textArray(batch.map((o) => o.tick.unit)),
      textArray(batch.map((o) => o.tick.source)),
    ],
  );
}

async function upsertFeatures(tx: SqlQuery, batch: readonly TickOutputs[]): Promise<void> {
  const f = batch.map((o) => o.features);
  await tx.query(
    `INSERT INTO features (commodity, ts_ms, price, simple_return, log_return, non_positive_price, sma_5, sma_20,
       ema_5, ema_20, volatility_20, z_score, rsi_14, momentum_10, window_min, window_max, tick_count)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::bool[], $7::float8[],
       $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::float8[],
       $15::float8[], $16::float8[], $17::bigint[])
     ON CONFLICT (commodity, ts_ms) DO UPDATE SET
       price = EXCLUDED.price, simple_return = EXCLUDED.simple_return, log_return = EXCLUDED.log_return,
       non_positive_price = EXCLUDED.non_positive_price, sma_5 = EXCLUDED.sma_5, sma_20 = EXCLUDED.sma_20,
       ema_5 = EXCLUDED.ema_5, ema_20 = EXCLUDED.ema_20, volatility_20 = EXCLUDED.volatility_20,
       z_score = EXCLUDED.z_score, rsi_14 = EXCLUDED.rsi_14, momentum_10 = EXCLUDED.momentum_10,
       window_min = EXCLUDED.window_min, window_max = EXCLUDED.window_max, tick_count = EXCLUDED.tick_count`,
    [
      textArray(batch.map((o) => o.tick.commodity)),
      numberArray(f.map((x) => x.tsMs)),
      numberArray(f.map((x) => x.price)),
      numberArray(f.map((x) => x.simpleReturn)),
      numberArray(f.map((x) => x.logReturn)),
      boolArray(f.map((x) => x.nonPositivePrice)),
      numberArray(f.map((x) => x.sma5)),
      numberArray(f.map((x) => x.sma20)),
      numberArray(f.map((x) => x.ema5)),
      numberArray(f.map((x) => x.ema20)),
      numberArray(f.map((x) => x.volatility20)),
      numberArray(f.map((x) => x.zScore)),
      numberArray(f.map((x) => x.rsi14)),
      numberArray(f.map((x) => x.momentum10)),
      numberArray(f.map((x) => x.windowMin)),
      numberArray(f.map((x) => x.windowMax)),
      numberArray(f.map((x) => x.tickCount)),
    ],
  );
}

async function upsertPredictions(tx: SqlQuery, batch: readonly TickOutputs[]): Promise<void> {
  const p = batch.flatMap((o) => (o.prediction ? [o.prediction] : []));
  if (p.length === 0) return;
  await tx.query(
    `INSERT INTO predictions (commodity, tick_ts_ms, model_version, horizon_ticks, tick_price, predicted_return,
       predicted_price, direction, probability_up, interval_low_return, interval_high_return, interval_level,
       inference_us, predicted_at_ms)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::int[], $5::float8[], $6::float8[], $7::float8[],
       $8::smallint[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::bigint[])
     ON CONFLICT (commodity, tick_ts_ms, model_version) DO NOTHING`,
    [
      textArray(p.map((x) => x.commodity)),
      numberArray(p.map((x) => x.tickTsMs)),
      numberArray(p.map((x) => x.modelVersion)),
      numberArray(p.map((x) => x.horizonTicks)),
      numberArray(p.map((x) => x.tickPrice)),
      numberArray(p.map((x) => x.predictedReturn)),
      numberArray(p.map((x) => x.predictedPrice)),
      numberArray(p.map((x) => x.direction)),
      numberArray(p.map((x) => x.probabilityUp)),
      numberArray(p.map((x) => x.intervalLowReturn)),
      numberArray(p.map((x) => x.intervalHighReturn)),
      numberArray(p.map((x) => x.intervalLevel)),
      numberArray(p.map((x) => x.inferenceUs)),
      numberArray(p.map((x) => x.predictedAtMs)),
    ],
  );
}

export function postgresSink(store: SqlStore): OutputWriter {
  return {
    name: 'postgres',
    // Upserts of distinct keys whose values are a function of the tick: two batches may commit in either order.
    concurrent: true,
    async write(batch) {
      const rows = lastPerKey(batch, (o) => `${o.tick.commodity}\u0000${o.tick.tsMs}`);
      await store.transaction(async (tx) => {
        await upsertTicks(tx, rows);
        await upsertPredictions(tx, rows);
        // Last, so that features.stored_at (clock time of the row's write) comes as near the commit as it can.
        await upsertFeatures(tx, rows);
      });
    },
  };
}
