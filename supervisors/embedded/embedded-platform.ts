/**
 * `npm start`: the whole platform in one process, on the embedded edges unless KAFKA_BROKERS, DATABASE_URL or
 * REDIS_URL name real services. The same worker core (actors, supervisors, sinks, forecasters) and gateway as a
 * cluster worker; what it adds is prices of its own (the real ones of data/, and a live synthetic feed), champions
 * for every commodity without one (baselines first, within seconds; every family in the background), the
 * operators' endpoint, and a live status line.
 */
import { ModelRegistry } from '../../actors/model/registry.ts';
import { listFeatureCommodities } from '../../actors/training/feature-store-reader.ts';
import { threadedForestTrainer } from '../../actors/training/forest-trainer.ts';
import { modelUpdatePublisher } from '../../actors/training/model-update-publisher.ts';
import { resolveTrainParams } from '../../actors/training/train-params.ts';
import { trainCommodities, type TrainOutcome } from '../../actors/training/train-job.ts';
import { outcomeTable } from '../../actors/training/train-summary.ts';
import { partitionOf } from '../../connectors/partitioner.ts';
import { sqlModelStore } from '../../actors/model/model-store.ts';
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
import { readRealSeries, storeRealHistory } from './real-history.ts';
import { loadOrCreateEpoch, runSyntheticFeed, type FeedSettings } from './synthetic-feed.ts';
import { startStatusLine } from '../status-line.ts';

export interface EmbeddedOptions {
  /** The real prices served beside the synthetic feed (`Date,Price` files); undefined: none. */
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

/**
 * Champions for the commodities without one: first the baselines alone (no change and drift, seconds for every
 * commodity and horizon), so that every commodity is served at once; then, in the background, every family (the
 * forests take minutes), whose champions take over where they win. Each run's summary is logged as a table.
 */
class ChampionBootstrap {
  private readonly registry: ModelRegistry;
  private readonly bootstrapped: string[] = [];

  constructor(private readonly edges: Edges, private readonly config: Config, private readonly log: Logger) {
    this.registry = new ModelRegistry(sqlModelStore(edges.store), modelUpdatePublisher(edges.producer, edges.topics.modelUpdates));
  }

  /** Puts baselines in service for every commodity of the feature store that has no champion. */
  async serveBaselines(): Promise<void> {
    const commodities: string[] = [];
    for (const c of await listFeatureCommodities(this.edges.store)) if ((await this.registry.loadServing(c)).served.every((s) => s.status !== 'active')) commodities.push(c);
    if (commodities.length === 0) return;
    const params = resolveTrainParams({ horizons: this.config.models.horizons, families: ['no_change', 'drift'] });
    this.log.info('training_baselines', { commodities, horizons: params.horizons });
    const outcomes = await trainCommodities(commodities, params, { sql: this.edges.store, registry: this.registry, train: threadedForestTrainer(params.forest), log: this.log, actor: 'npm-start' });
    this.summarise('baselines_in_service', outcomes);
    this.bootstrapped.push(...commodities);
  }

  /** Every family of the commodities given baselines, on worker threads; `stop` aborts it (its threads would keep the process up). */
  async trainEveryFamily(trees: number, stop: AbortSignal): Promise<void> {
    if (this.bootstrapped.length === 0) return;
    const params = resolveTrainParams({ horizons: this.config.models.horizons, forest: { trees } });
    const progress = createProgress({ label: 'train every family', unit: 'forests', logger: this.log });
    let totalSet = false;
    try {
      const outcomes = await trainCommodities(this.bootstrapped, params, {
        sql: this.edges.store,
        registry: this.registry,
        train: threadedForestTrainer(params.forest, undefined, stop),
        log: this.log,
        actor: 'npm-start',
        onForest: (_done, total) => {
          if (!totalSet) progress.setTotal(total);
          totalSet = true;
          progress.add(1);
        },
      });
      progress.stop({ commodities: this.bootstrapped.length });
      this.summarise('champions_in_service', outcomes);
    } catch (err) {
      progress.stop({ failed: true });
      // The baselines keep serving; the next start trains again what still has no champion.
      if (stop.aborted) this.log.info('background_training_stopped', { reason: 'the platform is stopping' });
      else this.log.error('background_training_failed', { err });
    }
  }

  private summarise(what: string, outcomes: readonly TrainOutcome[]): void {
    for (const o of outcomes) if (!o.ok) this.log.error('champion_failed', { commodity: o.commodity, horizonTicks: o.horizonTicks, err: o.error });
    this.log.info(what, { served: outcomes.filter((o) => o.ok).length, of: outcomes.length, lines: outcomeTable(outcomes) });
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
      ? async (command) => ({ sent: 1, applied: applyChaos(command, core?.pipeline, poison, (c) => partitionOf(c, edges.partitionCount), log) ? 1 : 0 })
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

  // Training that goes on while the platform runs (every family); a stop aborts it and waits for it to end.
  let background: Promise<void> = Promise.resolve();
  const champions = new ChampionBootstrap(edges, config, log);
  const feed = (async () => {
    state = 'bootstrapping';
    if (options.dataFolder !== undefined) {
      // The real prices first: their champions serve before the synthetic history is even replayed.
      await publisher.publish(await storeRealHistory(edges.store, readRealSeries(options.dataFolder, log), log));
      await publisher.flush();
      await waitUntil(drained, stopping.signal);
      if (!stopping.signal.aborted) await champions.serveBaselines();
    }
    const epoch = loadOrCreateEpoch(config.dataDir, options.feed, Date.now());
    await runSyntheticFeed(epoch, await lastStoredTicks(edges), publisher, stopping.signal, async ({ caughtUp }) => {
      log.info('feed_caught_up', { ticks: caughtUp });
      await waitUntil(drained, stopping.signal);
      if (stopping.signal.aborted) return;
      await champions.serveBaselines();
      background = champions.trainEveryFamily(options.bootstrapTrees, stopping.signal);
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
      await background;
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
