/**
 * One ingest run: rows from a source, each validated into a tick or a rejection, ticks published in batches,
 * rejections sent to the DLQ with their raw bytes. Nothing is dropped silently: every row read is counted as
 * published, rejected (by reason), filtered (--from/--to) or absent (an empty cell of a wide file).
 * I/O stays at the edges: the source and the publisher are passed in (a dry run has no publisher).
 */
import type { RejectedRow, TickPublisher } from '../../connectors/kafka/tick-publisher.ts';
import { ingestTotal } from '../../platform/metrics.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import { logger } from '../../platform/logger.ts';
import { SourceError, type RawRow, type RowSource } from './raw-row.ts';
import { RejectReporter, type RejectExample, type TableMismatch } from './reject-report.ts';
import { rejectReasons, validateRow, type RejectReason, type ValidationContext } from './validate.ts';

export interface IngestSummary {
  readonly source: string;
  readonly dryRun: boolean;
  /** Ticks acknowledged by the broker (in a dry run: ticks that would have been published). */
  readonly published: number;
  readonly rejected: Readonly<Record<RejectReason, number>>;
  readonly rejectedTotal: number;
  readonly filtered: number;
  readonly absent: number;
  readonly durationMs: number;
  /** The first few rejected rows of each reason, located. */
  readonly examples: readonly RejectExample[];
  /** Tables whose lines disagree with their header, once per file. */
  readonly tableMismatches: readonly TableMismatch[];
}

/** Counts so far, for progress reports. */
export interface IngestProgress {
  readonly rows: number;
  readonly published: number;
  readonly rejected: number;
  readonly filtered: number;
}

export interface IngestJobOptions {
  readonly source: RowSource;
  /** Undefined for a dry run: validate and count, publish nothing. */
  readonly publisher: TickPublisher | undefined;
  readonly validation: ValidationContext;
  /** Rows handed to the publisher at once; default 5,000. */
  readonly batchSize?: number;
  /**
   * Longest a row waits in a batch that is not full: then the batch is handed over and sent (flushed) anyway, so
   * that a slow source (a paced live feed) publishes as it goes rather than once per full batch. Default 250 ms.
   */
  readonly maxBatchDelayMs?: number;
  /** Called after every batch with the rows handled in it. */
  readonly onBatch?: (rows: number, totals: IngestProgress) => void;
}

export const DEFAULT_MAX_BATCH_DELAY_MS = 250;

interface Batch {
  readonly ticks: PriceTick[];
  readonly rejects: RejectedRow[];
  readonly rows: number;
}

export async function runIngest(options: IngestJobOptions): Promise<IngestSummary> {
  const { source, publisher, validation: ctx } = options;
  const batchSize = options.batchSize ?? 5_000;
  const maxBatchDelayMs = options.maxBatchDelayMs ?? DEFAULT_MAX_BATCH_DELAY_MS;
  const startedMs = performance.now();
  const rejected = Object.fromEntries(rejectReasons.map((r) => [r, 0])) as Record<RejectReason, number>;
  let ticks: PriceTick[] = [];
  let rejects: RejectedRow[] = [];
  let rows = 0;
  let rowsInBatch = 0;
  let accepted = 0;
  let rejectedTotal = 0;
  let filtered = 0;
  const reporter = new RejectReporter();

  const totals = (): IngestProgress => ({ rows, published: accepted, rejected: rejectedTotal, filtered });
  const takeBatch = (): Batch => {
    const batch = { ticks, rejects, rows: rowsInBatch };
    ticks = [];
    rejects = [];
    rowsInBatch = 0;
    return batch;
  };
  const deliver = async (batch: Batch, flush: boolean): Promise<void> => {
    if (batch.ticks.length > 0) {
      if (publisher) await publisher.publish(batch.ticks);
      ingestTotal.inc({ outcome: 'published' }, batch.ticks.length);
    }
    if (batch.rejects.length > 0) {
      if (publisher) await publisher.reject(batch.rejects);
      ingestTotal.inc({ outcome: 'rejected' }, batch.rejects.length);
    }
    if (flush && publisher) await publisher.flush();
    options.onBatch?.(batch.rows, totals());
  };

  // Deliveries run one after the other, whether a full batch or the timer started them: the publisher sees
  // batches in row order and never two calls at once. The first failure stops the run.
  let deliveries: Promise<void> = Promise.resolve();
  let failure: { readonly err: unknown } | undefined;
  const enqueue = (batch: Batch, flush: boolean): Promise<void> => {
    deliveries = deliveries.then(async () => {
      if (failure) return;
      try {
        await deliver(batch, flush);
      } catch (err) {
        failure = { err };
      }
    });
    return deliveries;
  };
  const throwIfFailed = (): void => {
    if (failure) throw failure.err;
  };
  let timer: NodeJS.Timeout | undefined;
  const stopTimer = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };

  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<RawRow>;
      try {
        next = await iterator.next();
      } catch (err) {
        if (err instanceof SourceError) throw err;
        throw new SourceError(`${source.description}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      throwIfFailed();
      if (next.done) break;
      const row = next.value;
      rows++;
      rowsInBatch++;
      reporter.read(row);
      const verdict = validateRow(row, ctx);
      if (verdict.ok) {
        ticks.push(verdict.tick);
        accepted++;
      } else if (verdict.filtered) {
        filtered++;
      } else {
        rejected[verdict.reason]++;
        rejectedTotal++;
        reporter.rejected(row, verdict.reason, verdict.value, verdict.detail);
        rejects.push({
          raw: row.raw,
          rawSizeBytes: row.rawSizeBytes,
          reason: verdict.reason,
          detail: verdict.detail,
          commodity: verdict.commodity,
          origin: `${row.origin} line ${row.lineNo}${row.column === undefined ? '' : ` column ${JSON.stringify(row.column)}`}`,
          location: { file: row.file, line: row.lineNo, column: row.column },
          value: verdict.value,
          contentType: row.rawType ?? 'text/csv',
        });
      }
      if (rowsInBatch >= batchSize) {
        stopTimer();
        await enqueue(takeBatch(), false);
        throwIfFailed();
      } else if (timer === undefined) {
        // One timer per batch, not per row: a fast source fills its batches long before it fires.
        timer = setTimeout(() => {
          timer = undefined;
          if (rowsInBatch > 0) void enqueue(takeBatch(), true);
        }, maxBatchDelayMs);
      }
    }
  } catch (err) {
    stopTimer();
    await deliveries;
    await closeQuietly(iterator, source.description);
    throw err;
  }
  stopTimer();
  await enqueue(takeBatch(), false);
  throwIfFailed();
  if (filtered > 0) ingestTotal.inc({ outcome: 'filtered' }, filtered);
  if (publisher) await publisher.flush();
  const { examples, tableMismatches } = reporter.report();
  return {
    source: source.description,
    dryRun: publisher === undefined,
    published: accepted,
    rejected,
    rejectedTotal,
    filtered,
    absent: source.absentCells(),
    durationMs: Math.round(performance.now() - startedMs),
    examples,
    tableMismatches,
  };
}

/** Stops the source after a publishing failure; a failure to close is logged, the publishing one is what is thrown. */
async function closeQuietly(iterator: AsyncIterator<RawRow>, description: string): Promise<void> {
  try {
    await iterator.return?.();
  } catch (err) {
    logger.warn('ingest_source_close_failed', { source: description, err });
  }
}
