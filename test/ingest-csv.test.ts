/**
 * Ingesting the real price files into the real broker: one message per valid row, keyed by commodity, with
 * the decoded values, times and partitions the rest of the platform relies on.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { CsvSource } from '../actors/ingest/sources/csv-source.ts';
import { dlqOf } from '../connectors/kafka/topics.ts';
import { partitionOf } from '../connectors/partitioner.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { ingestInto, readTopic } from './ingest-kafka-helpers.ts';
import { freshTopics } from './services.ts';

const dataDir = join(import.meta.dirname, '..', '..', 'shared', 'data');
const PARTITIONS = 3;

/**
 * Valid observations of a shared data file, counted without the ingest code: non-empty numeric cells of the
 * lines that have as many cells as the header. (The IMF file has 63 series names but 94 values a line, its
 * values shifted against the names: none of its lines can be attributed, all are rejected.)
 */
function validCellsOf(file: string): { valid: number; misaligned: number } {
  const [header = '', ...lines] = readFileSync(join(dataDir, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const width = header.split(',').length;
  let valid = 0;
  let misaligned = 0;
  for (const line of lines) {
    const cells = line.split(',');
    if (cells.length !== width) misaligned++;
    else for (const cell of cells.slice(1)) if (cell.trim() !== '' && Number.isFinite(Number(cell))) valid++;
  }
  return { valid, misaligned };
}

test('each file of the shared data publishes exactly its valid rows, keyed and valued right', async (t) => {
  const { topics } = await freshTopics(t, PARTITIONS);
  const files = readdirSync(dataDir).filter((f) => f.endsWith('.csv')).sort();
  t.true(files.length >= 5);

  const summary = await ingestInto(topics.prices, new CsvSource(dataDir));
  const messages = await readTopic(topics.prices);

  const perFile = new Map<string, number>();
  const wti = new Map<number, number>();
  for (const m of messages) {
    const tick = PriceTick.decode(m.value);
    t.is(m.key, tick.commodity);
    t.is(m.timestamp, String(tick.tsMs));
    t.is(m.headers['content-type'], 'application/x-protobuf');
    if (m.partition !== partitionOf(tick.commodity, PARTITIONS)) t.fail(`${tick.commodity} in partition ${m.partition}, partitionOf says ${partitionOf(tick.commodity, PARTITIONS)}`);
    perFile.set(tick.source, (perFile.get(tick.source) ?? 0) + 1);
    if (tick.commodity === 'WTI') wti.set(tick.tsMs, tick.price);
  }
  let misaligned = 0;
  for (const file of files) {
    const expected = validCellsOf(file);
    t.is(perFile.get(`csv:${file}`) ?? 0, expected.valid, file);
    misaligned += expected.misaligned;
  }
  t.is(messages.length, summary.published);
  t.is(summary.rejected.column_count_mismatch, misaligned);

  t.is(wti.get(Date.UTC(2020, 3, 20)), -36.98);
  t.is(wti.get(Date.UTC(1986, 0, 2)), 25.56);
  const keys = new Set(messages.map((m) => m.key));
  t.deepEqual([...keys].sort(), ['BRENT', 'GOLD', 'HENRY_HUB', 'WTI']);
  const gold = messages.map((m) => PriceTick.decode(m.value)).find((tick) => tick.commodity === 'GOLD' && tick.tsMs === Date.UTC(1833, 0, 1));
  t.deepEqual(gold, { commodity: 'GOLD', tsMs: Date.UTC(1833, 0, 1), price: 18.93, unit: 'USD/troy oz', source: 'csv:gold-monthly.csv' });
  // The epoch is a date like any other.
  t.true(messages.some((m) => m.key === 'GOLD' && PriceTick.decode(m.value).tsMs === 0));

  // Nothing is lost: the empty Henry Hub price and the IMF lines are in the DLQ with their reasons and bytes.
  const dlq = await readTopic(dlqOf(topics.prices));
  t.is(dlq.length, summary.rejectedTotal);
  const empty = dlq.filter((m) => m.headers['x-dlq-reason'] === 'empty_price');
  t.is(empty.length, 1);
  t.is(empty[0]?.key, 'HENRY_HUB');
  t.regex(empty[0]?.value.toString() ?? '', /^\d{4}-\d{2}-\d{2},$/);
  // Located: the file as given, the line, the value refused.
  const emptyLine = Number(empty[0]?.headers['x-dlq-line']);
  t.is(empty[0]?.headers['x-dlq-file'], join(dataDir, 'henry-hub-daily.csv'));
  t.is(readFileSync(join(dataDir, 'henry-hub-daily.csv'), 'utf8').split(/\r?\n/)[emptyLine - 1], empty[0]?.value.toString());
  t.is(empty[0]?.headers['x-dlq-value'], '');
  t.like(summary.examples.find((e) => e.reason === 'empty_price'), { file: join(dataDir, 'henry-hub-daily.csv'), line: emptyLine, value: '' });
  const imf = dlq.filter((m) => m.headers['x-dlq-reason'] === 'column_count_mismatch');
  t.is(imf.length, misaligned);
  t.true(imf.every((m) => m.key === null && m.headers['x-dlq-origin']?.startsWith('csv:imf-commodities-monthly.csv line ') === true));
  t.true(imf.every((m) => m.headers['x-dlq-file'] === join(dataDir, 'imf-commodities-monthly.csv') && m.headers['x-dlq-value'] === '95 cells'));
  // ...and the file is told once, as the malformed table it is.
  t.deepEqual(summary.tableMismatches, [{ file: join(dataDir, 'imf-commodities-monthly.csv'), headerCells: 64, lines: misaligned, mismatchedLines: misaligned, cellCounts: [95] }]);
});

test('partitionOf is the Java client\'s murmur2 partitioning (Kafka\'s own murmur2 test vectors)', (t) => {
  const javaMurmur2: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of javaMurmur2) {
    for (const n of [1, 3, 12, 64]) t.is(partitionOf(key, n), (hash & 0x7fffffff) % n, `${key} / ${n}`);
  }
  t.throws(() => partitionOf('WTI', 0), { instanceOf: RangeError });
});
