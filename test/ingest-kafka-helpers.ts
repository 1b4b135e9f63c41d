/**
 * Helpers of the ingest integration tests: run an ingest into fresh topics on the real broker, and read a topic
 * back completely (up to the high watermarks seen once producing is over), with a bounded wait.
 */
import type { IHeaders } from 'kafkajs';
import { runIngest, type IngestSummary } from '../actors/ingest/ingest-job.ts';
import type { RowSource } from '../actors/ingest/raw-row.ts';
import { validationContext, type ValidationContext } from '../actors/ingest/validate.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { connectKafkaTickPublisher } from '../connectors/kafka/tick-publisher.ts';
import { KAFKA_BROKERS, uniqueName } from './services.ts';

export interface ReadMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer;
  readonly timestamp: string;
  readonly headers: Readonly<Record<string, string>>;
}

export async function ingestInto(topic: string, source: RowSource, validation: ValidationContext = validationContext({ nowMs: Date.now() }), batchSize = 1_000): Promise<IngestSummary> {
  const publisher = await connectKafkaTickPublisher(createKafka(KAFKA_BROKERS, 'carbon-test'), { topic, batchSize, maxMessageBytes: 64 * 1024 });
  try {
    return await runIngest({ source, publisher, validation, batchSize });
  } finally {
    await publisher.close();
  }
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  return out;
}

/**
 * Every message of the topic, by partition then offset, as a subscriber reading with isolation.level=read_committed
 * sees it (kafkajs's default): read up to the end offsets found first. Offsets are not a count of messages on a
 * topic written in transactions (each commit leaves a control record, aborted messages are skipped), so the end is
 * reached when every partition's consumed offset reaches its end offset.
 */
export async function readTopic(topic: string, timeoutMs = 60_000, brokers: readonly string[] = KAFKA_BROKERS): Promise<ReadMessage[]> {
  const kafka = createKafka(brokers, 'carbon-test');
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, number>();
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) if (Number(p.high) > Number(p.low)) ends.set(p.partition, Number(p.high));
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return [];
  const consumer = kafka.consumer({ groupId: uniqueName('ingest-test'), sessionTimeout: 6_000, heartbeatInterval: 500 });
  const got: ReadMessage[] = [];
  const reached = new Set<number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${got.length} messages of ${topic}, ${reached.size} of ${ends.size} partitions to their end, within ${timeoutMs} ms`)), timeoutMs);
      // Told of every batch, including those of control records alone, which never reach eachBatch.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (Number(payload.lastOffset) + 1 >= (ends.get(payload.partition) ?? 0)) reached.add(payload.partition);
        if (reached.size === ends.size) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              got.push({ partition: batch.partition, offset: m.offset, key: m.key?.toString() ?? null, value: m.value ?? Buffer.alloc(0), timestamp: m.timestamp, headers: headerStrings(m.headers) });
            }
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return got.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}
