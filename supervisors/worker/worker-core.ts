/**
 * What every worker runs, whatever its edges: the actor system with the worker root, the model replicas, the
 * pipeline of partitions fed by the prices consumer and committed through the partition writers, after the outputs
 * are written to the stores. The cluster worker and the embedded `npm start` differ only in the edges they pass in
 * (see edges.ts).
 */
import type { PoisonRules } from '../../actors/commodity/protocol.ts';
import { ModelRegistry } from '../../actors/model/registry.ts';
import { ForecasterCache } from '../../actors/model/forecaster-cache.ts';
import { modelUpdatePublisher } from '../../actors/training/model-update-publisher.ts';
import { postgresSink } from '../../actors/sinks/postgres-sink.ts';
import { onlineStoreSink } from '../../actors/sinks/redis-sink.ts';
import { STORE_GIVE_UP_MS, StoreWrites } from '../../actors/sinks/store-writes.ts';
import { sqlHistoryStore } from '../../actors/commodity/history-store.ts';
import { sqlModelStore } from '../../actors/model/model-store.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { unitPrice } from '../../platform/metrics.ts';
import { usageMeter } from '../../platform/usage-meter.ts';
import { workerRootPolicy } from '../policies.ts';
import type { CrashInfo } from '../supervise.ts';
import type { AnyRef } from '../../actors/typed-ref.ts';
import { spawnTyped, start, stopSystem, type SystemRef } from '../typed-actors.ts';
import { AssignmentRelay, publishingOwnership } from '../../gateway/assignment-relay.ts';
import type { GatewayConfig } from '../../gateway/gateway-config.ts';
import { startGateway, type Gateway } from '../../gateway/server.ts';
import type { Edges } from './edges.ts';
import { meteredWriter } from './metered-writer.ts';
import { startUsageFlusher } from './usage-flusher.ts';
import { modelDecisions } from './model-decisions.ts';
import { WorkerPipeline } from './worker-pipeline.ts';

export interface WorkerCore {
  readonly pipeline: WorkerPipeline;
  readonly gateway: Gateway;
  readonly models: ForecasterCache;
  /**
   * Stops taking gRPC calls, stops fetching, hands every partition off (drain, flush, commit, release), leaves the
   * group, stops the actors and the gateway (the edges stay open).
   */
  stop(): Promise<void>;
}


/** Exit status of a worker whose actor tree gave up (EX_SOFTWARE): the cluster primary restarts it. */
export const EXIT_ESCALATED = 70;

export async function startWorkerCore(
  config: Config,
  gatewayConfig: GatewayConfig,
  edges: Edges,
  poison: PoisonRules | undefined,
  log: Logger,
  onFatal: (reason: string, err: unknown) => void,
  onJoined?: (memberId: string) => void,
): Promise<WorkerCore> {
  const models = new ForecasterCache(new ModelRegistry(sqlModelStore(edges.store), undefined), log);
  // Decisions taken here (a challenger's promotion, a retrain) are announced like an operator's.
  const decisions = modelDecisions({
    registry: new ModelRegistry(sqlModelStore(edges.store), modelUpdatePublisher(edges.producer, edges.topics.modelUpdates)),
    sql: edges.store,
    config: config.models,
    log: log.child({ component: 'model-decisions' }),
  });
  const modelUpdates = await edges.onModelUpdate((u) => models.apply(u));
  const stores = new StoreWrites({
    writers: [meteredWriter(postgresSink(edges.store), usageMeter), onlineStoreSink(edges.online)],
    giveUpAfterMs: STORE_GIVE_UP_MS,
    log,
  });
  const system: SystemRef = start({ name: `worker-${process.pid}` });
  const root = spawnTyped<null, never>(system, {
    name: 'worker',
    level: 'root',
    policy: workerRootPolicy,
    initialState: () => null,
    handle: (state) => state,
    escalateToProcess: (info: CrashInfo) => onFatal('supervision_exhausted', info.err),
  }) as AnyRef;
  const pipeline = new WorkerPipeline({
    root,
    writers: edges.writers,
    stores,
    topics: edges.topics,
    maxInFlightPerPartition: config.pipeline.maxInFlightPerPartition,
    handOffTimeoutMs: config.pipeline.handOffTimeoutMs,
    flush: { intervalMs: config.pipeline.flushIntervalMs, maxRows: config.pipeline.flushMaxRows, maxConcurrent: config.pipeline.flushConcurrency },
    maxDlqValueBytes: config.pipeline.maxMessageBytes,
    onFatal: (err) => onFatal('stores_unavailable', err),
    deps: {
      topic: edges.topics.prices,
      windowSize: config.pipeline.windowSize,
      zScoreThreshold: config.pipeline.zScoreThreshold,
      maxMessageBytes: config.pipeline.maxMessageBytes,
      poisonMaxTries: config.pipeline.poisonMaxTries,
      history: sqlHistoryStore(edges.store),
      forecasters: models,
      decisions,
      poison,
      log,
    },
  });
  models.onChange((commodity) => pipeline.forecastersChanged(commodity));
  // The gateway needs the pipeline and the pipeline's first assignment may come before the gateway is up: the
  // relay keeps it until the gateway attaches.
  const assignments = new AssignmentRelay();
  const listener = publishingOwnership(pipeline, assignments, (err) => log.error('ownership_publish_failed', { err }));
  const consumer = await edges.consumePrices(listener, (err) => onFatal('consumer_crashed', err), onJoined);
  const gateway = await startGateway({
    config: gatewayConfig,
    partitionCount: edges.partitionCount,
    pipeline,
    online: edges.online,
    forecasters: models,
    horizons: config.models.horizons,
    sql: edges.store,
    ownership: edges.ownership,
    quotas: edges.quotas(),
    meter: config.usage.metering ? usageMeter : undefined,
    log: log.child({ component: 'gateway' }),
  });
  await assignments.attach(gateway);
  const prices = config.usage.prices;
  unitPrice.set({ unit: 'calls_1000' }, prices.per1000Calls);
  unitPrice.set({ unit: 'cpu_second' }, prices.perCpuSecond);
  unitPrice.set({ unit: 'gb_month' }, prices.perGbMonth);
  const usage = startUsageFlusher(edges.store, usageMeter, gateway.workerId, config.usage.flushIntervalMs, log);
  return {
    pipeline,
    gateway,
    models,
    async stop() {
      gateway.drain();
      // Fetching stops first and the membership stays while the partitions are handed off: their next owners start
      // from what this worker committed, not from what it was still working on.
      consumer.pause();
      await pipeline.stop();
      await consumer.stop();
      await modelUpdates.stop();
      await decisions.settle();
      stopSystem(system);
      await gateway.stop();
      await usage.stop();
    },
  };
}
