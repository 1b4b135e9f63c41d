/**
 * The worker's membership in the consumer group: kafkajs batch consumption of the prices topic, with the sticky
 * assigner. It tells its listener each assignment and hands it each fetched batch; the listener takes the batch
 * (waiting while the partition holds too much in flight) and commits on its own, through the partition writers, so
 * a batch handler returns as soon as its batch is taken and fetching goes on while earlier ticks are processed.
 *
 * A member whose membership lapsed (stalled past the session timeout: a long GC pause, a SIGSTOP) learns it at its
 * next heartbeat; kafkajs then rejoins as a new member and the listener gets the new assignment. A crash that
 * kafkajs does not restart from itself is restarted here when it comes from the group or the broker; only another
 * error is fatal.
 */
import type { Consumer, ConsumerRunConfig, Kafka } from 'kafkajs';
import type { Logger } from '../../platform/logger.ts';
import { classifyCommitError } from './commit-errors.ts';
import { stickyAssigner } from './sticky-assigner.ts';

/** A message as the pipeline needs it, free of kafkajs types. */
export interface IncomingRecord {
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

/** One partition's fetched messages, in offset order. */
export interface FetchedBatch {
  readonly partition: number;
  readonly records: readonly IncomingRecord[];
  readonly highWatermark: number;
  /** Keeps the membership alive while the listener waits (it throws when the group is rebalancing: let it through). */
  heartbeat(): Promise<void>;
  /** True once the partition's fetch position was moved (seek): the batch is from before, not to be taken. */
  isStale(): boolean;
}

/** Moves where the consumer fetches a partition from (a partition opened again from its committed offset). */
export interface FetchControl {
  seek(partition: number, offset: number): void;
}

/** What the prices consumer drives: the worker's pipeline (and the in-process bus drives the same). */
export interface ConsumerListener {
  /** This member's partitions now; those no longer listed are revoked. kafkajs does not wait for the listener. */
  assigned(partitions: readonly number[], control: FetchControl): void;
  /** Resolves once the batch is taken (or refused): not when it is durable. */
  fetched(batch: FetchedBatch): Promise<void>;
}

export interface PriceConsumerOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** How many partitions' batches run at once. */
  readonly partitionsConcurrently: number;
  /** Fetch size per partition: bounds a batch. */
  readonly maxBytesPerPartition: number;
  readonly log: Logger;
  /** Told this member's id at every join (the cluster primary removes a dead worker's member by it). */
  readonly onJoined?: (memberId: string) => void;
}

function headerString(v: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

export interface PriceConsumer {
  /** Rejects if the consumer stops for good on an error that is not the group's or the broker's. */
  readonly crashed: Promise<never>;
  /** Stops fetching; the membership stays (a stopping worker hands its partitions off first). */
  pause(): void;
  /** Commits an offset under this member's generation (the writers without transactions). */
  commitOffset(partition: number, offset: number): Promise<void>;
  /** Leaves the group and disconnects. */
  stop(): Promise<void>;
}

/** Delay before restarting a consumer that kafkajs gave up on. */
const RESTART_DELAY_MS = 1_000;

export async function startPriceConsumer(opts: PriceConsumerOptions, listener: ConsumerListener): Promise<PriceConsumer> {
  let assigned: readonly number[] = [];
  const consumer: Consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs,
    heartbeatInterval: opts.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(10_000, opts.sessionTimeoutMs * 2),
    maxBytesPerPartition: opts.maxBytesPerPartition,
    maxWaitTimeInMs: 50,
    allowAutoTopicCreation: false,
    partitionAssigners: [stickyAssigner(opts.topic, () => assigned)],
  });
  let rejectCrashed: (err: unknown) => void = () => undefined;
  const crashed = new Promise<never>((_, reject) => {
    rejectCrashed = reject;
  });
  // Keep the rejection observed even if nobody awaits `crashed` (a stopped worker).
  crashed.catch(() => undefined);
  let stopping = false;

  const control: FetchControl = {
    seek: (partition, offset) => consumer.seek({ topic: opts.topic, partition, offset: String(offset) }),
  };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const partitions = event.payload.memberAssignment[opts.topic] ?? [];
    const changed = partitions.length !== assigned.length || partitions.some((p) => !assigned.includes(p));
    // A group settling at start rejoins several times with the same assignment: only a change is news.
    opts.log[changed ? 'info' : 'debug']('partitions_assigned', { partitions, memberId: event.payload.memberId });
    assigned = partitions;
    opts.onJoined?.(event.payload.memberId);
    listener.assigned(partitions, control);
  });

  const runConfig: ConsumerRunConfig = {
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
      await listener.fetched({ partition: batch.partition, records, highWatermark: Number(batch.highWatermark), heartbeat, isStale });
      const last = batch.messages[batch.messages.length - 1];
      // Resolved = fetched further (not committed: the writers commit); a seek meanwhile wins.
      if (last && !isStale()) resolveOffset(last.offset);
    },
  };

  consumer.on(consumer.events.CRASH, (event) => {
    const failure = classifyCommitError(event.payload.error);
    opts.log.error('consumer_crashed', { err: event.payload.error, restart: event.payload.restart, failure });
    if (event.payload.restart || stopping) return;
    if (failure === 'unknown') {
      rejectCrashed(event.payload.error);
      return;
    }
    // The group or the broker: a member is never stopped for that. kafkajs disconnected it; join again.
    setTimeout(() => {
      if (stopping) return;
      opts.log.info('consumer_restarting', { failure });
      consumer.connect().then(() => consumer.run(runConfig)).catch((err: unknown) => rejectCrashed(err));
    }, RESTART_DELAY_MS).unref();
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [opts.topic], fromBeginning: true });
  await consumer.run(runConfig);
  return {
    crashed,
    pause: () => consumer.pause([{ topic: opts.topic }]),
    commitOffset: (partition, offset) => consumer.commitOffsets([{ topic: opts.topic, partition, offset: String(offset) }]),
    async stop() {
      stopping = true;
      await consumer.stop();
      await consumer.disconnect();
    },
  };
}
