/**
 * `carbon ingest csv|http|synthetic`: reads prices, validates them, publishes PriceTicks to `commodity-prices`
 * (key = commodity) and rejected rows to `commodity-prices.dlq`; a finished run pushes its row counts to the
 * Pushgateway at CARBON_PUSHGATEWAY_URL when it is set (the CronJob's process is gone before Prometheus could
 * scrape it). Exit status: 0 when the run finished (even with rejections), 1 for a bad option (as every commander
 * usage error), 2 for a configuration error (KAFKA_BROKERS unset, a bad environment variable), 3 when the source
 * failed, 4 when Kafka failed.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_BATCH_DELAY_MS, runIngest, type IngestSummary } from '../../actors/ingest/ingest-job.ts';
import { isValidCommodityId, normalizeGivenId } from '../../actors/ingest/commodity-id.ts';
import { SourceError, type RowSource } from '../../actors/ingest/raw-row.ts';
import { CsvSource } from '../../actors/ingest/sources/csv-source.ts';
import { HttpSource, type HttpFormat } from '../../actors/ingest/sources/http-source.ts';
import { SyntheticSource } from '../../actors/ingest/sources/synthetic-source.ts';
import { describeTableMismatch, EXAMPLES_PER_REASON, type RejectExample } from '../../actors/ingest/reject-report.ts';
import { parseDateMs, rejectReasonHelp, validationContext } from '../../actors/ingest/validate.ts';
import type { Kafka } from 'kafkajs';
import { kafkaFromConfig, prepareTopics } from '../../connectors/kafka/client.ts';
import { groupLag } from '../../connectors/kafka/group-lag.ts';
import { connectKafkaTickPublisher, DEFAULT_TICK_BATCH_SIZE, PublishError, type TickPublisher } from '../../connectors/kafka/tick-publisher.ts';
import { topicNames } from '../../connectors/kafka/topics.ts';
import { loadConfig, parseDurationMs } from '../../platform/config.ts';
import { logger } from '../../platform/logger.ts';
import { ingestTotal } from '../../platform/metrics.ts';
import { createProgress, type Progress } from '../../platform/progress.ts';
import { pushgatewayUrl, pushRunMetrics } from './train.ts';

const log = logger.child({ component: 'ingest' });

interface CommonOptions {
  from?: number;
  to?: number;
  dryRun?: boolean;
  batchSize: number;
  json?: boolean;
  /** Wait until the workers' consumer group has processed everything published, at most this long (ms). */
  wait?: number;
}

/** `YYYY-MM-DD` or `YYYY-MM`: the first millisecond of that day or month. */
function parseDay(value: string): number {
  const ms = parseDateMs(value);
  if (ms === undefined || !/^\d{4}-\d{2}(-\d{2})?$/.test(value.trim())) throw new InvalidArgumentError('expected a date YYYY-MM-DD (or YYYY-MM)');
  return ms;
}

/** Inclusive end: the last millisecond of that day or month. */
function parseDayEnd(value: string): number {
  const start = parseDay(value);
  const d = new Date(start);
  if (value.trim().length === 7) d.setUTCMonth(d.getUTCMonth() + 1);
  else d.setUTCDate(d.getUTCDate() + 1);
  return d.getTime() - 1;
}

