/**
 * Ticks, features and predictions to Postgres (or PGlite): one transaction per batch, one multi-row upsert per
 * table through unnest(), so a batch costs three statements whatever its size. Upserts make a replay harmless.
 */
import type { SqlQuery, SqlStore } from '../../connectors/postgres/sql-store.ts';
import { FEATURE_COLUMNS, featureColumnArrays } from '../features/feature-columns.ts';
import { dieboldMarianoOf, scoreKeyOf, type ShadowScore } from '../commodity/shadow-scoring.ts';
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

/** The features upsert, built once from the column declaration. */
const featuresUpsert = (() => {
  const names = FEATURE_COLUMNS.map((c) => c.column);
  const casts = FEATURE_COLUMNS.map((c, i) => `$${i + 2}::${c.sqlType}[]`);
  const updates = names.filter((n) => n !== 'ts_ms').map((n) => `${n} = EXCLUDED.${n}`);
  return `INSERT INTO features (commodity, ${names.join(', ')})
     SELECT * FROM unnest($1::text[], ${casts.join(', ')})
     ON CONFLICT (commodity, ts_ms) DO UPDATE SET ${updates.join(', ')}`;
})();

async function upsertFeatures(tx: SqlQuery, batch: readonly TickOutputs[]): Promise<void> {
  const columns = featureColumnArrays(batch.map((o) => o.features));
  await tx.query(featuresUpsert, [
    textArray(batch.map((o) => o.tick.commodity)),
    ...columns.map((values, i) =>
      FEATURE_COLUMNS[i]!.sqlType === 'bool' ? boolArray(values as boolean[]) : numberArray(values as (number | undefined)[]),
    ),
  ]);
}

async function upsertPredictions(tx: SqlQuery, batch: readonly TickOutputs[]): Promise<void> {
  const p = lastPerKey(batch.flatMap((o) => o.predictions), (x) => `${x.commodity}\u0000${x.tickTsMs}\u0000${x.modelVersion}`);
  if (p.length === 0) return;
  await tx.query(
    `INSERT INTO predictions (commodity, tick_ts_ms, model_version, horizon_ticks, tick_price, predicted_return,
       predicted_price, direction, probability_up, interval_low_return, interval_high_return, interval_level,
       inference_us, predicted_at_ms, family, quantile_levels, quantile_returns, scale, signal, signal_reason,
       skill_pinball_ratio)
     SELECT commodity, tick_ts_ms, model_version, horizon_ticks, tick_price, predicted_return, predicted_price,
       direction, probability_up, interval_low_return, interval_high_return, interval_level, inference_us,
       predicted_at_ms, family, $16::float8[], quantile_returns::float8[], scale, signal, signal_reason, skill_pinball_ratio
     FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::int[], $5::float8[], $6::float8[], $7::float8[],
       $8::smallint[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::bigint[],
       $15::text[], $17::text[], $18::float8[], $19::smallint[], $20::text[], $21::float8[])
       AS u(commodity, tick_ts_ms, model_version, horizon_ticks, tick_price, predicted_return, predicted_price,
         direction, probability_up, interval_low_return, interval_high_return, interval_level, inference_us,
         predicted_at_ms, family, quantile_returns, scale, signal, signal_reason, skill_pinball_ratio)
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
      textArray(p.map((x) => x.family)),
      // Every prediction has the same levels (QUANTILE_LEVELS); the quantiles travel as one array literal each.
      numberArray(p[0]!.quantileLevels),
      textArray(p.map((x) => numberArray(x.quantileReturns))),
      numberArray(p.map((x) => x.scale)),
      numberArray(p.map((x) => x.signal)),
      textArray(p.map((x) => x.signalReason)),
      numberArray(p.map((x) => x.skill?.pinballRatio)),
    ],
  );
}

/** The challengers' scores: an upsert that only moves a row forward in time, so a replay never rewinds it. */
async function upsertShadowScores(tx: SqlQuery, batch: readonly TickOutputs[]): Promise<void> {
  const scores = lastPerKey(
    batch.flatMap((o) => o.shadowScores.map((s) => ({ commodity: o.tick.commodity, s }))),
    ({ commodity, s }) => `${commodity}\u0000${scoreKeyOf(s)}`,
  );
  if (scores.length === 0) return;
  await tx.query(
    `INSERT INTO challenger_scores (commodity, horizon_ticks, family, model_version, champion_version, realised, through_ts_ms,
       interval_score, champion_interval_score, pinball, champion_pinball, covered, dm_statistic, dm_p_value, state)
     SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
       $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::jsonb[])
     ON CONFLICT (commodity, horizon_ticks, model_version, champion_version) DO UPDATE SET
       realised = EXCLUDED.realised, through_ts_ms = EXCLUDED.through_ts_ms, interval_score = EXCLUDED.interval_score,
       champion_interval_score = EXCLUDED.champion_interval_score, pinball = EXCLUDED.pinball,
       champion_pinball = EXCLUDED.champion_pinball, covered = EXCLUDED.covered, dm_statistic = EXCLUDED.dm_statistic,
       dm_p_value = EXCLUDED.dm_p_value, state = EXCLUDED.state, updated_at = clock_timestamp()
     WHERE challenger_scores.through_ts_ms < EXCLUDED.through_ts_ms`,
    shadowScoreColumns(scores),
  );
}

function shadowScoreColumns(rows: readonly { commodity: string; s: ShadowScore }[]): string[] {
  const tests = rows.map(({ s }) => dieboldMarianoOf(s));
  return [
    textArray(rows.map((r) => r.commodity)),
    numberArray(rows.map((r) => r.s.horizonTicks)),
    textArray(rows.map((r) => r.s.family)),
    numberArray(rows.map((r) => r.s.modelVersion)),
    numberArray(rows.map((r) => r.s.championVersion)),
    numberArray(rows.map((r) => r.s.realised)),
    numberArray(rows.map((r) => r.s.throughTsMs)),
    numberArray(rows.map((r) => r.s.sumIntervalScore / r.s.realised)),
    numberArray(rows.map((r) => r.s.sumChampionIntervalScore / r.s.realised)),
    numberArray(rows.map((r) => r.s.sumPinball / r.s.realised)),
    numberArray(rows.map((r) => r.s.sumChampionPinball / r.s.realised)),
    numberArray(rows.map((r) => r.s.covered / r.s.realised)),
    numberArray(tests.map((t) => t.statistic)),
    numberArray(tests.map((t) => t.pValue)),
    textArray(rows.map((r) => JSON.stringify(r.s))),
  ];
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
        await upsertPredictions(tx, batch);
        await upsertShadowScores(tx, batch);
        // Last, so that features.stored_at (clock time of the row's write) comes as near the commit as it can.
        await upsertFeatures(tx, rows);
      });
    },
  };
}
