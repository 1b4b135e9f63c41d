/**
 * The consumer group and the partition writers against the real broker: the errors it really answers with and
 * how they are classified, fencing of a stale writer, a member that rejoins after an eviction, the removal of a
 * dead member on its behalf, and the sticky assignment.
 */
import test from 'ava';
import type { Consumer } from 'kafkajs';
import { createKafka } from '../connectors/kafka/client.ts';
import { classifyCommitError, PartitionCommitError } from '../connectors/kafka/commit-errors.ts';
import { groupMembers } from '../connectors/kafka/group-members.ts';
import { transactionalWriters } from '../connectors/kafka/partition-writers.ts';
import { startPriceConsumer, type ConsumerListener, type FetchedBatch } from '../connectors/kafka/price-consumer.ts';
import { createLogger } from '../platform/logger.ts';
import { eventually } from './eventually.ts';
import { readTopic } from './ingest-kafka-helpers.ts';
import { freshTopics, KAFKA_BROKERS, uniqueName } from './services.ts';

const quiet = createLogger({}, () => undefined);
const kafka = () => createKafka(KAFKA_BROKERS, 'carbon-test-group');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function publish(topic: string, count: number): Promise<void> {
  const producer = kafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ key: `K${i % 7}`, value: String(i) })) });
  } finally {
    await producer.disconnect();
  }
}

test('a member that stalled past its session timeout and then commits gets the broker\'s UNKNOWN_MEMBER_ID wrapped by kafkajs without a type: classified as ownership lost', async (t) => {
  const { topics } = await freshTopics(t, 2);
  await publish(topics.prices, 4);
  const consumer: Consumer = kafka().consumer({ groupId: uniqueName('stall'), sessionTimeout: 1_500, heartbeatInterval: 300 });
  t.teardown(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic: topics.prices, fromBeginning: true });
  let caught: unknown;
  let stalled = false;
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (stalled) return;
      stalled = true;
      // No heartbeat for more than the session timeout: the coordinator evicts the member.
      await sleep(4_000);
      try {
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: '1' }]);
      } catch (err) {
        caught = err;
      }
    },
  });
  await eventually(() => caught !== undefined, { what: 'the stale commit to fail', timeoutMs: 20_000, intervalMs: 50 });
  const err = caught as { name?: string; type?: string; cause?: { type?: string } };
  t.is(err.name, 'KafkaJSNonRetriableError');
  t.is(err.type, undefined, 'the wrapper carries no type of its own');
  t.is(err.cause?.type, 'UNKNOWN_MEMBER_ID');
  t.is(classifyCommitError(caught), 'ownership_lost');
});

test('opening a second writer of a partition fences the first: its commit fails as ownership lost, a read_committed subscriber sees only the second writer\'s messages, and the committed offset is the second\'s', async (t) => {
  const { topics } = await freshTopics(t, 2);
  const groupId = uniqueName('fence');
  const writers = () => transactionalWriters({ kafka: kafka(), groupId, topic: topics.prices, transactionTimeoutMs: 10_000, log: quiet });
  const [zombieWriters, ownerWriters] = [writers(), writers()];
  t.teardown(() => Promise.all([zombieWriters.close(), ownerWriters.close()]).then(() => undefined));
  const message = (value: string) => [{ topic: topics.predictions, messages: [{ key: 'WTI', value: Buffer.from(value) }] }];
  const zombie = await zombieWriters.open(0);
  await zombie.commit(message('before'), 5);
  const owner = await ownerWriters.open(0);
  t.is(owner.startOffset, 5, 'the new owner starts from what the old one committed');
  const err = await t.throwsAsync(zombie.commit(message('zombie'), 9));
  t.true(err instanceof PartitionCommitError);
  t.is((err as PartitionCommitError).failure, 'ownership_lost', `broker said: ${(err as Error).message}`);
  t.true(zombieWriters.ownershipLost(err));
  await owner.commit(message('owner'), 7);
  const seen = await readTopic(topics.predictions);
  t.deepEqual(seen.map((m) => m.value.toString()), ['before', 'owner']);
  const admin = kafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topics.prices] });
  t.is(offsets?.partitions.find((p) => p.partition === 0)?.offset, '7');
  await Promise.all([zombie.close(), owner.close()]);
});

test('commits back to back, offsets alone between batches as a worker makes them, all land: a coordinator still writing the previous transaction\'s markers is waited for, not taken for a lost partition', async (t) => {
  const { topics } = await freshTopics(t, 1);
  const groupId = uniqueName('busy');
  const writers = transactionalWriters({ kafka: kafka(), groupId, topic: topics.prices, transactionTimeoutMs: 10_000, log: quiet });
  t.teardown(() => writers.close());
  const writer = await writers.open(0);
  const rounds = 60;
  for (let i = 1; i <= rounds; i++) {
    const messages = i % 2 === 0 ? [] : [{ topic: topics.predictions, messages: [{ key: 'WTI', value: Buffer.from(String(i)) }] }];
    await writer.commit(messages, i);
  }
  await writer.close();
  const seen = await readTopic(topics.predictions);
  t.deepEqual(seen.map((m) => Number(m.value.toString())), Array.from({ length: rounds / 2 }, (_, i) => 2 * i + 1));
  const admin = kafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topics.prices] });
  t.is(offsets?.partitions.find((p) => p.partition === 0)?.offset, String(rounds));
});

