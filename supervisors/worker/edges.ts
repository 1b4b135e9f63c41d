/**
 * The edges of a worker: where ticks come from and outputs go. Each is real or embedded on its own, chosen by
 * its environment variable (KAFKA_BROKERS, DATABASE_URL, REDIS_URL); in cluster mode all three are required.
 * Everything between the edges (actors, supervisors, sinks, gateway) is the same code in both modes.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createKafka, prepareTopics } from '../../connectors/kafka/client.ts';
import { kafkaProducer } from '../../connectors/kafka/kafka-producer.ts';
import { startModelUpdatesConsumer } from '../../connectors/kafka/model-updates-consumer.ts';
import { plainWriters, transactionalWriters } from '../../connectors/kafka/partition-writers.ts';
import { startPriceConsumer, type ConsumerListener, type PriceConsumer } from '../../connectors/kafka/price-consumer.ts';
import { partitionOf } from '../../connectors/partitioner.ts';
import { topicNames, type Topics } from '../../connectors/kafka/topics.ts';
import { MemoryBus } from '../../connectors/memory-bus/memory-bus.ts';
import type { MessageProducer } from '../../connectors/message-bus.ts';
import { modelUpdateGate } from '../../actors/model/model-update-gate.ts';
import { migrate } from '../../connectors/postgres/migrate.ts';
import { pgliteStore, postgresStore, type SqlStore } from '../../connectors/postgres/sql-store.ts';
import { memoryOnlineStore, redisClient, redisOnlineStore, type OnlineStore } from '../../connectors/redis/online-store.ts';
import { RedisQuotas } from '../../gateway/quota-leases.ts';
import { memoryOwnershipRegistry, memoryOwnershipState, redisOwnershipRegistry, type OwnerIdentity, type OwnershipRegistry } from '../../connectors/redis/ownership.ts';
import { LocalQuotas, type QuotaPort } from '../../gateway/quota.ts';
import { clusterServices, type Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ModelUpdate } from '../../proto/gen/carbon/v1/model_update.ts';
import type { PartitionWriters } from '../partition/partition-writer.ts';

export interface Stoppable {
  stop(): Promise<void>;
}

/** The prices topic being consumed. */
export interface PricesFeed extends Stoppable {
  /** Stops fetching; the membership stays until stop (a stopping worker hands its partitions off in between). */
  pause(): void;
}

export interface Edges {
  readonly describe: { readonly bus: 'kafka' | 'in-process'; readonly store: 'postgres' | 'pglite'; readonly online: 'redis' | 'memory' };
  readonly topics: Topics;
  /** Partitions of the prices topic (the partitioner's modulus). */
  readonly partitionCount: number;
  readonly store: SqlStore;
  readonly online: OnlineStore;
  /** Model updates, and the embedded source's ticks. */
  readonly producer: MessageProducer;
  /** Where each partition's outputs and offset leave in one commit. */
  readonly writers: PartitionWriters;
  /**
   * Starts feeding the prices topic's partitions (all of them, or the group's share) to `listener`; `onJoined` is
   * told the member id at each join of the group.
   */
  consumePrices(listener: ConsumerListener, onFatal: (err: unknown) => void, onJoined?: (memberId: string) => void): Promise<PricesFeed>;
  /** True when the consumer has committed everything published to the prices topic so far. */
  pricesDrained(): Promise<boolean>;
  /** The shared table of who owns which partition (Redis), or a table of this process alone (memory). */
  ownership(self: OwnerIdentity): OwnershipRegistry;
  /** Tenants' rate limits: shared by the cluster through Redis, or this process's own buckets (embedded). */
  quotas(): QuotaPort;
  /** Every promotion and rollback, as it is announced; a record that is no valid ModelUpdate goes to its DLQ instead. */
  onModelUpdate(apply: (update: ModelUpdate) => Promise<void>): Promise<Stoppable>;
  close(): Promise<void>;
}

async function openStore(config: Config, log: Logger): Promise<SqlStore> {
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const store = config.databaseUrl ? postgresStore(config.databaseUrl) : await pgliteStore(join(config.dataDir, 'pglite'));
  const applied = await migrate(store);
  if (applied.length > 0) log.info('migrations_applied', { versions: applied, store: store.kind });
  return store;
}

interface StateEdges {
  readonly online: OnlineStore;
  ownership(self: OwnerIdentity): OwnershipRegistry;
  quotas(): QuotaPort;
  close(): Promise<void>;
}

