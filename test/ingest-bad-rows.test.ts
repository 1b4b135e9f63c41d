/**
 * A fixture with every kind of bad row: each lands in the DLQ with its reason and its raw bytes, each good row
 * is published, and nothing else is.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { CsvSource } from '../actors/ingest/sources/csv-source.ts';
import { validationContext } from '../actors/ingest/validate.ts';
import { dlqOf } from '../connectors/kafka/topics.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { ingestInto, readTopic } from './ingest-kafka-helpers.ts';
import { freshTopics } from './services.ts';

const fixture = join(import.meta.dirname, 'fixtures', 'bad-rows.csv');
const nowMs = Date.UTC(2025, 0, 15);

/** Line number -> what must become of it. */
const expectedRejects = new Map<number, { reason: string; key: string | null }>([
  [5, { reason: 'unparseable_date', key: 'WTI' }],
  [6, { reason: 'unparseable_date', key: 'WTI' }],
  [7, { reason: 'empty_price', key: 'WTI' }],
  [8, { reason: 'non_finite_price', key: 'WTI' }],
  [9, { reason: 'non_finite_price', key: 'WTI' }],
  [10, { reason: 'future_timestamp', key: 'WTI' }],
  [11, { reason: 'malformed_commodity', key: null }],
  [12, { reason: 'duplicate', key: 'WTI' }],
  [13, { reason: 'column_count_mismatch', key: null }],
  [14, { reason: 'oversized_row', key: null }],
  [16, { reason: 'non_finite_price', key: 'BRENT' }],
]);
const expectedTicks: PriceTick[] = [
  { commodity: 'WTI', tsMs: Date.UTC(2020, 3, 20), price: -36.98, unit: 'USD/barrel', source: 'csv:bad-rows.csv' },
  { commodity: 'WTI', tsMs: Date.UTC(2020, 3, 21), price: 8.91, unit: 'USD/barrel', source: 'csv:bad-rows.csv' },
  { commodity: 'BRENT', tsMs: Date.UTC(2020, 3, 20), price: 18, unit: 'USD/barrel', source: 'csv:bad-rows.csv' },
  { commodity: 'HENRY_HUB', tsMs: Date.UTC(2020, 3, 28), price: 9.5, unit: 'USD/MMBtu', source: 'csv:bad-rows.csv' },
];

test('every bad row of the fixture is in the DLQ with its reason and raw line; every good row is published', async (t) => {
  const { topics } = await freshTopics(t, 3);
  const lines = readFileSync(fixture, 'utf8').split('\n');
  const summary = await ingestInto(topics.prices, new CsvSource(fixture), validationContext({ nowMs }));

  const ticks = (await readTopic(topics.prices)).map((m) => PriceTick.decode(m.value));
  const byTime = (a: PriceTick, b: PriceTick) => a.commodity.localeCompare(b.commodity) || a.tsMs - b.tsMs;
  t.deepEqual(ticks.sort(byTime), [...expectedTicks].sort(byTime));

  const dlq = await readTopic(dlqOf(topics.prices));
  t.is(dlq.length, expectedRejects.size);
  const seen = new Set<number>();
  for (const m of dlq) {
    const origin = m.headers['x-dlq-origin'] ?? '';
    const lineNo = Number(/line (\d+)$/.exec(origin)?.[1]);
    const expected = expectedRejects.get(lineNo);
    if (!expected) {
      t.fail(`unexpected DLQ record from ${origin}`);
      continue;
    }
    seen.add(lineNo);
    t.is(m.headers['x-dlq-reason'], expected.reason, origin);
    t.is(m.key, expected.key, origin);
    t.is(m.value.toString(), lines[lineNo - 1] ?? '', origin);
    t.is(m.headers['x-dlq-file'], fixture, origin);
    t.is(m.headers['x-dlq-line'], String(lineNo), origin);
    t.is(typeof m.headers['x-dlq-value'], 'string', origin);
    t.is(m.headers['x-dlq-source-topic'], topics.prices);
    t.is(m.headers['content-type'], 'text/csv');
    t.true((m.headers['x-dlq-detail'] ?? '').length > 0);
  }
  t.is(seen.size, expectedRejects.size);
  t.is(summary.published, expectedTicks.length);
  t.is(summary.rejectedTotal, expectedRejects.size);
  t.like(summary.rejected, { unparseable_date: 2, empty_price: 1, non_finite_price: 3, future_timestamp: 1, malformed_commodity: 1, duplicate: 1, oversized_row: 1, column_count_mismatch: 1 });
});
