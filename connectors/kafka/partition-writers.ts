/**
 * Writers of the partitions a worker is assigned: how a partition's topic messages (predictions, alerts, dead
 * letters) and its consumed offset leave the worker together.
 *
 * Transactional (the default): one kafkajs transactional producer per input partition, whose transactional id is
 * the partition's (`<group>.<topic>.<partition>`), the same on every worker. Opening it initialises that id, which
 * bumps its epoch at the transaction coordinator: any earlier writer of the partition (a worker that was evicted
 * while it stalled, and does not know yet) is fenced, its open transaction aborted, its next commit refused. Only
 * then is the committed offset read, so it is final. A commit is one transaction: the messages, then the offset
 * (TxnOffsetCommit), then EndTxn. Subscribers reading with isolation.level=read_committed see each message once.
 * Why an id per partition and not the consumer group's metadata (KIP-447): kafkajs 2.2.4 sends TxnOffsetCommit v0-v1,
 * which carry no generation or member id, so the group coordinator cannot fence by membership; an id per partition
 * fences by the transactional id alone.
 *
 * Plain (CARBON_KAFKA_TRANSACTIONS=false, for measuring what transactions cost): the messages through the worker's
 * idempotent producer, then the offset through the consumer. At least once on the topics; nothing is fenced.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Partitioners, type Admin, type Kafka, type Message, type Producer } from 'kafkajs';
import type { Logger } from '../../platform/logger.ts';
import type { OutgoingMessage } from '../message-bus.ts';
import { sendsOf } from './batch-chunks.ts';
import { classifyCommitError, PartitionCommitError } from './commit-errors.ts';

/**
 * A transaction begun while the coordinator still completes the previous one is refused (CONCURRENT_TRANSACTIONS)
 * for as long as the markers take to write: milliseconds, seconds on a loaded broker. 12 attempts wait up to ~6 s in all.
 */
const BUSY_COORDINATOR_ATTEMPTS = 12;
const BUSY_COORDINATOR_FIRST_BACKOFF_MS = 20;
const BUSY_COORDINATOR_MAX_BACKOFF_MS = 1_000;

/** Messages for one topic (the shape of the partition writer's port). */
interface TopicMessages {
  readonly topic: string;
  readonly messages: readonly OutgoingMessage[];
}

export interface KafkaPartitionWriter {
  readonly startOffset: number;
  commit(messages: readonly TopicMessages[], offset: number | undefined): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaPartitionWriters {
  open(partition: number): Promise<KafkaPartitionWriter>;
  ownershipLost(err: unknown): boolean;
  close(): Promise<void>;
}

export interface PartitionWritersOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  /** The consumed topic (prices), whose offsets are committed. */
  readonly topic: string;
  /** How long the coordinator lets a transaction stay open before aborting it (a writer that stalled). */
  readonly transactionTimeoutMs: number;
  readonly log: Logger;
}

function toKafkaMessages(messages: readonly OutgoingMessage[]): Message[] {
  return messages.map((m) => ({
    key: m.key,
    value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
    headers: m.headers ? { ...m.headers } : undefined,
    timestamp: m.timestampMs === undefined ? undefined : String(m.timestampMs),
  }));
}

function nonEmpty(messages: readonly TopicMessages[]): Array<{ topic: string; messages: Message[] }> {
  return messages.filter((t) => t.messages.length > 0).map((t) => ({ topic: t.topic, messages: toKafkaMessages(t.messages) }));
}

/** The admin client the writers share to read committed offsets, connected on first use. */
function lazyAdmin(kafka: Kafka): { get(): Promise<Admin>; close(): Promise<void> } {
  let admin: Promise<Admin> | undefined;
  return {
    get() {
      admin ??= (async () => {
        const a = kafka.admin();
        await a.connect();
        return a;
      })();
      // A failed connect is not kept: the next open tries again.
      admin.catch(() => {
        admin = undefined;
      });
      return admin;
    },
    async close() {
      if (admin !== undefined) await (await admin).disconnect();
    },
  };
}

/** The group's committed offset of `partition`, or the partition's first retained offset when none is committed. */
async function startOffsetOf(admin: Admin, groupId: string, topic: string, partition: number): Promise<number> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const offset = Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
  if (offset >= 0) return offset;
  const ends = await admin.fetchTopicOffsets(topic);
  return Number(ends.find((p) => p.partition === partition)?.low ?? 0);
}

