/**
 * What the pipeline must have stored for a series: one ticks row and one features row per tick, with features
 * equal to the independent reference computation. Shared by the pipeline and recovery tests.
 */
import type { ExecutionContext } from 'ava';
import { readDailyPrices } from './daily-price-csv.ts';
import type { FeatureVector } from '../actors/features/compute-features.ts';
import { FEATURE_COLUMNS } from '../actors/features/feature-columns.ts';
import type { PricePoint } from '../actors/features/window.ts';
import type { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import type { TickPublisher } from '../connectors/kafka/tick-publisher.ts';
import { referenceFeatures } from './reference-features.ts';
import { countRows, type TestEnvironment } from './cluster-harness.ts';
import { eventually } from './eventually.ts';

export const REAL_SERIES = [
  { commodity: 'WTI', file: 'wti-daily.csv' },
  { commodity: 'BRENT', file: 'brent-daily.csv' },
  { commodity: 'HENRY_HUB', file: 'henry-hub-daily.csv' },
] as const;

export function seriesTicks(commodity: string, file: string): PriceTick[] {
  return readDailyPrices(file).map((p) => ({ commodity, tsMs: p.tsMs, price: p.price, unit: '', source: `test:${file}` }));
}

/** The ticks of the three real daily series, interleaved by date as a live feed would deliver them. */
export function interleavedRealTicks(): PriceTick[] {
  return REAL_SERIES.flatMap((s) => seriesTicks(s.commodity, s.file)).sort((a, b) => a.tsMs - b.tsMs || a.commodity.localeCompare(b.commodity));
}

/** Publishes `ticks` in slices with pauses, so that failures can be injected while the stream runs. */
export async function streamTicks(publisher: TickPublisher, ticks: readonly PriceTick[], perSlice: number, pauseMs: number, onSlice?: (sent: number) => void | Promise<void>): Promise<void> {
  for (let i = 0; i < ticks.length; i += perSlice) {
    await publisher.publish(ticks.slice(i, i + perSlice));
    await publisher.flush();
    await onSlice?.(Math.min(ticks.length, i + perSlice));
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

export async function waitForRows(env: TestEnvironment, expected: number, timeoutMs = 120_000): Promise<void> {
  await eventually(async () => (await countRows(env, 'features')) >= expected && (await countRows(env, 'ticks')) >= expected, {
    what: `${expected} ticks and features rows`,
    timeoutMs,
    intervalMs: 250,
  });
}

/** Every numeric stored feature (the time is the row's key, the boolean is implied by the prices). */
const columns: Array<[keyof FeatureVector, string]> = FEATURE_COLUMNS.filter((c) => c.field !== 'tsMs' && c.sqlType !== 'bool').map((c) => [c.field, c.column]);

function close(a: number | undefined | null, b: number | undefined | null): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * Checks that the stored rows of `commodity` are exactly one per tick of `series` (no loss, no duplicate), with
 * features equal to the reference over the same series.
 */
export async function assertStoredFeaturesMatch(t: ExecutionContext, env: TestEnvironment, commodity: string, series: readonly PricePoint[], windowSize = 50): Promise<void> {
  const { rows } = await env.db.query<Record<string, number | boolean | null>>(
    'SELECT * FROM features WHERE commodity = $1 ORDER BY ts_ms', [commodity]);
  const ticks = await env.db.query<{ n: string }>('SELECT count(*) AS n FROM ticks WHERE commodity = $1', [commodity]);
  t.is(Number(ticks.rows[0]?.n), series.length, `${commodity}: one ticks row per tick`);
  t.is(rows.length, series.length, `${commodity}: one features row per tick`);
  const expected = referenceFeatures(series, windowSize);
  const mismatches: string[] = [];
  for (let i = 0; i < Math.min(rows.length, expected.length); i++) {
    const row = rows[i] as Record<string, number | boolean | null>;
    const want = expected[i] as FeatureVector;
    if (Number(row.ts_ms) !== want.tsMs) {
      mismatches.push(`row ${i}: ts ${row.ts_ms} != ${want.tsMs}`);
      continue;
    }
    for (const [field, column] of columns) {
      const got = row[column] === null ? null : Number(row[column]);
      if (!close(got, want[field] as number | undefined)) mismatches.push(`row ${i} (${new Date(want.tsMs).toISOString().slice(0, 10)}) ${column}: ${got} != ${String(want[field])}`);
    }
    if (row.non_positive_price !== want.nonPositivePrice) mismatches.push(`row ${i} non_positive_price`);
  }
  t.deepEqual(mismatches.slice(0, 10), [], `${commodity}: ${mismatches.length} feature values differ from the reference`);
}
