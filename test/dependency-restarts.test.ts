/**
 * Dependencies that restart under a running cluster, on an instance of the services of this file's own (the shared
 * ones stay up for every other test): Postgres, Redis and the Kafka broker each stopped mid-stream, left down a few
 * seconds and started again. The pipeline waits, retries with backoff, says so in its metrics and logs, resumes by
 * itself without a worker restart, and every store and topic ends up exact.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { readDailyPrices } from './daily-price-csv.ts';
import { Alert } from '../proto/gen/carbon/v1/alert.ts';
import { startCluster, testEnvironment, tickPublisher, type RunningCluster, type TestEnvironment } from './cluster-harness.ts';
import { readTopic } from './ingest-kafka-helpers.ts';
import { REAL_SERIES, assertStoredFeaturesMatch, interleavedRealTicks, streamTicks, waitForRows } from './pipeline-expectations.ts';
import { referenceFeatures } from './reference-features.ts';
import { serviceInstance, type RestartableService, type ServiceInstance } from './service-instance.ts';

/** Ports 19092-19095: Kafka, its controller, Postgres, Redis of this file's instance. */
const PORT_BASE = 19_092;
let instance: ServiceInstance | undefined;

test.before(async () => {
  instance = await serviceInstance('deps', PORT_BASE);
});

test.after.always(async () => {
  await instance?.down();
});

/** What each dependency is called in carbon_dependency_waiting. */
const dependencyLabel: Record<RestartableService, string> = { postgres: 'postgres', redis: 'online-store', kafka: 'kafka' };

/** The alerts the reference features call for (|z| above the default threshold of 4), as commodity@tsMs. */
function expectedAlerts(): string[] {
  return REAL_SERIES.flatMap((s) => referenceFeatures(readDailyPrices(s.file), 50)
    .filter((f) => f.zScore !== undefined && Math.abs(f.zScore) > 4)
    .map((f) => `${s.commodity}@${f.tsMs}`)).sort();
}

/** Polls carbon_dependency_waiting (summed over the workers) while `during` runs; resolves with the largest sum seen. */
async function waitingSeen(cluster: RunningCluster, dependency: string, during: Promise<void>): Promise<number> {
  let max = 0;
  let done = false;
  void during.finally(() => {
    done = true;
  });
  while (!done) {
    max = Math.max(max, await cluster.metric('carbon_dependency_waiting', { dependency }).catch(() => 0));
    await new Promise((r) => setTimeout(r, 100));
  }
  // The last failures may be counted a moment after the service is back.
  return Math.max(max, await cluster.metric('carbon_dependency_waiting', { dependency }));
}

async function assertExact(t: Parameters<typeof assertStoredFeaturesMatch>[0], env: TestEnvironment, ticks: number): Promise<void> {
  await waitForRows(env, ticks, 180_000);
  for (const s of REAL_SERIES) await assertStoredFeaturesMatch(t, env, s.commodity, readDailyPrices(s.file));
  const alerts = (await readTopic(env.topics.alerts, 60_000, (env.env.KAFKA_BROKERS ?? '').split(','))).map((m) => {
    const a = Alert.decode(m.value);
    return `${a.commodity}@${a.tsMs}`;
  }).sort();
  t.deepEqual(alerts, expectedAlerts(), 'every alert once on commodity-alerts, for a read_committed subscriber');
}

for (const service of ['postgres', 'redis', 'kafka'] as const) {
  test.serial(`${service} restarted mid-stream: the pipeline waits, says so, resumes by itself without a worker restart, and loses and doubles nothing`, async (t) => {
    if (instance === undefined) return t.fail('no service instance');
    const env = await testEnvironment(t, 6, instance);
    const cluster = await startCluster(t, env);
    const publisher = await tickPublisher(t, env);
    const ticks = interleavedRealTicks();
    const half = Math.floor(ticks.length / 2);
    await streamTicks(publisher, ticks.slice(0, half), 500, 20);
    let restarted: Promise<void>;
    if (service === 'kafka') {
      // Nothing is published while the broker is away; the first half is in flight or committed when it goes.
      await publisher.flush();
      restarted = instance.restart('kafka', 3);
      const seen = await waitingSeen(cluster, dependencyLabel[service], restarted);
      t.true(seen >= 1, 'carbon_dependency_waiting said a worker waited for kafka');
      await streamTicks(publisher, ticks.slice(half), 500, 20);
    } else {
      restarted = instance.restart(service, 3);
      const seen = waitingSeen(cluster, dependencyLabel[service], restarted);
      await streamTicks(publisher, ticks.slice(half), 500, 20);
      t.true((await seen) >= 1, `carbon_dependency_waiting said a worker waited for ${service}`);
    }
    await restarted;
    await assertExact(t, env, ticks.length);
    t.true((await cluster.metric('carbon_dependency_failures_total', { dependency: dependencyLabel[service] })) > 0);
    t.is(await cluster.metric('carbon_worker_restarts_total'), 0, 'no worker gave up');
    const log = readFileSync(cluster.logFile, 'utf8');
    t.regex(log, service === 'kafka' ? /"event":"partition_(commit|open)_failed"/ : /"event":"store_write_failed"/, 'the wait is in the logs');
  });
}
