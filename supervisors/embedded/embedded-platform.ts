/**
 * `npm start`: the whole platform in one process, on the embedded edges unless KAFKA_BROKERS, DATABASE_URL or
 * REDIS_URL name real services. The same worker core (actors, supervisors, sinks, model replicas) and gateway as
 * a cluster worker; what it adds is a price feed of its own (synthetic, or CSV files replayed with --data), the
 * first models trained at start when none is in service, the operators' endpoint, and a live status line.
 */
import { runIngest } from '../../actors/ingest/ingest-job.ts';
import { CsvSource } from '../../actors/ingest/sources/csv-source.ts';
import { validationContext } from '../../actors/ingest/validate.ts';
import { ModelRegistry } from '../../actors/model/registry.ts';
import { listFeatureCommodities } from '../../actors/training/feature-store-reader.ts';
import { threadedForestTrainer } from '../../actors/training/forest-trainer.ts';
import { modelUpdatePublisher } from '../../actors/training/model-update-publisher.ts';
import { resolveTrainParams } from '../../actors/training/train-params.ts';
import { trainCommodities } from '../../actors/training/train-job.ts';
import { partitionOf } from '../../connectors/kafka/tick-publisher.ts';
import { sqlModelStore } from '../../connectors/postgres/model-store.ts';
import { producerTickPublisher } from '../../connectors/producer-tick-publisher.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import { collectProcessMetrics, registry as metricsRegistry } from '../../platform/metrics.ts';
import { createProgress } from '../../platform/progress.ts';
import { startOpsServer } from '../cluster/ops-http.ts';
import { applyChaos, PoisonTicks } from '../worker/chaos.ts';
import { loadGatewayConfig } from '../../gateway/gateway-config.ts';
import { openEdges, type Edges } from '../worker/edges.ts';
import { startWorkerCore, type WorkerCore } from '../worker/worker-core.ts';
import { loadOrCreateEpoch, runSyntheticFeed, type FeedSettings } from './synthetic-feed.ts';
import { startStatusLine } from '../status-line.ts';

export interface EmbeddedOptions {
  /** Replay the CSV files of this folder instead of the synthetic feed. */
  readonly dataFolder: string | undefined;
  readonly feed: FeedSettings;
  /** Trees of the first models (fewer than the daily job's 100, so that a first start stays short). */
  readonly bootstrapTrees: number;
  readonly statusPeriodMs: number;
}

/** Lifecycle of the embedded platform. */
export type EmbeddedState = 'starting' | 'bootstrapping' | 'running' | 'stopping' | 'stopped' | 'failed';

async function waitUntil(condition: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  while (!signal.aborted && !(await condition())) await new Promise((r) => setTimeout(r, 100));
}

async function lastStoredTicks(edges: Edges): Promise<Map<string, number>> {
  const { rows } = await edges.store.query<{ commodity: string; ts_ms: number }>('SELECT commodity, max(ts_ms) AS ts_ms FROM ticks GROUP BY commodity');
  return new Map(rows.map((r) => [r.commodity, Number(r.ts_ms)]));
}

/** Trains every commodity of the feature store that has no champion in service; the walk-forward decides which family. */
async function trainFirstModels(edges: Edges, config: Config, trees: number, log: Logger): Promise<void> {
  const store = sqlModelStore(edges.store);
  const registry = new ModelRegistry(store, modelUpdatePublisher(edges.producer, edges.topics.modelUpdates));
  const commodities: string[] = [];
  for (const c of await listFeatureCommodities(edges.store)) if ((await registry.loadServing(c)).served.every((s) => s.status !== 'active')) commodities.push(c);
  if (commodities.length === 0) return;
  const params = resolveTrainParams({ horizons: config.models.horizons, forest: { trees } });
  const progress = createProgress({ label: 'train first models', unit: 'forests', logger: log });
  let totalSet = false;
  try {
    const outcomes = await trainCommodities(commodities, params, {
      sql: edges.store,
      registry,
      train: threadedForestTrainer(params.forest),
      log,
      actor: 'npm-start',
      onForest: (_done, total) => {
        if (!totalSet) progress.setTotal(total);
        totalSet = true;
        progress.add(1);
      },
    });
    progress.stop({ commodities: commodities.length });
    for (const o of outcomes) {
      if (!o.ok) log.error('first_model_failed', { commodity: o.commodity, horizonTicks: o.horizonTicks, err: o.error });
    }
  } finally {
    progress.stop();
  }
}