function openState(config: Config, log: Logger): StateEdges {
  if (!config.redisUrl) {
    const owners = memoryOwnershipState();
    return { online: memoryOnlineStore(), ownership: (self) => memoryOwnershipRegistry(owners, self), quotas: () => new LocalQuotas(), close: async () => undefined };
  }
  const redis = redisClient(config.redisUrl);
  const online = redisOnlineStore(redis, config.redisPrefix);
  return {
    online,
    ownership: (self) => redisOwnershipRegistry(redis, config.redisPrefix, self),
    quotas: () => new RedisQuotas(redis, config.redisPrefix, log),
    close: () => online.close(),
  };
}

export async function openEdges(config: Config, log: Logger, mode: 'cluster' | 'embedded'): Promise<Edges> {
  if (mode === 'cluster') clusterServices(config);
  const topics = topicNames(config.kafka.topicPrefix);
  const store = await openStore(config, log);
  const state = openState(config, log);
  const { online } = state;
  const describeStores = { store: store.kind, online: config.redisUrl ? 'redis' : 'memory' } as const;
  const closeStores = async () => {
    await Promise.allSettled([state.close(), store.close()]);
  };

  if (!config.kafkaBrokers) {
    const partitionCount = config.kafka.topicPartitions;
    const bus = new MemoryBus(partitionCount, partitionOf);
    return {
      describe: { bus: 'in-process', ...describeStores },
      topics,
      partitionCount,
      store,
      online,
      producer: bus,
      writers: bus.writers(topics.prices),
      ownership: state.ownership,
      quotas: state.quotas,
      async consumePrices(listener, onFatal) {
        const consumer = bus.consume(topics.prices, listener, 2_000, onFatal);
        // One process consumes every partition: nothing to stop fetching for a hand-off to another member.
        return { pause: () => undefined, stop: () => consumer.stop() };
      },
      pricesDrained: async () => bus.drained(topics.prices),
      async onModelUpdate(apply) {
        const gate = modelUpdateGate({ producer: bus, topic: topics.modelUpdates, maxValueBytes: config.pipeline.maxMessageBytes, worker: String(process.pid), apply, log });
        const unsubscribe = bus.subscribe(topics.modelUpdates, (r) => {
          gate({ ...r, partition: undefined, offset: String(r.offset) }).catch((err: unknown) => log.error('model_update_failed', { err }));
        });
        return { stop: async () => unsubscribe() };
      },
      close: closeStores,
    };
  }

  const kafka = createKafka(config.kafkaBrokers, `${config.kafka.clientId}-${process.pid}`);
  const partitionCount = await prepareTopics(kafka, topics, config.kafka.topicPartitions);
  const producer = await kafkaProducer(kafka);
  // Without transactions, outputs go through one idempotent producer and offsets through the consumer, started later.
  let consumer: PriceConsumer | undefined;
  const writers = config.kafka.transactions
    ? transactionalWriters({ kafka, groupId: config.kafka.groupId, topic: topics.prices, transactionTimeoutMs: config.kafka.transactionTimeoutMs, log })
    : plainWriters({
        kafka, groupId: config.kafka.groupId, topic: topics.prices,
        commitOffset: async (partition, offset) => {
          if (consumer === undefined) throw new Error('no consumer to commit through yet');
          await consumer.commitOffset(partition, offset);
        },
      });
  return {
    describe: { bus: 'kafka', ...describeStores },
    topics,
    partitionCount,
    store,
    online,
    producer,
    writers,
    ownership: state.ownership,
    quotas: state.quotas,
    async consumePrices(listener, onFatal, onJoined) {
      consumer = await startPriceConsumer({
        kafka,
        topic: topics.prices,
        groupId: config.kafka.groupId,
        sessionTimeoutMs: config.kafka.sessionTimeoutMs,
        heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
        partitionsConcurrently: Math.max(1, Math.min(partitionCount, 6)),
        maxBytesPerPartition: 128 * 1024,
        log,
        onJoined,
      }, listener);
      consumer.crashed.catch(onFatal);
      return consumer;
    },
    async pricesDrained() {
      const a = kafka.admin();
      await a.connect();
      try {
        const [high, committed] = await Promise.all([
          a.fetchTopicOffsets(topics.prices),
          a.fetchOffsets({ groupId: config.kafka.groupId, topics: [topics.prices] }),
        ]);
        const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
        return high.every((p) => Number(p.high) === 0 || (done.get(p.partition) ?? -1) >= Number(p.high));
      } finally {
        await a.disconnect();
      }
    },
    async onModelUpdate(apply) {
      const gate = modelUpdateGate({ producer, topic: topics.modelUpdates, maxValueBytes: config.pipeline.maxMessageBytes, worker: String(process.pid), apply, log });
      return startModelUpdatesConsumer(kafka, topics.modelUpdates, config.kafka.groupId, gate);
    },
    async close() {
      await Promise.allSettled([producer.close(), writers.close()]);
      await closeStores();
    },
  };
}
