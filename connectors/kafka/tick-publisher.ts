/**
 * Where validated ticks and rejected rows go. `TickPublisher` is the port the ingest job writes to; the Kafka
 * implementation here publishes PriceTick protobuf to `commodity-prices` and rejects to its DLQ. The embedded mode
 * provides its own implementation of the same interface.
 */
import { Partitioners, type Kafka, type Message, type Producer, type ProducerConfig } from 'kafkajs';
import { PriceTickEncoder } from './price-tick-encoder.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import { partitionOf } from '../partitioner.ts';
import { DlqWriter, type DlqRecord, type RowLocation } from './dlq.ts';
import { contentTypes } from './topics.ts';

/** A row that validation refused, with the bytes the source gave. */
export interface RejectedRow {
  readonly raw: string;
  /** Size of the original row when `raw` holds only its beginning. */
  readonly rawSizeBytes?: number | undefined;
  readonly reason: string;
  readonly detail: string;
  /** Commodity id when validation got that far; the DLQ key. */
  readonly commodity: string | undefined;
  /** `csv:wti-daily.csv line 12`. */
  readonly origin: string;
  readonly location: RowLocation;
  /** The refused value as read. */
  readonly value: string;
  /** `text/csv` or `application/json`: what the raw bytes are. */
  readonly contentType?: string | undefined;
}

/** The DLQ record of a rejected row meant for `sourceTopic`: every TickPublisher dead-letters rows the same way. */
export function rejectedRowRecord(r: RejectedRow, sourceTopic: string): DlqRecord {
  return {
    sourceTopic,
    value: r.raw,
    originalSizeBytes: r.rawSizeBytes,
    reason: r.reason,
    detail: r.detail,
    key: r.commodity,
    origin: r.origin,
    location: r.location,
    offendingValue: r.value,
    contentType: r.contentType,
  };
}

export interface TickPublisher {
  /** Accepts ticks for publishing, in order; resolves once they are queued (durable only after flush()). */
  publish(ticks: readonly PriceTick[]): Promise<void>;
  /** Accepts rejected rows for the DLQ; durable after flush(). */
  reject(rows: readonly RejectedRow[]): Promise<void>;
  /** Resolves when everything accepted so far is acknowledged by the broker; throws the first send failure. */
  flush(): Promise<void>;
  /** Flushes and releases the connection. */
  close(): Promise<void>;
}

/** A Kafka send failed (after kafkajs's own retries): the run stops with this message. */
export class PublishError extends Error {
  override readonly name = 'PublishError';
  readonly code = 'INGEST_KAFKA_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Producer settings of ingest (the ingest benchmark's bare producer uses the same). Idempotent: the broker drops
 * the duplicates of a retried batch, so a network blip cannot double a tick. kafkajs requires acks=all for it,
 * and, as KIP-98 for the Java client, at most one request in flight per broker connection: kafkajs serialises the
 * produce requests of an idempotent producer per broker anyway (a broker lock around each sequence number range).
 * Throughput therefore comes from large batches, prepared while the previous one is on the wire.
 * The partitioner is kafkajs's DefaultPartitioner (murmur2 of the key, as the Java client): do not change it,
 * the gateway computes the owner of a commodity with partitionOf() (connectors/partitioner.ts), the same function.
 */
export const tickProducerConfig: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false,
};

/** Messages per produce request. */
export const DEFAULT_TICK_BATCH_SIZE = 5_000;

const protobufHeaders = Object.freeze({ 'content-type': contentTypes.protobuf });

export interface KafkaTickPublisherOptions {
  /** The prices topic (its DLQ is dlqOf(topic)). */
  readonly topic: string;
  readonly batchSize?: number;
  /** Largest DLQ value; longer raw rows are cut. */
  readonly maxMessageBytes: number;
  /**
   * Partition count of the topic, when known: messages then carry their partition, computed once per commodity
   * with partitionOf() (the DefaultPartitioner itself), which spares kafkajs a murmur2 per message. Same
   * placement either way; without it kafkajs's DefaultPartitioner places each message.
   */
  readonly partitions?: number | undefined;
}