export function transactionalWriters(opts: PartitionWritersOptions): KafkaPartitionWriters {
  const admin = lazyAdmin(opts.kafka);
  const offsetsOf = (partition: number, offset: number) => ({ consumerGroupId: opts.groupId, topics: [{ topic: opts.topic, partitions: [{ partition, offset: String(offset) }] }] });
  return {
    async open(partition) {
      const producer = opts.kafka.producer({
        transactionalId: `${opts.groupId}.${opts.topic}.${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: opts.transactionTimeoutMs,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      try {
        // kafkajs initialises the transactional id on its first transaction: this one fences every earlier writer.
        const fence = await producer.transaction();
        await fence.abort();
        const startOffset = await startOffsetOf(await admin.get(), opts.groupId, opts.topic, partition);
        return transactionalWriter(producer, partition, startOffset, offsetsOf, opts.log);
      } catch (err) {
        await producer.disconnect();
        throw err;
      }
    },
    ownershipLost: (err) => err instanceof PartitionCommitError && err.failure === 'ownership_lost',
    close: () => admin.close(),
  };
}

function transactionalWriter(
  producer: Producer,
  partition: number,
  startOffset: number,
  offsetsOf: (partition: number, offset: number) => Parameters<Awaited<ReturnType<Producer['transaction']>>['sendOffsets']>[0],
  log: Logger,
): KafkaPartitionWriter {
  return {
    startOffset,
    async commit(messages, offset) {
      const topicMessages = nonEmpty(messages);
      if (topicMessages.length === 0 && offset === undefined) return;
      for (let attempt = 1; ; attempt++) {
        const txn = await producer.transaction();
        try {
          for (const send of sendsOf(topicMessages)) await txn.sendBatch({ topicMessages: send, acks: -1 });
          if (offset !== undefined) await txn.sendOffsets(offsetsOf(partition, offset));
          await txn.commit();
          return;
        } catch (err) {
          // Aborting tells the coordinator at once; if it fails too (fenced, broker gone) the coordinator aborts the
          // transaction itself when the next writer opens or the transaction times out.
          const aborted = await txn.abort().then(
            () => true,
            (abortErr: unknown) => {
              log.debug('transaction_abort_failed', { partition, failure: classifyCommitError(abortErr), err: abortErr });
              return false;
            },
          );
          // kafkajs retries a busy coordinator on AddPartitionsToTxn but not on AddOffsetsToTxn; the Java client
          // retries both. The aborted attempt's messages are invisible to read_committed subscribers.
          if (aborted && attempt < BUSY_COORDINATOR_ATTEMPTS && classifyCommitError(err) === 'coordinator_busy') {
            log.debug('transaction_retried', { partition, attempt, reason: 'coordinator_busy' });
            await delay(Math.min(BUSY_COORDINATOR_MAX_BACKOFF_MS, BUSY_COORDINATOR_FIRST_BACKOFF_MS * 2 ** (attempt - 1)));
            continue;
          }
          throw new PartitionCommitError(partition, err);
        }
      }
    },
    close: () => producer.disconnect(),
  };
}

export interface PlainWritersOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  readonly topic: string;
  /** Commits an offset through the consumer (its member id and generation). */
  readonly commitOffset: (partition: number, offset: number) => Promise<void>;
}

export function plainWriters(opts: PlainWritersOptions): KafkaPartitionWriters {
  const admin = lazyAdmin(opts.kafka);
  // One idempotent producer for every partition: kafkajs needs a single request in flight per connection for it.
  const producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  let connected: Promise<void> | undefined;
  return {
    async open(partition) {
      connected ??= producer.connect();
      await connected;
      const startOffset = await startOffsetOf(await admin.get(), opts.groupId, opts.topic, partition);
      return {
        startOffset,
        async commit(messages, offset) {
          try {
            const topicMessages = nonEmpty(messages);
            for (const send of sendsOf(topicMessages)) await producer.sendBatch({ topicMessages: send, acks: -1 });
            if (offset !== undefined) await opts.commitOffset(partition, offset);
          } catch (err) {
            throw new PartitionCommitError(partition, err);
          }
        },
        close: async () => undefined,
      };
    },
    ownershipLost: (err) => err instanceof PartitionCommitError && err.failure === 'ownership_lost',
    async close() {
      await admin.close();
      if (connected !== undefined) await producer.disconnect();
    },
  };
}
