/**
 * Dead-letter writer: rejected messages go to `<topic>.dlq` with their ORIGINAL bytes (for ingest, the raw row)
 * and headers saying why, so that an operator can fix and replay them. Shared by ingest and the workers.
 * Records are batched; `flush()` makes them durable. Every record sent is counted in carbon_dlq_total.
 */
import type { Message, Producer } from 'kafkajs';
import { logger } from '../../platform/logger.ts';
import { dlqTotal } from '../../platform/metrics.ts';
import { dlqOf } from './topics.ts';

/** Where a rejected row was in its source: the file or URL as given, its 1-based line (CSV) or element (JSON), the column of a wide file. */
export interface RowLocation {
  readonly file: string;
  readonly line: number;
  readonly column?: string | undefined;
}

export interface DlqRecord {
  /** Topic the record was meant for (ingest) or read from (workers); the DLQ is dlqOf(sourceTopic). */
  readonly sourceTopic: string;
  /** The original bytes, as received. */
  readonly value: Buffer | string;
  /** Stable reason code, e.g. `unparseable_date`, `poison_message`. */
  readonly reason: string;
  /** Human explanation, e.g. which field and value. */
  readonly detail: string;
  /** Commodity id when known: the DLQ message key, so a commodity's rejects stay together and in order. */
  readonly key?: string | undefined;
  /** Where the original came from when it was not a Kafka message, e.g. `csv:wti-daily.csv line 12`. */
  readonly origin?: string | undefined;
  /** The same, as fields an operator can filter on (ingest's rejected rows). */
  readonly location?: RowLocation | undefined;
  /** The value that was refused, as read (a date, a price, a commodity id...). */
  readonly offendingValue?: string | undefined;
  readonly partition?: number | undefined;
  readonly offset?: string | undefined;
  /** Size of the original when `value` holds only its beginning (a line cut short by the reader). */
  readonly originalSizeBytes?: number | undefined;
  /** Content type of the original bytes (`text/csv`, `application/json`, `application/x-protobuf`). */
  readonly contentType?: string | undefined;
}

export const dlqHeaders = {
  reason: 'x-dlq-reason',
  detail: 'x-dlq-detail',
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
  origin: 'x-dlq-origin',
  file: 'x-dlq-file',
  line: 'x-dlq-line',
  column: 'x-dlq-column',
  value: 'x-dlq-value',
  originalBytes: 'x-dlq-original-bytes',
} as const;

export interface DlqWriterOptions {
  /** Records buffered before a send; default 500. */
  readonly batchSize?: number;
  /** Values longer than this are cut to it (the broker would refuse the whole batch), with the original size in a header. */
  readonly maxValueBytes: number;
}

const log = logger.child({ component: 'dlq' });

/** Headers are latin-1 safe strings in practice; keep them short so a huge detail cannot bloat the record. */
function headerText(text: string): string {
  return text.length <= 1_000 ? text : `${text.slice(0, 997)}...`;
}

/** A DLQ message: the DLQ topic, the original bytes (cut to `maxValueBytes`), the reason headers. */
export interface DlqMessage {
  readonly topic: string;
  readonly key: string | null;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

/** The one place a DLQ record becomes a message: the Kafka writer and the in-process bus both use it. */
export function dlqMessage(r: DlqRecord, maxValueBytes: number): DlqMessage {
  let value = typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : r.value;
  const headers: Record<string, string> = {
    [dlqHeaders.reason]: r.reason,
    [dlqHeaders.detail]: headerText(r.detail),
    [dlqHeaders.sourceTopic]: r.sourceTopic,
  };
  if (r.partition !== undefined) headers[dlqHeaders.sourcePartition] = String(r.partition);
  if (r.offset !== undefined) headers[dlqHeaders.sourceOffset] = r.offset;
  if (r.origin !== undefined) headers[dlqHeaders.origin] = headerText(r.origin);
  if (r.location !== undefined) {
    headers[dlqHeaders.file] = headerText(r.location.file);
    headers[dlqHeaders.line] = String(r.location.line);
    if (r.location.column !== undefined) headers[dlqHeaders.column] = headerText(r.location.column);
  }
  if (r.offendingValue !== undefined) headers[dlqHeaders.value] = headerText(r.offendingValue);
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  const originalBytes = Math.max(value.length, r.originalSizeBytes ?? 0);
  if (value.length > maxValueBytes) value = value.subarray(0, maxValueBytes);
  if (originalBytes > value.length) headers[dlqHeaders.originalBytes] = String(originalBytes);
  return { topic: dlqOf(r.sourceTopic), key: r.key ?? null, value, headers };
}

export class DlqWriter {
  private pending: Array<{ topic: string; reason: string; message: Message }> = [];
  private readonly batchSize: number;

  constructor(private readonly producer: Producer, private readonly options: DlqWriterOptions) {
    this.batchSize = options.batchSize ?? 500;
  }

  /** Buffers records; sends a batch when enough are buffered. Resolves when they are buffered or sent. */
  async write(records: readonly DlqRecord[]): Promise<void> {
    for (const r of records) this.pending.push(this.toMessage(r));
    if (this.pending.length >= this.batchSize) await this.flush();
  }

  /**
   * Sends everything buffered; resolves when the broker has acknowledged it (acks=all). Flushes run one after
   * another: two at once would both send the records buffered before either removed them.
   */
  flush(): Promise<void> {
    const run = this.flushing.catch(() => undefined).then(() => this.sendPending());
    this.flushing = run;
    return run;
  }

  private flushing: Promise<void> = Promise.resolve();

  private async sendPending(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.batchSize);
      const byTopic = new Map<string, Message[]>();
      for (const { topic, message } of batch) {
        const list = byTopic.get(topic);
        if (list) list.push(message);
        else byTopic.set(topic, [message]);
      }
      await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      this.pending = this.pending.slice(batch.length);
      for (const { topic, reason } of batch) dlqTotal.inc({ topic, reason });
      log.debug('dlq_sent', { records: batch.length });
    }
  }

  private toMessage(r: DlqRecord): { topic: string; reason: string; message: Message } {
    const m = dlqMessage(r, this.options.maxValueBytes);
    return { topic: m.topic, reason: r.reason, message: { key: m.key, value: m.value, headers: m.headers } };
  }
}
