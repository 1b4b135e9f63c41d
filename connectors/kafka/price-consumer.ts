/**
 * The worker's membership in the consumer group: kafkajs batch consumption of the prices topic, driving a
 * PartitionedPipeline. A batch's offsets are committed only after the pipeline says every message in it is
 * finished (outputs durable or dead-lettered); kafkajs does not rejoin the group while a batch handler runs, so a
 * revoked partition has nothing in flight by the time it is reassigned.
 */
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../../platform/logger.ts';
import { consumerLag } from '../../platform/metrics.ts';
import { classifyCommitError } from './commit-errors.ts';

/** A message as the pipeline needs it, free of kafkajs types. */
export interface IncomingRecord {
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

/** What the consumer drives: the worker's partition supervisors. */
export interface PartitionedPipeline {
  /** The group gave this worker these partitions (and took away those it no longer lists). */
  assignmentChanged(partitions: readonly number[]): Promise<void>;
  /** Processes a batch; resolves with the offset to commit once every message is finished. */
  handleBatch(partition: number, records: readonly IncomingRecord[], heartbeat: () => Promise<void>): Promise<number | undefined>;
}

export interface PriceConsumerOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** How many partitions' batches run at once. */
  readonly partitionsConcurrently: number;
  /** Fetch size per partition: bounds a batch, and so the latency of its commit. */
  readonly maxBytesPerPartition: number;
  readonly log: Logger;
}

function headerString(v: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

export interface PriceConsumer {
  /** Resolves once the consumer is running; `crashed` rejects if kafkajs gives up for good. */
  readonly crashed: Promise<never>;
  stop(): Promise<void>;
}

export async function startPriceConsumer(opts: PriceConsumerOptions, pipeline: PartitionedPipeline): Promise<PriceConsumer> {
  const consumer: Consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs,
    heartbeatInterval: opts.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(10_000, opts.sessionTimeoutMs * 2),
    maxBytesPerPartition: opts.maxBytesPerPartition,
    maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false,
  });
  let rejectCrashed: (err: unknown) => void = () => undefined;
  const crashed = new Promise<never>((_, reject) => {
    rejectCrashed = reject;
  });
  // Keep the rejection observed even if nobody awaits `crashed` (a stopped worker).
  crashed.catch(() => undefined);

  let assigned: readonly number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const partitions = event.payload.memberAssignment[opts.topic] ?? [];
    const changed = partitions.length !== assigned.length || partitions.some((p) => !assigned.includes(p));
    // A group settling at start rejoins several times with the same assignment: only a change is news.
    opts.log[changed ? 'info' : 'debug']('partitions_assigned', { partitions, memberId: event.payload.memberId });
    // A partition's lag is its owner's to report: a moved one's last value would add a stale lag to the cluster's.
    for (const p of assigned) if (!partitions.includes(p)) consumerLag.remove({ partition: String(p) });
    assigned = partitions;
    pipeline.assignmentChanged(partitions).catch((err: unknown) => rejectCrashed(err));
  });
  consumer.on(consumer.events.CRASH, (event) => {
    opts.log.error('consumer_crashed', { err: event.payload.error, restart: event.payload.restart });
    if (!event.payload.restart) rejectCrashed(event.payload.error);
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConcurrently,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const records: IncomingRecord[] = batch.messages.map((m) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers ?? {})) {
          const s = headerString(v);
          if (s !== undefined) headers[k] = s;
        }
        return { offset: Number(m.offset), key: m.key, value: m.value, contentType: headers['content-type'], headers };
      });
      const commitAt = await pipeline.handleBatch(batch.partition, records, heartbeat);
      const last = batch.messages[batch.messages.length - 1];
      if (commitAt !== undefined) {
        try {
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(commitAt) }]);
        } catch (err) {
          if (classifyCommitError(err) !== 'ownership_lost') throw err;
          // Evicted or outpaced by a rebalance: the new owner redoes the batch (its outputs are idempotent).
          opts.log.warn('commit_skipped_ownership_lost', { partition: batch.partition, offset: commitAt, err });
          return;
        }
        consumerLag.set({ partition: String(batch.partition) }, Math.max(0, Number(batch.highWatermark) - commitAt));
      }
      if (last) resolveOffset(last.offset);
    },
  });
  return {
    crashed,
    async stop() {
      await consumer.stop();
      await consumer.disconnect();
    },
  };
}
