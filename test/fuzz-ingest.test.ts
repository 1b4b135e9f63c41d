/**
 * `carbon ingest` fuzzed (issue 17): arbitrary CSV files and JSON bodies, seeded (fuzz-options.ts says how many),
 * through the sources' own parsers and the row validation. Properties: nothing throws but a SourceError naming the
 * input (a file without a usable header, a body that is not one JSON array); every row read either becomes a tick
 * that is well-formed (a commodity id, a time a Date holds, a finite price, encodable) or is rejected with one of
 * the reasons docs/api.md lists, and becomes a DLQ message carrying that reason. Most cases run in process; a few
 * hundred go through the real `carbon ingest csv` and `carbon ingest http` to the real broker, where the ticks on
 * the topic and the reasons on its DLQ are exactly what the parsers decided.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { COMMODITY_ID_PATTERN } from '../actors/ingest/commodity-id.ts';
import { SourceError, type RawRow, type RowSource } from '../actors/ingest/raw-row.ts';
import { CsvSource } from '../actors/ingest/sources/csv-source.ts';
import { csvTableRows } from '../actors/ingest/sources/csv-table.ts';
import { HttpSource } from '../actors/ingest/sources/http-source.ts';
import { jsonArrayRows } from '../actors/ingest/sources/json-rows.ts';
import { splitLines } from '../actors/ingest/sources/lines.ts';
import { validateRow, validationContext, type ValidationContext } from '../actors/ingest/validate.ts';
import { dlqHeaders, dlqMessage } from '../connectors/kafka/dlq.ts';
import { rejectedRowRecord } from '../connectors/kafka/tick-publisher.ts';
import { dlqOf } from '../connectors/kafka/topics.ts';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { runCarbon } from './carbon-cli.ts';
import { fuzzParameters, fuzzRuns, fuzzSeed, fuzzTimeoutMs } from './fuzz-options.ts';
import { readTopic } from './ingest-kafka-helpers.ts';
import { freshTopics, KAFKA_BROKERS } from './services.ts';

/** The ingest reasons docs/api.md documents for `x-dlq-reason`. */
const documentedReasons = new Set(
  [...(/from ingest (.*?); from the workers/.exec(readFileSync(join(import.meta.dirname, '..', 'docs', 'api.md'), 'utf8'))?.[1] ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string),
);

const MAX_DATE_MS = 8.64e15;

/** What the parsers and validation made of one input. */
interface Outcome {
  readonly ticks: PriceTick[];
  readonly reasons: string[];
  readonly sourceError: string | undefined;
  /** Line (or element) numbers that gave a row. */
  readonly lineNos: Set<number>;
}

/** Reads every row, validates it and checks the verdict; throws on anything but a SourceError naming `where`. */
async function decide(rows: AsyncIterable<RawRow>, ctx: ValidationContext, where: string): Promise<Outcome> {
  const ticks: PriceTick[] = [];
  const reasons: string[] = [];
  const lineNos = new Set<number>();
  try {
    for await (const row of rows) {
      lineNos.add(row.lineNo);
      const verdict = validateRow(row, ctx);
      if (verdict.ok) {
        const { tick } = verdict;
        if (!COMMODITY_ID_PATTERN.test(tick.commodity)) throw new Error(`tick of commodity ${JSON.stringify(tick.commodity)}`);
        if (!Number.isSafeInteger(tick.tsMs) || Math.abs(tick.tsMs) > MAX_DATE_MS) throw new Error(`tick at ${tick.tsMs}`);
        if (!Number.isFinite(tick.price)) throw new Error(`tick of price ${tick.price}`);
        const back = PriceTick.decode(PriceTick.encode(tick).finish());
        if (back.commodity !== tick.commodity || back.tsMs !== tick.tsMs || !Object.is(back.price, tick.price)) throw new Error(`tick ${JSON.stringify(tick)} does not survive its encoding`);
        ticks.push(tick);
      } else if (verdict.filtered) {
        throw new Error('a row filtered without --from or --to');
      } else {
        if (!documentedReasons.has(verdict.reason)) throw new Error(`undocumented reason ${verdict.reason}`);
        if (verdict.detail === '' || verdict.value.length > 64) throw new Error(`reject ${JSON.stringify(verdict)} says too little or too much`);
        const message = dlqMessage(rejectedRowRecord({
          raw: row.raw, rawSizeBytes: row.rawSizeBytes, reason: verdict.reason, detail: verdict.detail, commodity: verdict.commodity,
          origin: `${row.origin} line ${row.lineNo}`, location: { file: row.file, line: row.lineNo, column: row.column }, value: verdict.value, contentType: row.rawType,
        }, 'commodity-prices'), 4_096);
        if (message.headers[dlqHeaders.reason] !== verdict.reason || message.value.length > 4_096) throw new Error(`DLQ message of ${verdict.reason} is wrong`);
        reasons.push(verdict.reason);
      }
    }
  } catch (err) {
    if (err instanceof SourceError && err.message.includes(where)) return { ticks, reasons, sourceError: err.message, lineNos };
    throw err;
  }
  return { ticks, reasons, sourceError: undefined, lineNos };
}

/** The bytes in chunks cut at the given places (a stream hands them over as it likes). */
async function* chunked(bytes: Buffer, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let from = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    if (cut > from) yield bytes.subarray(from, cut);
    from = Math.max(from, cut);
  }
  if (from < bytes.length) yield bytes.subarray(from);
}

