/**
 * What every worker runs, whatever its edges: the actor system with the worker root, the model replicas, the
 * batching sink over the stores, the partitions pipeline fed by the prices consumer. The cluster worker and the
 * embedded `npm start` differ only in the edges they pass in (see edges.ts).
 */
import type { PoisonRules } from '../../actors/commodity/protocol.ts';
import { ModelRegistry } from '../../actors/model/registry.ts';
import { ForecasterCache } from '../../actors/model/forecaster-cache.ts';
import { modelUpdatePublisher } from '../../actors/training/model-update-publisher.ts';
import { batchingSink } from '../../actors/sinks/batching-sink.ts';
import { busSink } from '../../actors/sinks/kafka-sink.ts';
import { postgresSink } from '../../actors/sinks/postgres-sink.ts';
import { onlineStoreSink } from '../../actors/sinks/redis-sink.ts';
import type { SinkPort } from '../../actors/sinks/tick-outputs.ts';
import { sqlHistoryStore } from '../../connectors/postgres/history-store.ts';
import { sqlModelStore } from '../../connectors/postgres/model-store.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { unitPrice } from '../../platform/metrics.ts';
import { usageMeter } from '../../platform/usage-meter.ts';
import { workerRootPolicy } from '../policies.ts';
import type { CrashInfo } from '../supervise.ts';
import { spawnTyped, start, stopSystem, type AnyRef, type SystemRef } from '../typed-actors.ts';
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
  readonly sink: SinkPort;
  readonly models: ForecasterCache;
  /**
   * Stops taking gRPC calls, stops fetching, finishes what is in flight, flushes the sink, stops the actors and
   * the gateway (the edges stay open).
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
  const sink = batchingSink({
    writers: [meteredWriter(postgresSink(edges.store), usageMeter), onlineStoreSink(edges.online), busSink(edges.producer, edges.topics)],
    maxRows: config.pipeline.flushMaxRows,
    intervalMs: config.pipeline.flushIntervalMs,
    maxConcurrentBatches: config.pipeline.flushConcurrency,
    giveUpAfterMs: 60_000,
    log,
    onFatal: (err) => onFatal('sink_unavailable', err),
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
    maxInFlightPerPartition: config.pipeline.maxInFlightPerPartition,
    deps: {
      topic: edges.topics.prices,
      windowSize: config.pipeline.windowSize,
      zScoreThreshold: config.pipeline.zScoreThreshold,
      maxMessageBytes: config.pipeline.maxMessageBytes,
      poisonMaxTries: config.pipeline.poisonMaxTries,
      sink,
      history: sqlHistoryStore(edges.store),
      forecasters: models,
      decisions,
      poison,
      deadLetters: edges.deadLetters,
      log,
    },
  });
  models.onChange((commodity) => pipeline.forecastersChanged(commodity));
  // The gateway needs the pipeline and the pipeline's first assignment may come before the gateway is up: the
  // relay keeps it until the gateway attaches.
  const assignments = new AssignmentRelay();
  const consumer = await edges.consumePrices(publishingOwnership(pipeline, assignments), (err) => onFatal('consumer_crashed', err));
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
    sink,
    models,
    async stop() {
      gateway.drain();
      // The consumer stops after its running batches, which commit once their outputs are durable.
      await consumer.stop();
      await modelUpdates.stop();
      await pipeline.stop();
      await decisions.settle();
      await sink.close();
      stopSystem(system);
      await gateway.stop();
      await usage.stop();
    },
  };
}
