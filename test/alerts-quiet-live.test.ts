/**
 * Issue 17: alerts that mean what they say. A healthy `carbon start` cluster (12 partitions, as deployed; models in
 * service for some commodities, ticks flowing) runs under a real Prometheus that scrapes and evaluates the rules of
 * deploy/prometheus/rules.yml as written every 5 s (alert-watch.ts says why not 2), for a few minutes of ordinary traffic, including what is the
 * client's doing and no server failure: unknown commodities, a commodity with no model, deadlines of 1-3 ms on
 * commodities owned by the worker called and by the other one. No alert may ever be pending or firing.
 */
import test from 'ava';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ModelRegistry } from '../actors/model/registry.ts';
import { ar1PriceSeries } from '../actors/training/synthetic-series.ts';
import { modelUpdatePublisher } from '../actors/training/model-update-publisher.ts';
import { createKafka } from '../connectors/kafka/client.ts';
import { kafkaProducer } from '../connectors/kafka/kafka-producer.ts';
import type { KafkaTickPublisher } from '../connectors/kafka/tick-publisher.ts';
import { sqlModelStore } from '../actors/model/model-store.ts';
import { postgresStore } from '../connectors/postgres/sql-store.ts';
import { startPrometheus } from '../deploy/tools/live-prometheus.ts';
import { awaitRuleEvaluations, describeRuleResult, instantQuery } from '../deploy/tools/live-queries.ts';
import type { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { PredictionServiceClient } from '../proto/gen/carbon/v1/prediction_service.ts';
import { ALERT_TEST_INTERVAL_S, alertsRecorded, describeAlert, watchAlerts } from './alert-watch.ts';
import { startCluster, testEnvironment, tickPublisher } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { tinyForecasterModel } from './forecaster-fixture.ts';
import { KAFKA_BROKERS } from './services.ts';

/** As deployed (deploy/k8s/base/kafka-topics.yaml): CarbonPartitionsUnowned counts on 12. */
const PARTITIONS = 12;
/** Commodities with a model in service; spread over the partitions, so that each worker owns some. */
const MODELLED = ['WTI', 'BRENT', 'GOLD', 'COPPER', 'SILVER', 'HENRY_HUB'] as const;
/** Ticks arrive, no model (Predict: NO_MODEL). */
const UNMODELLED = 'NICKEL';
/** Never had a tick (Predict: NOT_FOUND). */
const UNKNOWN = 'NO_SUCH_COMMODITY';
/** Ticks per commodity before the traffic (the features' windows warm up), then one per commodity every FEED_MS. */
const WARM_UP_TICKS = 60;
const FEED_MS = 500;
const TRAFFIC_MS = 180_000;
const CALL_ROUND_MS = 1_000;

/** One tick per commodity every FEED_MS, at the wall clock, after WARM_UP_TICKS of the last minutes. */
function liveFeed(publisher: KafkaTickPublisher, commodities: readonly string[]): { stop(): Promise<number> } {
  const series = new Map(commodities.map((c, i) => [c, ar1PriceSeries({ length: 5_000, phi: 0.2, seed: 17 + i })]));
  let i = 0;
  const tick = (c: string, tsMs: number): PriceTick => ({ commodity: c, tsMs, price: series.get(c)![i % 5_000]!.price, unit: 'USD', source: 'test:alerts' });
  let stopped = false;
  const running = (async () => {
    const warmFromMs = Date.now() - WARM_UP_TICKS * 1_000;
    for (; i < WARM_UP_TICKS; i++) await publisher.publish(commodities.map((c) => tick(c, warmFromMs + i * 1_000)));
    await publisher.flush();
    for (; !stopped; i++) {
      await publisher.publish(commodities.map((c) => tick(c, Date.now())));
      await publisher.flush();
      await new Promise((resolve) => setTimeout(resolve, FEED_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return i;
    },
  };
}

function predict(client: PredictionServiceClient, commodity: string, deadlineMs: number): Promise<string> {
  return new Promise((resolve) => {
    client.predict({ commodity, acceptStale: true }, new Metadata(), { deadline: Date.now() + deadlineMs }, (err: ServiceError | null) => {
      resolve(err ? status[err.code] ?? String(err.code) : 'OK');
    });
  });
}

/**
 * Every CALL_ROUND_MS on each of a few connections (node:cluster hands each to either worker, so a commodity is
 * asked of its owner and of the other worker): every modelled commodity with an ordinary deadline and with one of
 * 1-3 ms, the unmodelled one and the unknown one. Returns the codes seen per kind of call.
 */
function ordinaryTraffic(address: string): { stop(): Promise<Map<string, number>> } {
  const clients = Array.from({ length: 2 }, (_, i) => new PredictionServiceClient(address, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1, 'grpc.primary_user_agent': `carbon-alerts-test/${i}`,
  }));
  const codes = new Map<string, number>();
  const count = (kind: string) => (code: string) => codes.set(`${kind} ${code}`, (codes.get(`${kind} ${code}`) ?? 0) + 1);
  let stopped = false;
  const running = (async () => {
    for (let round = 0; !stopped; round++) {
      const tightMs = 1 + (round % 3);
      await Promise.all(clients.flatMap((client) => [
        ...MODELLED.map((c) => predict(client, c, 5_000).then(count('modelled'))),
        ...MODELLED.map((c) => predict(client, c, tightMs).then(count(`deadline ${tightMs} ms`))),
        predict(client, UNMODELLED, 5_000).then(count('no model')),
        predict(client, UNKNOWN, 5_000).then(count('unknown')),
      ]));
      await new Promise((resolve) => setTimeout(resolve, CALL_ROUND_MS));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      for (const c of clients) c.close();
      return codes;
    },
  };
}

/** Sum of an instant query's values by one label. */
async function sumBy(prometheusUrl: string, expr: string, label: string): Promise<Record<string, number>> {
  const answer = await instantQuery(prometheusUrl, expr);
  if (answer.error !== undefined) throw new Error(`${expr}: ${answer.error}`);
  return Object.fromEntries(answer.series.map((s) => [s.labels[label] ?? '', s.values[0] ?? NaN]));
}

test('a healthy cluster with ordinary traffic, client faults included, puts no alert into pending under the real Prometheus', async (t) => {
  t.timeout(TRAFFIC_MS + 240_000);
  const startedMs = Date.now();
  const elapsed = () => `${((Date.now() - startedMs) / 1000).toFixed(1)} s`;
  const env = await testEnvironment(t, PARTITIONS);
  const cluster = await startCluster(t, env, { CARBON_OWNERSHIP_REFRESH: '250ms' });
  await eventually(async () => (await cluster.metric('carbon_partitions_owned')) === PARTITIONS, {
    what: `all ${PARTITIONS} partitions owned`, timeoutMs: 60_000, intervalMs: 250,
  });

  // Models in service through the registry and model-updates, as `carbon train` puts them.
  const store = postgresStore(env.databaseUrl);
  const producer = await kafkaProducer(createKafka(KAFKA_BROKERS, 'carbon-test-alerts'));
  t.teardown(async () => {
    await producer.close();
    await store.close();
  });
  const registry = new ModelRegistry(sqlModelStore(store), modelUpdatePublisher(producer, env.topics.modelUpdates));
  for (const [i, c] of MODELLED.entries()) {
    const version = await registry.saveCandidate(tinyForecasterModel(c, i + 1));
    await registry.promote(version, { actor: 'alerts-test', reason: 'test model' });
  }
  const publisher = await tickPublisher(t, env);
  const feed = liveFeed(publisher, [...MODELLED, UNMODELLED]);
  t.teardown(async () => {
    await feed.stop();
  });
  await eventually(async () => (await cluster.metric('carbon_predictions_total')) >= MODELLED.length, {
    what: 'predictions of the modelled commodities', timeoutMs: 60_000, intervalMs: 250,
  });
  t.log(`${elapsed()}: cluster up, ${MODELLED.length} models in service, ticks flowing`);

  const prometheus = await startPrometheus({ metricsUrl: `${cluster.metricsUrl}/metrics` }, { intervalS: ALERT_TEST_INTERVAL_S });
  t.teardown(() => prometheus.stop());
  t.teardown(() => {
    if (!t.passed) t.log(`prometheus log:\n${prometheus.log()}`);
  });
  const rulesBefore = await awaitRuleEvaluations(prometheus.url, 30_000);
  t.deepEqual(rulesBefore.filter((r) => r.health !== 'ok').map(describeRuleResult), [], 'every rule evaluates');
  const watchFromMs = Date.now();
  const watch = watchAlerts(prometheus.url);
  const traffic = ordinaryTraffic(cluster.grpcAddress);
  t.teardown(async () => {
    await traffic.stop();
    await watch.stop();
  });
  t.log(`${elapsed()}: prometheus scraping, rules evaluated; ${TRAFFIC_MS / 1000} s of traffic`);

  // The whole time, not only at the end: a pending alert that resolves again would be missed otherwise.
  const trafficEndsMs = Date.now() + TRAFFIC_MS;
  while (Date.now() < trafficEndsMs && watch.seen().length === 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
  const codes = await traffic.stop();
  const ticksPerCommodity = await feed.stop();
  await watch.stop();
  t.log(`${elapsed()}: traffic done (${watch.polls()} polls of /api/v1/alerts); answers: ${[...codes].sort().map(([k, n]) => `${k}: ${n}`).join(', ')}`);

  const calls = await sumBy(prometheus.url, 'sum by (kind) (label_join(carbon_grpc_calls_total, "kind", " ", "code", "fault", "path"))', 'kind');
  t.log(`carbon_grpc_calls_total by code, fault, path: ${JSON.stringify(calls)}`);
  const degraded = await sumBy(prometheus.url, 'sum by (cause) (carbon_grpc_degraded_answers_total)', 'cause');
  t.log(`carbon_grpc_degraded_answers_total by cause: ${JSON.stringify(degraded)}`);
  t.deepEqual(watch.seen().map((s) => `${(s.atMs / 1000).toFixed(0)} s: ${describeAlert(s.alert)}`), [], 'no alert pending or firing at any poll');
  t.deepEqual(await alertsRecorded(prometheus.url, (Date.now() - watchFromMs) / 1000), [], 'no ALERTS sample at any evaluation');
  const rulesAfter = await awaitRuleEvaluations(prometheus.url, 30_000);
  t.deepEqual(rulesAfter.filter((r) => r.health !== 'ok').map(describeRuleResult), [], 'every rule still evaluates');

  // The traffic was what this test claims, as the cluster counted it.
  for (const kind of ['OK none local', 'OK none forwarded']) t.true((calls[kind] ?? 0) > 0, `calls counted as ${kind}`);
  const counted = (code: string, fault: string) => Object.entries(calls).filter(([k]) => k.startsWith(`${code} ${fault} `)).reduce((a, [, n]) => a + n, 0);
  t.true(counted('NOT_FOUND', 'client') > 0, 'unknown commodities counted as the client\'s');
  t.true(counted('UNAVAILABLE', 'client') > 0, 'NO_MODEL answers counted as the client\'s');
  t.true(counted('DEADLINE_EXCEEDED', 'client') > 0, 'tight deadlines counted as the client\'s');
  const predicted = (await sumBy(prometheus.url, `sum(increase(carbon_predictions_total[${Math.ceil((Date.now() - watchFromMs) / 1000)}s]))`, ''))[''] ?? 0;
  t.true(predicted > MODELLED.length, `predictions made during the traffic (${predicted.toFixed(0)})`);
  t.log(`${elapsed()}: ${ticksPerCommodity} ticks per commodity fed`);
});
