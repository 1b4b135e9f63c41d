/**
 * Models in service for every commodity of a bench cluster, the way an operator gets them: the platform's own
 * training job over the features the cluster stored, with small forests so that it takes seconds, announced on
 * `model-updates`, and waited for until every worker serves a champion for each commodity.
 */
import { ModelRegistry } from '../actors/model/registry.ts';
import { sequentialForestTrainer } from '../actors/training/forest-trainer.ts';
import { modelUpdatePublisher } from '../actors/training/model-update-publisher.ts';
import { trainCommodities } from '../actors/training/train-job.ts';
import { resolveTrainParams } from '../actors/training/train-params.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { kafkaProducer } from '../connectors/kafka/kafka-producer.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { createLogger } from '../platform/logger.ts';
import { sampleValues } from '../test/prometheus-text.ts';
import { BROKERS, progress, type BenchCluster, type BenchEnvironment } from './_cluster.ts';

/** The horizon the bench trains and the cluster predicts at (CARBON_HORIZONS): one prediction per tick. */
export const BENCH_HORIZON = 1;

/** Trains every commodity (baselines and a small per-commodity forest, which runs in every tick's shadow). */
export async function trainChampions(env: BenchEnvironment, commodities: readonly string[]): Promise<void> {
  const store = postgresStore(env.databaseUrl);
  const producer = await kafkaProducer(createKafka(BROKERS, 'carbon-bench-train'));
  try {
    const params = resolveTrainParams({
      horizons: [BENCH_HORIZON],
      families: ['no_change', 'drift', 'forest'],
      forest: { trees: 8, maxDepth: 4, minSamplesLeaf: 20 },
      walkForward: { folds: 2 },
    });
    const started = performance.now();
    const outcomes = await trainCommodities(commodities, params, {
      sql: store,
      registry: new ModelRegistry(sqlModelStore(store), modelUpdatePublisher(producer, env.topics.modelUpdates)),
      train: sequentialForestTrainer(params.forest),
      log: createLogger({}, () => undefined),
      actor: 'bench',
    });
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length > 0) throw new Error(`training failed for ${failed.length} of ${outcomes.length}: ${failed.slice(0, 3).map((o) => `${o.commodity}: ${o.ok ? '' : o.error.message}`).join('; ')}`);
    progress(`trained ${commodities.length} champions in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await producer.close();
    await store.close();
  }
}

/** Resolves once the cluster serves a champion for every one of `commodities` (its carbon_model_version gauges). */
export async function championsInService(cluster: BenchCluster, commodities: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
    const served = sampleValues(text, 'carbon_model_version', { horizon: String(BENCH_HORIZON) }).filter((v) => v > 0).length;
    if (served >= commodities) return;
    if (Date.now() > deadline) throw new Error(`${served} of ${commodities} champions in service after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
