/**
 * The forecasts of a running worker (embedded edges: PGlite, the in-process bus, memory), through the same worker
 * core as a cluster: a new champion forecasts the latest tick it has at once, a non-positive price gets features
 * but no forecast (with the reason, never an inverted interval), and a worker's retrain on a distribution shift
 * runs at most once per cooldown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ModelRegistry } from '../actors/model/registry.ts';
import { sequentialForestTrainer } from '../actors/training/forest-trainer.ts';
import { modelUpdatePublisher } from '../actors/training/model-update-publisher.ts';
import { garchPriceSeries } from '../actors/training/synthetic-series.ts';
import { resolveTrainParams } from '../actors/training/train-params.ts';
import { trainCommodities } from '../actors/training/train-job.ts';
import { partitionOf } from '../connectors/partitioner.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { producerTickPublisher } from '../connectors/producer-tick-publisher.ts';
import { loadGatewayConfig } from '../gateway/gateway-config.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { sampleValues } from './prometheus-text.ts';
import { registry as metrics } from '../platform/metrics.ts';
import type { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { modelDecisions } from '../supervisors/worker/model-decisions.ts';
import { openEdges, type Edges } from '../supervisors/worker/edges.ts';
import { startWorkerCore, type WorkerCore } from '../supervisors/worker/worker-core.ts';
import { eventually } from './eventually.ts';

const quiet = createLogger({}, () => undefined);
const PARTITIONS = 2;

async function embeddedWorker(t: ExecutionContext): Promise<{ edges: Edges; core: WorkerCore; feed: (ticks: readonly PriceTick[]) => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'carbon-live-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { CARBON_DATA_DIR: dataDir, CARBON_TOPIC_PARTITIONS: String(PARTITIONS), CARBON_HORIZONS: '1', CARBON_GRPC_PORT: '0', CARBON_GRPC_INTERNAL_PORT_BASE: '0' };
  const config = loadConfig(env);
  const edges = await openEdges(config, quiet, 'embedded');
  const core = await startWorkerCore(config, loadGatewayConfig(config, env), edges, undefined, quiet, (reason, err) => t.fail(`${reason}: ${String(err)}`));
  t.teardown(async () => {
    await core.stop();
    await edges.close();
  });
  const publisher = producerTickPublisher(edges.producer, edges.topics.prices, config.pipeline.maxMessageBytes);
  return {
    edges,
    core,
    async feed(ticks) {
      await publisher.publish(ticks);
      await publisher.flush();
      await eventually(() => edges.pricesDrained(), { what: 'the embedded pipeline to drain', timeoutMs: 60_000, intervalMs: 50 });
    },
  };
}

const ticksOf = (commodity: string, length: number, seed: number): PriceTick[] =>
  garchPriceSeries({ length, seed }).map((p) => ({ commodity, tsMs: p.tsMs, price: p.price, unit: 'USD', source: 'test' }));

test.serial('a new champion forecasts the latest tick at once; a non-positive price gets its features and no forecast, with the reason', async (t) => {
  t.timeout(300_000);
  const { edges, core, feed } = await embeddedWorker(t);
  const ticks = ticksOf('OIL', 700, 3);
  await feed(ticks);
  const partition = partitionOf('OIL', PARTITIONS);
  const before = await core.pipeline.snapshot(partition, 'OIL', 5_000);
  t.is(before?.predictions.length, 0, 'no champion yet');
  t.is(before?.features?.tsMs, ticks.at(-1)!.tsMs);

  const registry = new ModelRegistry(sqlModelStore(edges.store), modelUpdatePublisher(edges.producer, edges.topics.modelUpdates));
  const params = resolveTrainParams({ horizons: [1], forest: { trees: 10, maxDepth: 4, minSamplesLeaf: 20 } });
  const [trained] = await trainCommodities(['OIL'], params, { sql: edges.store, registry, train: sequentialForestTrainer(params.forest), log: quiet, actor: 'test' });
  if (!trained?.ok) return t.fail('training failed');
  // No new tick: the promotion alone makes the actor forecast its latest one.
  await eventually(async () => (await core.pipeline.snapshot(partition, 'OIL', 5_000))?.predictions.length === 1, { what: 'the forecast of the latest tick', timeoutMs: 20_000, intervalMs: 50 });
  const after = (await core.pipeline.snapshot(partition, 'OIL', 5_000))!;
  t.is(after.predictions[0]!.tickTsMs, ticks.at(-1)!.tsMs);
  t.is(after.predictions[0]!.modelVersion, trained.champion.version);
  await eventually(async () => {
    const { rows } = await edges.store.query<{ model_version: number }>('SELECT model_version FROM predictions WHERE tick_ts_ms = $1', [ticks.at(-1)!.tsMs]);
    return rows.length === 1 && Number(rows[0]!.model_version) === trained.champion.version;
  }, { what: 'the forecast of the latest tick stored', timeoutMs: 20_000, intervalMs: 50 });

  const last = ticks.at(-1)!;
  await feed([{ ...last, tsMs: last.tsMs + 86_400_000, price: -36.98 }]);
  const negative = (await core.pipeline.snapshot(partition, 'OIL', 5_000))!;
  t.is(negative.features?.price, -36.98, 'the features of the tick exist');
  t.is(negative.predictions[0]!.tickTsMs, last.tsMs, 'the latest prediction is still the one of the tick before');
  t.regex(negative.horizons[0]!.noForecastReason, /non-positive price/);
  await feed([{ ...last, tsMs: last.tsMs + 2 * 86_400_000, price: last.price }]);
  const recovered = (await core.pipeline.snapshot(partition, 'OIL', 5_000))!;
  t.is(recovered.predictions[0]!.tickTsMs, last.tsMs + 2 * 86_400_000);
  t.is(recovered.horizons[0]!.noForecastReason, '');
  const p = recovered.predictions[0]!;
  t.true(p.intervalLowReturn < p.intervalHighReturn, 'never an inverted interval');
  const skipped = sampleValues(await metrics.metrics(), 'carbon_predictions_skipped_total', { commodity: 'OIL', reason: 'no_forecast' });
  t.true(skipped.length === 1 && skipped[0]! >= 1);
});

test.serial('a distribution-shift retrain trains the commodity once, then waits out the cooldown', async (t) => {
  t.timeout(300_000);
  const { edges, feed } = await embeddedWorker(t);
  await feed(ticksOf('GAS', 500, 4));
  const registry = new ModelRegistry(sqlModelStore(edges.store), undefined);
  const config = { ...loadConfig({ CARBON_HORIZONS: '1' }).models, retrainCooldownMs: 3_600_000 };
  const decisions = modelDecisions({ registry, sql: edges.store, config, log: quiet });
  const counts = async () => {
    const text = await metrics.metrics();
    return Object.fromEntries(['done', 'failed', 'skipped'].map((o) => [o, sampleValues(text, 'carbon_retrains_total', { outcome: o })[0] ?? 0]));
  };
  const start = await counts();
  decisions.retrain('GAS', 'test: distribution shift');
  decisions.retrain('GAS', 'test: the same alarm again');
  await decisions.settle();
  decisions.retrain('GAS', 'test: within the cooldown');
  const end = await counts();
  t.deepEqual([end.done! - start.done!, end.skipped! - start.skipped!, end.failed! - start.failed!], [1, 2, 0]);
  const { served } = await registry.loadServing('GAS');
  t.is(served.filter((s) => s.status === 'active').length, 1, 'the retrain put a champion in service');
  const { rows } = await edges.store.query<{ actor: string }>(`SELECT DISTINCT actor FROM audit_log WHERE subject = 'GAS'`);
  t.deepEqual(rows.map((r) => r.actor), ['shift-retrain']);
});