const day = fc.date({ min: new Date(-62_000_000_000_000), max: new Date(253_402_300_799_000), noInvalidDate: true });
const dateCell = fc.oneof(
  { weight: 4, arbitrary: day.map((d) => d.toISOString().slice(0, 10)) },
  { weight: 1, arbitrary: day.map((d) => d.toISOString().slice(0, 7)) },
  { weight: 1, arbitrary: day.map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.constantFrom('2023-02-30', '2020-13-01', '0000-01-01', '9999-12-31', '+275760-09-13', '2020-01-01T00:00', '2020-01-01 10:00+02:00', '', ' 2020-01-01 ', '1/2/2020', '20200101', '2020-1-1') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const priceCell = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '-36.98', '1e308', '1e309', '-0', 'NaN', 'Infinity', '0x10', '"12,5"', '1_000', '.5', '5.', '+1', '--1', '1e', '١٢') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
const commodityCell = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('WTI', 'BRENT', 'wti', 'Henry Hub', 'GOLD') },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '1ABC', 'A'.repeat(40), 'W-TI', 'É', '"WTI"') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
/** Headers that parse (one series, long, wide) and some that do not. */
const goodHeader = fc.constantFrom('Date,Price', 'date,price,commodity', 'Commodity,Date,Price', 'Date,WTI,Brent Crude,Gold', 'DATE , Price', '\uFEFFDate,Price', 'Date,"Spot, Henry Hub"');
const header = fc.oneof({ weight: 6, arbitrary: goodHeader }, { weight: 1, arbitrary: fc.constantFrom('', 'Price', 'Date', 'Date,A,a', 'Price,Value', 'Date,1x') }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) });
const line = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(dateCell, priceCell, commodityCell, priceCell).map((cells) => cells) },
  { weight: 1, arbitrary: fc.array(fc.oneof(dateCell, priceCell, commodityCell), { maxLength: 6 }) },
).map((cells) => cells);

interface CsvCase {
  readonly header: string;
  readonly lines: readonly (readonly string[])[];
  /** How many cells of each line to keep (a layout's width, or fewer, or more). */
  readonly widths: readonly number[];
  readonly newline: string;
  readonly garbage: Uint8Array | undefined;
}

const csvCase = (headers: fc.Arbitrary<string>): fc.Arbitrary<CsvCase> => fc.record({
  header: headers,
  lines: fc.array(line, { maxLength: 8 }),
  widths: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }) }), { minLength: 8, maxLength: 8 }),
  newline: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('\n', '\r\n') }, { weight: 1, arbitrary: fc.constant('\r') }),
  garbage: fc.option(fc.uint8Array({ maxLength: 24 }), { nil: undefined, freq: 5 }),
});