/** `100000`, `100_000` or `100,000`. */
function parsePositiveInt(value: string): number {
  const digits = value.trim().replace(/[_,]/g, '');
  const n = Number(digits);
  if (!/^\d+$/.test(digits) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function parseNonNegativeInt(value: string): number {
  return value.trim() === '0' ? 0 : parsePositiveInt(value);
}

function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

/** `250ms`, `10s`, `5m`, `1h`, `1d`. */
function parseDuration(value: string): number {
  const days = /^\s*(\d+(?:\.\d+)?)\s*d\s*$/.exec(value);
  const ms = days ? Math.round(Number(days[1]) * 86_400_000) : parseDurationMs(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('expected a duration such as 500ms, 10s, 5m, 1h or 1d');
  return ms;
}

function parseCommodity(value: string): string {
  const id = normalizeGivenId(value);
  if (!isValidCommodityId(id)) throw new InvalidArgumentError('expected a commodity id: a letter, then letters, digits or _ (at most 32), e.g. WTI or HENRY_HUB');
  return id;
}

/** "now" is kept as such: the run starts a live feed at the moment it starts, on the wall clock. */
function parseStart(value: string): number | 'now' {
  if (value.trim() === 'now') return 'now';
  const ms = parseDateMs(value);
  if (ms === undefined) throw new InvalidArgumentError('expected "now", YYYY-MM-DD or an ISO time with a zone');
  return ms;
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--from <date>', 'only ticks at or after this day (YYYY-MM-DD, UTC); earlier rows are counted as filtered', parseDay)
    .option('--to <date>', 'only ticks up to the end of this day (YYYY-MM-DD, UTC); later rows are counted as filtered', parseDayEnd)
    .option('--dry-run', 'validate and count, publish nothing (no Kafka needed)')
    .option('--batch-size <n>', `ticks per produce request; a batch not full after ${DEFAULT_MAX_BATCH_DELAY_MS} ms is sent anyway`, parsePositiveInt, DEFAULT_TICK_BATCH_SIZE)
    .option('--json', 'print the summary as one JSON line on stdout')
    .addOption(
      new Option('--wait [seconds]', 'then wait until the workers (CARBON_CONSUMER_GROUP) have processed everything published, at most this long')
        .preset('600')
        .argParser(parseWaitMs),
    );
}

// commander hands the preset through the parser too, so a bare --wait is 600 s.
function parseWaitMs(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds > 0');
  return n * 1000;
}

/**
 * Waits until the consumer group's committed offsets reach the end of the prices topic (every tick published so
 * far is durable in the platform's stores, or dead-lettered), printing the lag as it falls. Throws after `ms`.
 */
async function waitForWorkers(kafka: Kafka, topic: string, groupId: string, ms: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + ms;
    let told = 0;
    for (;;) {
      const lag = (await groupLag(admin, topic, groupId)).reduce((n, p) => n + p.lag, 0);
      if (lag === 0) return;
      if (Date.now() > deadline) {
        throw new PublishError(`the consumer group ${groupId} still had ${lag} ticks of ${topic} to process after ${ms / 1000} s: is \`carbon start\` running with the same KAFKA_BROKERS and CARBON_CONSUMER_GROUP?`);
      }
      if (Date.now() - told >= 5_000) {
        log.info('ingest_waiting_for_workers', { group: groupId, ticksLeft: lag });
        told = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await admin.disconnect();
  }
}

const formatInt = (n: number): string => n.toLocaleString('en-US');

/** `file:line column "X": why`, one located reject (the detail quotes the refused value). */
function exampleLine(e: RejectExample): string {
  const column = e.column === undefined ? '' : ` column ${JSON.stringify(e.column)}`;
  return `    ${e.file}:${e.line}${column}: ${e.detail}`;
}

/**
 * The first rejects of each reason, located. Mismatched tables are told once above them, so their lines are not
 * repeated as examples.
 */
function exampleLines(examples: readonly RejectExample[]): string[] {
  const shown = examples.filter((e) => e.reason !== 'column_count_mismatch');
  if (shown.length === 0) return [];
  const out = [`  first rejects of each reason (at most ${EXAMPLES_PER_REASON}):`];
  for (const reason of new Set(shown.map((e) => e.reason))) {
    out.push(`   ${reason}`, ...shown.filter((e) => e.reason === reason).map(exampleLine));
  }
  return out;
}

function printSummary(summary: IngestSummary, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const reasons = Object.entries(summary.rejected).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${formatInt(n)}`);
  const lines = [
    `ingest ${summary.dryRun ? 'dry run ' : ''}finished: ${summary.source}`,
    `  ${summary.dryRun ? 'valid    ' : 'published'}  ${formatInt(summary.published)}`,
    `  rejected   ${formatInt(summary.rejectedTotal)}${reasons.length ? `  (${reasons.join(', ')})` : ''}`,
    `  filtered   ${formatInt(summary.filtered)}`,
    ...(summary.absent > 0 ? [`  absent     ${formatInt(summary.absent)}  (empty cells of wide files: no observation)`] : []),
    `  duration   ${(summary.durationMs / 1000).toFixed(1)} s`,
    ...summary.tableMismatches.map((m) => `  malformed table: ${describeTableMismatch(m)}`),
    ...exampleLines(summary.examples),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Runs one ingest from the parsed options; turns failures into a message and an exit status. */
async function ingest(makeSource: () => RowSource, options: CommonOptions & { unit?: string }): Promise<void> {
  let source: RowSource;
  try {
    source = makeSource();
  } catch (err) {
    throw fail(1, 'carbon.ingest.options', `carbon ingest: ${(err as Error).message}`, err);
  }
  const config = loadConfig();
  const pushTo = options.dryRun ? undefined : pushgatewayUrl();
  if (!options.dryRun && !config.kafkaBrokers) {
    throw fail(2, 'carbon.ingest.config', 'carbon ingest: KAFKA_BROKERS is not set (e.g. KAFKA_BROKERS=127.0.0.1:9092); use --dry-run to only validate', undefined);
  }
  let publisher: TickPublisher | undefined;
  let progress: Progress | undefined;
  try {
    if (!options.dryRun && config.kafkaBrokers) {
      const kafka = kafkaFromConfig(config);
      const topics = topicNames(config.kafka.topicPrefix);
      try {
        await prepareTopics(kafka, topics, config.kafka.topicPartitions);
      } catch (err) {
        throw new PublishError(`creating the topics on ${config.kafkaBrokers.join(',')} failed: ${(err as Error).message}`, { cause: err });
      }
      publisher = await connectKafkaTickPublisher(kafka, { topic: topics.prices, batchSize: options.batchSize, maxMessageBytes: config.pipeline.maxMessageBytes });
    }
    // Started once connected, so that connection logs do not cut through the bar.
    progress = createProgress({ label: 'ingest', unit: 'rows', total: source.expectedRows });
    const bar = progress;
    const summary = await runIngest({
      source,
      publisher,
      batchSize: options.batchSize,
      validation: validationContext({ nowMs: Date.now(), clock: Date.now, unit: options.unit, fromMs: options.from, toMs: options.to }),
      onBatch: (rows) => bar.add(rows),
    });
    await publisher?.close();
    publisher = undefined;
    progress.stop({ published: summary.published, rejected: summary.rejectedTotal });
    log.info('ingest_summary', { ...summary });
    printSummary(summary, options.json === true);
    if (options.wait !== undefined && !options.dryRun && config.kafkaBrokers) {
      await waitForWorkers(kafkaFromConfig(config), topicNames(config.kafka.topicPrefix).prices, config.kafka.groupId, options.wait);
      if (options.json !== true) process.stdout.write('  processed  every tick published is in the platform\'s stores\n');
    }
    await pushRunMetrics(pushTo, 'carbon-ingest', [ingestTotal]);
  } catch (err) {
    progress?.stop({ failed: true });
    if (publisher) {
      try {
        await publisher.close();
      } catch (closeErr) {
        log.warn('ingest_publisher_close_failed', { err: closeErr });
      }
    }
    if (err instanceof CommanderError) throw err;
    if (err instanceof SourceError) throw fail(3, 'carbon.ingest.source', `carbon ingest: source failed: ${err.message}`, err);
    if (err instanceof PublishError) throw fail(4, 'carbon.ingest.kafka', `carbon ingest: Kafka failed: ${err.message}`, err);
    throw err;
  }
}

/** Prints the message (carbon.ts exits with a CommanderError's code without printing it) and logs the cause. */
function fail(exitCode: number, code: string, message: string, cause: unknown): CommanderError {
  process.stderr.write(`${message}\n`);
  if (cause !== undefined) log.error('ingest_failed', { err: cause });
  return new CommanderError(exitCode, code, message);
}

/** `  reason   what it means`, one line per reject reason. */
function rejectReasonLines(): string {
  const entries = Object.entries(rejectReasonHelp);
  const width = Math.max(...entries.map(([reason]) => reason.length));
  return entries.map(([reason, meaning]) => `  ${reason.padEnd(width)}  ${meaning}`).join('\n');
}

export function registerIngestCommand(program: Command): void {
  const ingestCmd = program
    .command('ingest')
    .description('read prices from a source, validate them and publish PriceTicks to commodity-prices (rejects go to commodity-prices.dlq)')
    .addHelpText('after', `
Every row read ends up published, rejected to the DLQ with a reason, filtered (--from/--to) or, for empty
cells of wide files, counted as absent. Negative prices are data, and so is the epoch (1970-01-01). A
rejected row goes to the DLQ with its raw bytes and headers saying where it was (x-dlq-file, x-dlq-line,
x-dlq-column) and what was refused (x-dlq-reason, x-dlq-value, x-dlq-detail); the summary shows the first
${EXAMPLES_PER_REASON} of each reason, and a table whose lines disagree with its header once, with the counts.
Reasons:
${rejectReasonLines()}
Ticks leave in produce requests of --batch-size, or after ${DEFAULT_MAX_BATCH_DELAY_MS} ms when fewer came: a slow source
(a paced or live synthetic feed, a trickling HTTP body) publishes as it goes.
Re-running the same ingest publishes identical messages (same keys, values and timestamps), so downstream
upserts dedupe them.
Needs KAFKA_BROKERS unless --dry-run. With CARBON_PUSHGATEWAY_URL set, a finished run pushes its row counts
(carbon_ingest_ticks_total by outcome) to that Prometheus Pushgateway as job carbon-ingest.
Exit status: 0 finished (even with rejections), 1 bad option, 2 bad configuration (e.g. KAFKA_BROKERS unset
or a bad CARBON_PUSHGATEWAY_URL), 3 source failed, 4 Kafka failed.

Examples:
  KAFKA_BROKERS=127.0.0.1:9092 carbon ingest csv data
  carbon ingest csv data/wti-daily.csv --from 2020-01-01 --to 2020-12-31 --dry-run
  carbon ingest http https://example.org/prices.json --commodity WTI --timeout 5s --retries 2
  carbon ingest synthetic --seed 42 --commodities 10 --ticks 1000000 --interval 1m`);

  withCommonOptions(
    ingestCmd
      .command('csv')
      .description('ingest a CSV file, or every *.csv file of a folder')
      .argument('<path>', 'a CSV file or a folder of CSV files')
      .option('--commodity <id>', 'commodity id of a one-series file (default: from the file name, e.g. wti-daily.csv -> WTI)', parseCommodity)
      .option('--unit <unit>', 'unit of every price (default: known units: WTI/BRENT USD/barrel, HENRY_HUB USD/MMBtu, GOLD USD/troy oz)')
      .addHelpText('after', `
Layouts (from the header): Date,Price (one series; the commodity comes from --commodity or the file name),
Date,<series>,<series>,... (wide, e.g. the IMF file; each column name becomes an id, empty cells are absent),
and long files with Date, Price and Commodity columns. Dates: YYYY-MM-DD or YYYY-MM (UTC), or ISO times with a zone.

Examples:
  carbon ingest csv data/wti-daily.csv
  carbon ingest csv data --from 2024-01-01
  carbon ingest csv prices.csv --commodity BRENT --unit USD/barrel --dry-run`),
  ).action(async (path: string, opts: CommonOptions & { commodity?: string; unit?: string }) => {
    await ingest(() => new CsvSource(path, { commodity: opts.commodity }), opts);
  });

  withCommonOptions(
    ingestCmd
      .command('http')
      .description('ingest a CSV or JSON document fetched over HTTP(S)')
      .argument('<url>', 'URL returning CSV (any layout of `ingest csv`) or a JSON array of {date|ts, price, commodity?}')
      .addOption(new Option('--format <format>', 'body format (default: from Content-Type, the URL, or the first character)').choices(['csv', 'json']))
      .option('--commodity <id>', 'commodity id of every row (default: the row\'s commodity field, else the URL\'s file name)', parseCommodity)
      .option('--unit <unit>', 'unit of every price')
      .addOption(new Option('--timeout <duration>', 'per attempt: wait for the response, then between chunks of the body').argParser(parseDuration).default(10_000, '10s'))
      .option('--retries <n>', 'retries on 5xx, network errors and timeouts (exponential backoff from 500ms); never on 4xx', parseNonNegativeInt, 4)
      .addHelpText('after', `
Examples:
  carbon ingest http https://example.org/wti.csv --commodity WTI
  carbon ingest http 'https://example.org/api/prices?since=2024-01-01' --format json --timeout 30s --retries 6`),
  ).action(async (url: string, opts: CommonOptions & { format?: HttpFormat; commodity?: string; unit?: string; timeout: number; retries: number }) => {
    await ingest(() => new HttpSource(url, { format: opts.format, commodity: opts.commodity, timeoutMs: opts.timeout, retries: opts.retries }), opts);
  });

  withCommonOptions(
    ingestCmd
      .command('synthetic')
      .description('ingest seeded synthetic prices (random walks with drift, volatility regimes and gaps) for load tests and demos')
      .option('--seed <n>', 'seed: the same seed and options give the same ticks', parseNonNegativeInt, 42)
      .option('--commodities <n>', 'number of commodities, named SYN_001, SYN_002, ...', parsePositiveInt, 10)
      .option('--ticks <n>', 'ticks in total, over all commodities', parsePositiveInt, 100_000)
      .option('--rate <ticks/s>', 'pace the ticks at this rate, published as they come (default: as fast as possible)', parsePositiveNumber)
      .addOption(new Option('--start <date>', 'time of the first tick: YYYY-MM-DD, an ISO time, or "now" for a live feed on the wall clock').argParser(parseStart).default(Date.UTC(1990, 0, 1), '1990-01-01'))
      .addOption(new Option('--interval <duration>', 'time between two ticks of a commodity (e.g. 1d, 1h, 1m, 500ms)').argParser(parseDuration).default(86_400_000, '1d'))
      .addHelpText('after', `
Ticks must not be more than a day ahead of the clock (they would be rejected as future_timestamp): with the
defaults (10 commodities from 1990-01-01, one a day) 100,000 ticks end around 2017; use a shorter --interval
for more ticks.
Ticks leave in batches of --batch-size, or every ${DEFAULT_MAX_BATCH_DELAY_MS} ms when fewer came, so a paced run (--rate)
publishes as it goes. With --start now each tick is stamped when it is read, on the --interval grid, and never
ahead of the clock: a commodity gets at most one tick per interval, so the rate is at most
commodities / interval (10 commodities at 1s: 10 ticks/s).

Examples:
  carbon ingest synthetic --seed 7 --commodities 50 --ticks 1000000 --interval 1m --start 2024-01-01
  carbon ingest synthetic --start now --interval 1s --rate 10 --ticks 36000   # a live feed, 10 ticks/s for an hour`),
  ).action(async (opts: CommonOptions & { seed: number; commodities: number; ticks: number; rate?: number; start: number | 'now'; interval: number }) => {
    await ingest(() => new SyntheticSource({
      seed: opts.seed,
      commodities: opts.commodities,
      ticks: opts.ticks,
      ratePerS: opts.rate,
      startMs: opts.start === 'now' ? Date.now() : opts.start,
      intervalMs: opts.interval,
      live: opts.start === 'now',
    }), opts);
  });
}