export async function runEmbedded(config: Config, options: EmbeddedOptions, log: Logger): Promise<number> {
  let state: EmbeddedState = 'starting';
  const stopping = new AbortController();
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  const fatal = (reason: string, err: unknown): void => {
    if (state === 'failed') return;
    state = 'failed';
    log.error('platform_failed', { reason, err });
    stopping.abort();
    resolveExit(1);
  };

  // One process: its internal endpoint only needs to exist, on any free port unless one is configured.
  const gatewayConfig = loadGatewayConfig(process.env.CARBON_GRPC_INTERNAL_PORT_BASE === undefined ? { ...config, grpc: { ...config.grpc, internalPortBase: 0 } } : config);
  const edges = await openEdges(config, log, 'embedded');
  const poison = config.chaosEnabled ? new PoisonTicks() : undefined;
  let core: WorkerCore | undefined;
  collectProcessMetrics();
  const ops = await startOpsServer(config.cluster.metricsHost, config.cluster.metricsPort, {
    metricsText: () => metricsRegistry.metrics(),
    health: () => ({ healthy: state === 'running' || state === 'bootstrapping', body: { state, edges: edges.describe } }),
    chaos: poison
      ? (command) => {
          applyChaos(command, core?.pipeline, poison, (c) => partitionOf(c, edges.partitionCount), log);
          return 1;
        }
      : undefined,
  }, log);
  core = await startWorkerCore(config, gatewayConfig, edges, poison, log, fatal);
  log.info('platform_started', {
    edges: edges.describe,
    grpc: `${gatewayConfig.host}:${core.gateway.port}`,
    metrics: `http://${config.cluster.metricsHost}:${ops.port}/metrics`,
    dataDir: config.dataDir,
  });

  const status = startStatusLine({ periodMs: options.statusPeriodMs, read: () => metricsRegistry.getMetricsAsJSON(), extra: () => ({ state }) });
  const publisher = producerTickPublisher(edges.producer, edges.topics.prices, config.pipeline.maxMessageBytes);
  const drained = () => edges.pricesDrained();

  const feed = (async () => {
    state = 'bootstrapping';
    if (options.dataFolder) {
      const summary = await runIngest({ source: new CsvSource(options.dataFolder), publisher, validation: validationContext({ nowMs: Date.now() }) });
      log.info('csv_replayed', { folder: options.dataFolder, published: summary.published, rejected: summary.rejected });
      await waitUntil(drained, stopping.signal);
      if (!stopping.signal.aborted) await trainFirstModels(edges, config, options.bootstrapTrees, log);
      state = 'running';
      return;
    }
    const epoch = loadOrCreateEpoch(config.dataDir, options.feed, Date.now());
    await runSyntheticFeed(epoch, await lastStoredTicks(edges), publisher, stopping.signal, async ({ caughtUp }) => {
      log.info('feed_caught_up', { ticks: caughtUp });
      await waitUntil(drained, stopping.signal);
      if (!stopping.signal.aborted) await trainFirstModels(edges, config, options.bootstrapTrees, log);
      state = 'running';
    });
  })();
  feed.catch((err: unknown) => fatal('feed_failed', err));

  const shutdown = (signal: string): void => {
    if (state === 'stopping' || state === 'stopped') return;
    log.info('platform_stopping', { signal });
    state = 'stopping';
    stopping.abort();
    const hardStop = setTimeout(() => {
      log.error('platform_stop_timeout', { timeoutMs: 4_500 });
      resolveExit(1);
    }, 4_500);
    hardStop.unref();
    void (async () => {
      await feed.catch(() => undefined);
      await core?.stop();
      status.stop();
      await ops.close();
      await edges.close();
      state = 'stopped';
      resolveExit(0);
    })().catch((err: unknown) => fatal('stop_failed', err));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const code = await exited;
  status.stop();
  log.info('platform_stopped', { code });
  return code;
}