/** The file's bytes: each line's cells cut to a width that is usually the header's, garbage appended sometimes. */
function csvBytes(c: CsvCase): Buffer {
  const width = c.header.split(',').length;
  const body = c.lines.map((cells, i) => {
    const w = (c.widths[i] ?? 0) === 0 ? cells.length : (c.widths[i] ?? 0) <= 3 ? width : (c.widths[i] ?? 0);
    // Cells of a long layout go in the header's order; the generator's cells are date, price, commodity, price.
    const named = c.header.toLowerCase().startsWith('commodity') ? [cells[2], cells[0], cells[1], cells[3]] : cells;
    return Array.from({ length: w }, (_, k) => named[k] ?? '').join(',');
  });
  const text = [c.header, ...body].join(c.newline);
  return c.garbage === undefined ? Buffer.from(text) : Buffer.concat([Buffer.from(text), Buffer.from(c.garbage)]);
}

test('arbitrary CSV through the CSV parser and validation, in process: every row a well-formed tick or a documented reject, no line lost', async (t) => {
  const runs = fuzzRuns();
  t.timeout(fuzzTimeoutMs(runs, 5, 60_000));
  const tally = { ticks: 0, rejects: 0, refusedFiles: 0 };
  await fc.assert(fc.asyncProperty(csvCase(header), fc.array(fc.nat(), { maxLength: 4 }), fc.constantFrom(undefined, 'WTI'), async (c, cuts, commodity) => {
    const where = '/fuzz/case.csv';
    const bytes = csvBytes(c);
    const absent = { absent: 0 };
    // Small limits, so that cut lines and oversized rows are common.
    const rows = csvTableRows(splitLines(chunked(bytes, cuts), 120), { origin: 'csv:case.csv', where, commodity, fileName: 'case.csv' }, absent);
    const outcome = await decide(rows, validationContext({ nowMs: Date.now(), maxRowBytes: 96 }), where);
    if (outcome.sourceError === undefined) {
      // Nothing lost: every line after the header that holds something gave a row, but for a wide table's empty cells.
      const lines = bytes.toString('utf8').split('\n');
      const headerAt = lines.findIndex((l, i) => (i === 0 ? l.replace(/^\uFEFF/, '') : l).trim() !== '');
      lines.forEach((l, i) => {
        if (i > headerAt && l.trim() !== '' && !outcome.lineNos.has(i + 1) && absent.absent === 0) throw new Error(`line ${i + 1} ${JSON.stringify(l)} gave no row`);
      });
    }
    tally.ticks += outcome.ticks.length;
    tally.rejects += outcome.reasons.length;
    if (outcome.sourceError) tally.refusedFiles++;
  }), fuzzParameters(runs));
  t.log(`${runs} CSV files: ${tally.ticks} ticks, ${tally.rejects} rejected rows, ${tally.refusedFiles} files refused`);
  t.true(tally.ticks > 0 && tally.rejects > 0 && tally.refusedFiles > 0 && tally.refusedFiles < runs);
});