export class KafkaTickPublisher implements TickPublisher {
  private readonly encoder = new PriceTickEncoder();
  private readonly keys = new Map<string, { readonly key: Buffer; readonly partition: number | undefined }>();
  private readonly dlq: DlqWriter;
  private readonly batchSize: number;
  private batch: Message[] = [];
  /** Sends chained one after the other (per-key order); each promise settles without throwing. */
  private sends: Array<Promise<void>> = [];
  private tail: Promise<void> = Promise.resolve();
  private failure: PublishError | undefined;
  private closed = false;

  constructor(private readonly producer: Producer, private readonly options: KafkaTickPublisherOptions) {
    this.batchSize = options.batchSize ?? DEFAULT_TICK_BATCH_SIZE;
    this.dlq = new DlqWriter(producer, { maxValueBytes: options.maxMessageBytes });
  }

  private keyOf(commodity: string): { readonly key: Buffer; readonly partition: number | undefined } {
    let entry = this.keys.get(commodity);
    if (entry === undefined) {
      const partitions = this.options.partitions;
      entry = { key: Buffer.from(commodity, 'utf8'), partition: partitions === undefined ? undefined : partitionOf(commodity, partitions) };
      this.keys.set(commodity, entry);
    }
    return entry;
  }

  async publish(ticks: readonly PriceTick[]): Promise<void> {
    this.throwIfFailed();
    for (const tick of ticks) {
      // Message time = tick time, so that a re-run produces identical records.
      const { key, partition } = this.keyOf(tick.commodity);
      this.batch.push({ key, partition, value: this.encoder.encode(tick), timestamp: String(tick.tsMs), headers: protobufHeaders });
      if (this.batch.length >= this.batchSize) await this.dispatch();
    }
  }

  async reject(rows: readonly RejectedRow[]): Promise<void> {
    this.throwIfFailed();
    try {
      await this.dlq.write(rows.map((r) => rejectedRowRecord(r, this.options.topic)));
    } catch (err) {
      throw this.fail(err, 'writing to the DLQ');
    }
  }

  /**
   * Queues the current batch behind the previous send, then waits for that previous one: so one batch is on the
   * wire while the caller prepares the next, and memory stays bounded to two batches.
   */
  private async dispatch(): Promise<void> {
    if (this.batch.length === 0) return;
    const messages = this.batch;
    this.batch = [];
    const topic = this.options.topic;
    const send = this.tail.then(async () => {
      if (this.failure) return;
      try {
        await this.producer.send({ topic, messages, acks: -1 });
      } catch (err) {
        this.fail(err, `publishing ${messages.length} ticks to ${topic}`);
      }
    });
    this.tail = send;
    this.sends.push(send);
    while (this.sends.length > 1) await this.sends.shift();
    this.throwIfFailed();
  }

  async flush(): Promise<void> {
    await this.dispatch();
    await this.tail;
    this.sends = [];
    this.throwIfFailed();
    try {
      await this.dlq.flush();
    } catch (err) {
      throw this.fail(err, 'writing to the DLQ');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.failure) await this.flush();
    } finally {
      await this.producer.disconnect();
    }
  }

  private fail(err: unknown, doing: string): PublishError {
    let message = err instanceof Error ? err.message : String(err);
    if (/timestamp of the message is out of acceptable range/i.test(message)) {
      message += ' (a tick time is further ahead than the topic\'s message.timestamp.after.max.ms allows, 1 h by default in Kafka 4)';
    }
    this.failure ??= new PublishError(`${doing} failed: ${message}`, { cause: err });
    return this.failure;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

/** The partition count of an existing topic, as the broker reports it. */
export async function partitionCountOf(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = topics[0]?.partitions.length ?? 0;
    if (count < 1) throw new Error(`topic ${topic} has no partitions`);
    return count;
  } finally {
    await admin.disconnect();
  }
}

/** Connects an idempotent producer and wraps it (reading the topic's partition count); the caller closes it. */
export async function connectKafkaTickPublisher(kafka: Kafka, options: KafkaTickPublisherOptions): Promise<KafkaTickPublisher> {
  const producer = kafka.producer(tickProducerConfig);
  let partitions = options.partitions;
  try {
    partitions ??= await partitionCountOf(kafka, options.topic);
    await producer.connect();
  } catch (err) {
    throw new PublishError(`connecting the producer failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return new KafkaTickPublisher(producer, { ...options, partitions });
}
