/**
 * A cluster worker process: connects the real services (Kafka, Postgres, Redis), runs the worker core, joins
 * the consumer group, and shuts down cleanly on SIGTERM (stop fetching, drain, flush, commit, disconnect) within
 * the shutdown timeout. An escalation out of the actor tree, or a sink that stays down, exits the process with
 * EXIT_ESCALATED so that the cluster primary restarts it.
 */
import { createKafka, ensureTopics } from '../../connectors/kafka/client.ts';
import { dlqDeadLetterPort } from '../../connectors/kafka/dead-letter-port.ts';
import { DlqWriter } from '../../connectors/kafka/dlq.ts';
import { kafkaProducer } from '../../connectors/kafka/kafka-producer.ts';
import { startPriceConsumer } from '../../connectors/kafka/price-consumer.ts';
import { partitionOf } from '../../connectors/kafka/tick-publisher.ts';
import { topicNames } from '../../connectors/kafka/topics.ts';
import { migrate } from '../../connectors/postgres/migrate.ts';
import { postgresStore } from '../../connectors/postgres/sql-store.ts';
import { redisClient, redisOnlineStore } from '../../connectors/redis/online-store.ts';
import { ConfigError, type Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { isChaosCommand } from '../cluster/chaos-command.ts';
import { serveMetricsToPrimary } from '../cluster/metrics-aggregation.ts';
import { applyChaos, PoisonTicks } from './chaos.ts';
import { EXIT_ESCALATED, startWorkerCore } from './worker-core.ts';
import { ReplicaCache } from '../../actors/model/replica-cache.ts';
import { ModelRegistry } from '../../actors/model/registry.ts';
import { startModelUpdatesConsumer } from '../../connectors/kafka/model-updates-consumer.ts';
import { sqlModelStore } from '../../connectors/postgres/model-store.ts';
import type { WorkerPipeline } from './worker-pipeline.ts';

/** Lifecycle of a worker process. */
export type WorkerState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface WorkerOptions {
  readonly config: Config;
  readonly log: Logger;
}

function required<T>(value: T | undefined, variable: string, example: string): T {
  if (value === undefined) throw new ConfigError(variable, `to be set in cluster mode (e.g. ${example})`, '');
  return value;
}

export async function runWorkerProcess({ config, log }: WorkerOptions): Promise<number> {
  let state: WorkerState = 'starting';
  const brokers = required(config.kafkaBrokers, 'KAFKA_BROKERS', '127.0.0.1:9092');
  const databaseUrl = required(config.databaseUrl, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test');
  const redisUrl = required(config.redisUrl, 'REDIS_URL', 'redis://127.0.0.1:6379');
  if (process.send) serveMetricsToPrimary();
  const poison = config.chaosEnabled ? new PoisonTicks() : undefined;
  let pipelineForChaos: WorkerPipeline | undefined;
  let partitionCount = config.kafka.topicPartitions;
  if (poison) {
    // Listen from the start: a command sent while the worker connects must not be lost.
    process.on('message', (m: unknown) => {
      if (!isChaosCommand(m)) return;
      applyChaos(m, pipelineForChaos, poison, (c) => partitionOf(c, partitionCount), log);
    });
  }

  const topics = topicNames(config.kafka.topicPrefix);
  const kafka = createKafka(brokers, `${config.kafka.clientId}-worker-${process.pid}`);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics, config.kafka.topicPartitions);
  const [meta] = (await admin.fetchTopicMetadata({ topics: [topics.prices] })).topics;
  await admin.disconnect();
  partitionCount = meta?.partitions.length ?? config.kafka.topicPartitions;

  const store = postgresStore(databaseUrl);
  await migrate(store);
  const redis = redisClient(redisUrl);
  const online = redisOnlineStore(redis, config.redisPrefix);
  const producer = await kafkaProducer(kafka);
  const models = new ReplicaCache(new ModelRegistry(sqlModelStore(store), undefined), log);
  const modelUpdates = await startModelUpdatesConsumer(kafka, topics.modelUpdates, config.kafka.groupId, (u) => models.apply(u), log);
  const dlqProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await dlqProducer.connect();
  const deadLetters = dlqDeadLetterPort(new DlqWriter(dlqProducer, { maxValueBytes: config.pipeline.maxMessageBytes }), topics.prices);

  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  const fatal = (reason: string, err: unknown): void => {
    if (state === 'failed') return;
    state = 'failed';
    log.error('worker_escalated', { reason, err });
    resolveExit(EXIT_ESCALATED);
  };

  const core = startWorkerCore(config, { store, online, producer, deadLetters, topics, models, poison }, log, fatal);
  const consumer = await startPriceConsumer({
    kafka,
    topic: topics.prices,
    groupId: config.kafka.groupId,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
    partitionsConcurrently: Math.max(1, Math.min(partitionCount, 6)),
    maxBytesPerPartition: 128 * 1024,
    log,
  }, core.pipeline);
  consumer.crashed.catch((err: unknown) => fatal('consumer_crashed', err));

  pipelineForChaos = core.pipeline;

  const shutdown = async (signal: string): Promise<void> => {
    if (state !== 'running') return;
    state = 'draining';
    log.info('worker_draining', { signal, partitions: core.pipeline.ownedPartitions() });
    const hardStop = setTimeout(() => {
      log.error('worker_shutdown_timeout', { timeoutMs: config.cluster.shutdownTimeoutMs });
      resolveExit(1);
    }, config.cluster.shutdownTimeoutMs);
    hardStop.unref();
    // consumer.stop() waits for the running batches, which commit after their outputs are durable.
    await consumer.stop();
    await modelUpdates.stop();
    await core.stop();
    state = 'stopped';
    resolveExit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM').catch((err: unknown) => fatal('shutdown_failed', err)));
  process.on('SIGINT', () => void shutdown('SIGINT').catch((err: unknown) => fatal('shutdown_failed', err)));

  state = 'running';
  log.info('worker_running', { partitionCount, groupId: config.kafka.groupId });
  const code = await exited;
  await Promise.allSettled([producer.close(), dlqProducer.disconnect(), online.close(), store.close()]);
  log.info('worker_stopped', { code });
  return code;
}
