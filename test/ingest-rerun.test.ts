/**
 * Re-running the same ingest publishes identical messages (keys, values, timestamps), so downstream upserts
 * dedupe replays; and every commodity lands in the partition that partitionOf() names.
 */
import { join } from 'node:path';
import test from 'ava';
import { CsvSource } from '../actors/ingest/sources/csv-source.ts';
import { SyntheticSource } from '../actors/ingest/sources/synthetic-source.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { tickProducerConfig } from '../connectors/kafka/tick-publisher.ts';
import { partitionOf } from '../connectors/partitioner.ts';
import { ingestInto, readTopic, type ReadMessage } from './ingest-kafka-helpers.ts';
import { freshTopics, KAFKA_BROKERS } from './services.ts';

const PARTITIONS = 12;
const synthetic = { seed: 7, commodities: 50, ticks: 20_000, startMs: Date.UTC(2024, 0, 1), intervalMs: 60_000 };
const gold = join(import.meta.dirname, '..', 'data', 'gold-monthly.csv');

const record = (m: ReadMessage) => ({ key: m.key, value: m.value.toString('base64'), timestamp: m.timestamp, contentType: m.headers['content-type'] });

test('the same ingest run twice publishes the same messages twice, in the same partitions and order', async (t) => {
  const { topics } = await freshTopics(t, PARTITIONS);
  const first = await ingestInto(topics.prices, new SyntheticSource(synthetic));
  await ingestInto(topics.prices, new CsvSource(gold));
  const second = await ingestInto(topics.prices, new SyntheticSource(synthetic));
  await ingestInto(topics.prices, new CsvSource(gold));
  t.is(first.published, synthetic.ticks);
  t.is(second.published, synthetic.ticks);

  const messages = await readTopic(topics.prices);
  t.is(messages.length, 2 * (synthetic.ticks + 2_304));
  for (let p = 0; p < PARTITIONS; p++) {
    const inPartition = messages.filter((m) => m.partition === p);
    const half = inPartition.length / 2;
    t.true(Number.isInteger(half));
    // Each partition holds run 1 then run 2 (synthetic then gold, in both runs): its halves are identical.
    t.deepEqual(inPartition.slice(half).map(record), inPartition.slice(0, half).map(record), `partition ${p}`);
  }
  const misplaced = messages.filter((m) => m.partition !== partitionOf(m.key ?? '', PARTITIONS));
  t.deepEqual(misplaced.map((m) => `${m.key}@${m.partition}`), []);
  t.true(new Set(messages.map((m) => m.partition)).size > 6, 'keys spread over the partitions');
});

test('kafkajs\'s own DefaultPartitioner puts every key where partitionOf says (the publisher relies on it)', async (t) => {
  const { topics } = await freshTopics(t, PARTITIONS);
  const producer = createKafka(KAFKA_BROKERS, 'carbon-test').producer(tickProducerConfig);
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const keys = [...Array.from({ length: 300 }, (_, i) => `SYN_${String(i + 1).padStart(3, '0')}`), 'WTI', 'BRENT', 'HENRY_HUB', 'GOLD', 'CRUDE_OIL_PETROLEUM_DATED_BRENT'];
  // Keys only: kafkajs's partitioner places each message (idempotent, so a retried send under load adds no copy).
  await producer.send({ topic: topics.prices, messages: keys.map((key) => ({ key, value: key })) });
  const messages = await readTopic(topics.prices);
  t.is(messages.length, keys.length);
  t.deepEqual(messages.filter((m) => m.partition !== partitionOf(m.key ?? '', PARTITIONS)).map((m) => `${m.key}@${m.partition}`), []);
  t.is(new Set(messages.map((m) => m.partition)).size, PARTITIONS);
});