test('a commit larger than the broker takes in one record batch (a backlog of 4 MB) lands whole, in order', async (t) => {
  const { topics } = await freshTopics(t, 1);
  const writers = transactionalWriters({ kafka: kafka(), groupId: uniqueName('backlog'), topic: topics.prices, transactionTimeoutMs: 30_000, log: quiet });
  t.teardown(() => writers.close());
  const writer = await writers.open(0);
  const values = Array.from({ length: 4_000 }, (_, i) => `${i}:${'x'.repeat(1_000)}`);
  await writer.commit([{ topic: topics.predictions, messages: values.map((v) => ({ key: 'WTI', value: Buffer.from(v) })) }], 4_000);
  await writer.close();
  const seen = await readTopic(topics.predictions);
  t.is(seen.length, values.length);
  t.true(seen.every((m, i) => m.value.toString() === values[i]), 'every message once, in order');
});

interface Member {
  readonly assignments: number[][];
  readonly memberIds: string[];
  fetchedAfterStall: number;
  /** Holds the next batch this long (no heartbeat meanwhile); set it to stall the member. */
  stallNextMs: number | undefined;
  /** Ends a stall early. */
  wake(): void;
  stop(): Promise<void>;
  crashed: Promise<never>;
}

/** A price consumer whose listener records assignments and batches, and stalls on a batch when told to. */
async function member(topic: string, groupId: string, options: { sessionTimeoutMs?: number; stallNextMs?: number } = {}): Promise<Member> {
  let wake: () => void = () => undefined;
  const m = {
    assignments: [] as number[][], memberIds: [] as string[], fetchedAfterStall: 0, stallNextMs: options.stallNextMs as number | undefined,
    wake: () => wake(),
  };
  let stalledOnce = false;
  const listener: ConsumerListener = {
    assigned: (partitions) => m.assignments.push([...partitions].sort((a, b) => a - b)),
    async fetched(batch: FetchedBatch) {
      const stallMs = m.stallNextMs;
      if (stallMs !== undefined) {
        m.stallNextMs = undefined;
        stalledOnce = true;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, stallMs);
        });
        return;
      }
      if (stalledOnce) m.fetchedAfterStall += batch.records.length;
    },
  };
  const consumer = await startPriceConsumer({
    kafka: kafka(), topic, groupId, sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000, heartbeatIntervalMs: 300,
    partitionsConcurrently: 2, maxBytesPerPartition: 64 * 1024, log: quiet, onJoined: (id) => m.memberIds.push(id),
  }, listener);
  return Object.assign(m, { stop: () => consumer.stop(), crashed: consumer.crashed });
}

const latest = (m: Member): number[] => m.assignments[m.assignments.length - 1] ?? [];

test('a member evicted while it stalled rejoins as a new member and goes on consuming; it does not crash', async (t) => {
  const { topics } = await freshTopics(t, 2);
  await publish(topics.prices, 10);
  const m = await member(topics.prices, uniqueName('rejoin'), { sessionTimeoutMs: 1_500, stallNextMs: 4_000 });
  t.teardown(() => m.stop());
  let crashed = false;
  m.crashed.catch(() => {
    crashed = true;
  });
  await eventually(() => m.memberIds.length >= 2, { what: 'a second join after the eviction', timeoutMs: 30_000, intervalMs: 100 });
  t.not(m.memberIds[1], m.memberIds[0], 'it joined again as a new member');
  await publish(topics.prices, 10);
  await eventually(() => m.fetchedAfterStall > 0, { what: 'batches after the rejoin', timeoutMs: 30_000, intervalMs: 100 });
  t.false(crashed);
});

test('a member removed on its behalf (the primary does it for a dead worker) gives its partitions to the others long before its session timeout', async (t) => {
  const { topics } = await freshTopics(t, 4);
  const groupId = uniqueName('remove');
  const dead = await member(topics.prices, groupId);
  const alive = await member(topics.prices, groupId);
  t.teardown(async () => {
    dead.wake();
    await Promise.all([dead.stop(), alive.stop()]);
  });
  await eventually(() => latest(alive).length === 2 && latest(dead).length === 2, { what: 'two members sharing the partitions', timeoutMs: 30_000, intervalMs: 100 });
  // From its next batch on the first member says nothing more, like a killed process.
  dead.stallNextMs = 120_000;
  await publish(topics.prices, 40);
  await eventually(() => dead.stallNextMs === undefined, { what: 'the first member to stall', timeoutMs: 20_000, intervalMs: 50 });
  const members = groupMembers(kafka(), groupId);
  t.teardown(() => members.close());
  const deadId = dead.memberIds[dead.memberIds.length - 1] as string;
  t.is(await members.remove(deadId), 'removed');
  // The session timeout is 30 s: what follows within 15 s is the removal's doing.
  await eventually(() => latest(alive).length === 4, { what: 'the survivor to own every partition', timeoutMs: 15_000, intervalMs: 50 });
  t.is(await members.remove(deadId), 'gone', 'a member removed already is gone');
});

test('the sticky assignment moves only the newcomer\'s share: the members already there keep the rest', async (t) => {
  const { topics } = await freshTopics(t, 6);
  const groupId = uniqueName('sticky');
  const a = await member(topics.prices, groupId);
  t.teardown(() => a.stop());
  const b = await member(topics.prices, groupId);
  t.teardown(() => b.stop());
  await eventually(() => latest(a).length === 3 && latest(b).length === 3, { what: 'two members at 3 each', timeoutMs: 30_000, intervalMs: 100 });
  const before = { a: latest(a), b: latest(b) };
  const c = await member(topics.prices, groupId);
  t.teardown(() => c.stop());
  await eventually(() => latest(c).length === 2 && latest(a).length === 2 && latest(b).length === 2, { what: 'three members at 2 each', timeoutMs: 30_000, intervalMs: 100 });
  t.true(latest(a).every((p) => before.a.includes(p)), `a kept its own: ${before.a} -> ${latest(a)}`);
  t.true(latest(b).every((p) => before.b.includes(p)), `b kept its own: ${before.b} -> ${latest(b)}`);
});
