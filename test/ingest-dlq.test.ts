/**
 * The DLQ writer shared by ingest and the workers, against the real broker: original bytes, reason headers,
 * source partition and offset when known, values cut to the size limit with the original size said, and the
 * carbon_dlq_total counter.
 */
import test from 'ava';
import { createKafka } from '../connectors/kafka/client.ts';
import { DlqWriter, dlqHeaders } from '../connectors/kafka/dlq.ts';
import { dlqOf } from '../connectors/kafka/topics.ts';
import { tickProducerConfig } from '../connectors/kafka/tick-publisher.ts';
import { dlqTotal } from '../platform/metrics.ts';
import { readTopic } from './ingest-kafka-helpers.ts';
import { KAFKA_BROKERS, freshTopics } from './services.ts';

async function counted(topic: string, reason: string): Promise<number> {
  const metric = await dlqTotal.get();
  return metric.values.find((v) => v.labels.topic === topic && v.labels.reason === reason)?.value ?? 0;
}

test('records reach <topic>.dlq with their original bytes and why, in batches, and are counted', async (t) => {
  const { topics } = await freshTopics(t, 3);
  const producer = createKafka(KAFKA_BROKERS, 'carbon-test').producer(tickProducerConfig);
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const dlq = dlqOf(topics.prices);
  const before = await counted(dlq, 'poison_message');
  const writer = new DlqWriter(producer, { batchSize: 2, maxValueBytes: 100 });

  const poison = Buffer.from([0x0a, 0xff, 0x00, 0x13]);
  await writer.write([
    { sourceTopic: topics.prices, value: poison, reason: 'poison_message', detail: 'crashed 3 times', key: 'WTI', partition: 2, offset: '41', contentType: 'application/x-protobuf' },
    { sourceTopic: topics.prices, value: 'y'.repeat(250), reason: 'oversized_row', detail: 'too long', origin: 'csv:x.csv line 3' },
    { sourceTopic: topics.prices, value: 'z'.repeat(10), originalSizeBytes: 70_000, reason: 'oversized_row', detail: 'cut by the reader' },
  ]);
  await writer.flush();

  const records = await readTopic(dlq);
  t.is(records.length, 3);
  const byReason = (r: string) => records.filter((m) => m.headers[dlqHeaders.reason] === r);
  const [p] = byReason('poison_message');
  t.deepEqual(p?.value, poison);
  t.is(p?.key, 'WTI');
  t.like(p?.headers, { [dlqHeaders.detail]: 'crashed 3 times', [dlqHeaders.sourceTopic]: topics.prices, [dlqHeaders.sourcePartition]: '2', [dlqHeaders.sourceOffset]: '41', 'content-type': 'application/x-protobuf' });
  const oversized = byReason('oversized_row').sort((a, b) => b.value.length - a.value.length);
  t.is(oversized[0]?.value.toString(), 'y'.repeat(100));
  t.is(oversized[0]?.headers[dlqHeaders.originalBytes], '250');
  t.is(oversized[0]?.headers[dlqHeaders.origin], 'csv:x.csv line 3');
  t.is(oversized[0]?.key, null);
  t.is(oversized[1]?.value.toString(), 'z'.repeat(10));
  t.is(oversized[1]?.headers[dlqHeaders.originalBytes], '70000');
  t.is(await counted(dlq, 'poison_message'), before + 1);
  t.is(await counted(dlq, 'oversized_row'), 2);
});