/** A JSON element as a feed might give it: an object with fields of any type, missing or extra, or anything. */
const jsonElement = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    date: fc.oneof(dateCell, fc.integer(), fc.double(), fc.jsonValue({ maxDepth: 0 })),
    ts: fc.oneof(fc.integer({ min: -MAX_DATE_MS - 1, max: MAX_DATE_MS + 1 }), fc.jsonValue({ maxDepth: 0 })),
    price: fc.oneof(fc.double(), priceCell, fc.jsonValue({ maxDepth: 1 })),
    commodity: fc.oneof(commodityCell, fc.jsonValue({ maxDepth: 0 })),
    unit: fc.oneof(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 0 })),
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null') },
);
/** A body: an array of elements, or the same mutated (cut, garbage inserted), or any text. */
const jsonBody = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.array(jsonElement, { maxLength: 8 }), fc.constantFrom('', ' ', '\n')).map(([es, ws]) => `${ws}[${es.join(`,${ws}`)}]${ws}`) },
  { weight: 1, arbitrary: fc.tuple(fc.array(jsonElement, { minLength: 1, maxLength: 4 }), fc.nat(), fc.string({ maxLength: 6 })).map(([es, at, junk]) => { const s = `[${es.join(',')}]`; const i = at % s.length; return s.slice(0, i) + junk + s.slice(i); }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

test('arbitrary JSON through the JSON parser and validation, in process: every element a well-formed tick or a documented reject', async (t) => {
  const runs = fuzzRuns();
  t.timeout(fuzzTimeoutMs(runs, 5, 60_000));
  const tally = { ticks: 0, rejects: 0, refusedBodies: 0 };
  await fc.assert(fc.asyncProperty(jsonBody, fc.array(fc.nat(), { maxLength: 4 }), fc.constantFrom(undefined, 'WTI'), fc.constantFrom(undefined, 'gold-daily.json'), async (body, cuts, commodity, fileName) => {
    const where = 'http://fuzz.example/prices';
    const rows = jsonArrayRows(chunked(Buffer.from(body), cuts), { origin: 'http:fuzz.example/prices', where, commodity, fileName, keepChars: 200 });
    const outcome = await decide(rows, validationContext({ nowMs: Date.now(), maxRowBytes: 160 }), where);
    tally.ticks += outcome.ticks.length;
    tally.rejects += outcome.reasons.length;
    if (outcome.sourceError) tally.refusedBodies++;
  }), fuzzParameters(runs));
  t.log(`${runs} JSON bodies: ${tally.ticks} ticks, ${tally.rejects} rejected elements, ${tally.refusedBodies} bodies refused`);
  t.true(tally.ticks > 0 && tally.rejects > 0 && tally.refusedBodies > 0 && tally.refusedBodies < runs);
});

/** The ingest as the parsers decide it, in process, and as the CLI published it: the same ticks and reasons. */
async function compareWithCli(t: import('ava').ExecutionContext, source: RowSource, args: readonly string[], expectedCases: number): Promise<void> {
  const expected = await decide(source, validationContext({ nowMs: Date.now() }), '');
  t.is(expected.sourceError, undefined);
  const { prefix, topics } = await freshTopics(t, 3);
  const run = await runCarbon(['ingest', ...args, '--json'], { KAFKA_BROKERS: KAFKA_BROKERS.join(','), CARBON_TOPIC_PREFIX: prefix, CARBON_TOPIC_PARTITIONS: '3' });
  t.is(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { published: number; rejectedTotal: number; rejected: Record<string, number> };
  t.is(summary.published, expected.ticks.length);
  t.is(summary.rejectedTotal, expected.reasons.length);
  const key = (x: { commodity: string; tsMs: number; price: number }): string => `${x.commodity}@${x.tsMs}=${x.price}`;
  const published = (await readTopic(topics.prices)).map((m) => key(PriceTick.decode(m.value))).sort();
  t.deepEqual(published, expected.ticks.map(key).sort(), 'the topic holds exactly the ticks the parsers made');
  const dlq = (await readTopic(dlqOf(topics.prices))).map((m) => m.headers[dlqHeaders.reason] ?? '').sort();
  t.deepEqual(dlq, [...expected.reasons].sort(), 'the DLQ holds exactly the rejects, with their reasons');
  t.log(`${expectedCases} inputs through the CLI: ${published.length} ticks published, ${dlq.length} rows dead-lettered`);
}

const CLI_CASES = 200;

test('a few hundred arbitrary CSV files through the real carbon ingest csv: the topic and the DLQ hold what the parsers decided', async (t) => {
  t.timeout(180_000);
  const folder = mkdtempSync(join(tmpdir(), 'carbon-fuzz-ingest-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));
  // Headers that parse, on lines split by \n: a folder stops at its first file without a header (that refusal is
  // fuzzed in process), and a file of bare \r line ends is one long header line.
  const files = fc.sample(csvCase(goodHeader).filter((c) => c.newline !== '\r'), { seed: fuzzSeed(), numRuns: CLI_CASES });
  files.forEach((c, i) => writeFileSync(join(folder, `fz${String(i).padStart(3, '0')}.csv`), csvBytes(c)));
  await compareWithCli(t, new CsvSource(folder), ['csv', folder], CLI_CASES);
});

test('a few hundred arbitrary JSON elements through the real carbon ingest http: the topic and the DLQ hold what the parsers decided', async (t) => {
  t.timeout(180_000);
  const elements = fc.sample(jsonElement, { seed: fuzzSeed(), numRuns: CLI_CASES });
  const body = `[${elements.join(',')}]`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gold-daily.json`;
  await compareWithCli(t, new HttpSource(url, { timeoutMs: 10_000, retries: 0 }), ['http', url], CLI_CASES);
});
