import test from 'ava';
import { readDailyPrices } from './daily-price-csv.ts';
import { startCluster, testEnvironment, tickPublisher } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { REAL_SERIES, assertStoredFeaturesMatch, interleavedRealTicks, streamTicks, waitForRows } from './pipeline-expectations.ts';

async function assertAllSeriesMatch(t: Parameters<typeof assertStoredFeaturesMatch>[0], env: Parameters<typeof assertStoredFeaturesMatch>[1]): Promise<void> {
  for (const s of REAL_SERIES) await assertStoredFeaturesMatch(t, env, s.commodity, readDailyPrices(s.file));
}

test('50 crashes of random commodity actors during the stream lose and double nothing, and the features equal the crash-free reference', async (t) => {
  const env = await testEnvironment(t);
  const cluster = await startCluster(t, env);
  const publisher = await tickPublisher(t, env);
  const ticks = interleavedRealTicks();
  let crashes = 0;
  let asked = 0;
  const chaos = (async () => {
    // Spread over the stream so that most restarts stay at the commodity level (5 in 10 s per actor). A command that
    // finds no actor (its commodity has had no tick yet) is not a crash: only those a worker acted on count.
    while (crashes < 50 && asked < 200) {
      const target = REAL_SERIES[Math.floor(Math.random() * REAL_SERIES.length)]?.commodity ?? 'WTI';
      asked++;
      crashes += await cluster.chaos(`commodity=${target}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  await streamTicks(publisher, ticks, 400, 0, async (sent) => {
    // Keep the stream running until the 50 crashes happened.
    if (sent < ticks.length) await new Promise((r) => setTimeout(r, crashes < 50 ? 350 : 0));
  });
  await chaos;
  await waitForRows(env, ticks.length);
  t.is(crashes, 50, `50 crashes happened (${asked} asked)`);
  await eventually(async () => (await cluster.metric('carbon_actor_crashes_total', { level: 'commodity' })) === 50, {
    what: 'exactly the 50 crashes to be counted', timeoutMs: 10_000, intervalMs: 200,
  });
  t.log(`crashes ${crashes} of ${asked} asked; restarts ${await cluster.metric('carbon_actor_restarts_total')}`);
  await assertAllSeriesMatch(t, env);
});

test('SIGKILL of one of two workers mid-stream: the partitions are taken over and every tick is stored exactly once with unchanged features', async (t) => {
  const env = await testEnvironment(t);
  const cluster = await startCluster(t, env);
  const publisher = await tickPublisher(t, env);
  const ticks = interleavedRealTicks();
  let killed: number | undefined;
  await streamTicks(publisher, ticks, 500, 60, async (sent) => {
    if (killed === undefined && sent >= ticks.length / 3) {
      const [victim] = await cluster.workerPids();
      if (victim !== undefined) {
        process.kill(victim, 'SIGKILL');
        killed = victim;
      }
    }
  });
  t.truthy(killed, 'a worker was killed mid-stream');
  await waitForRows(env, ticks.length);
  await assertAllSeriesMatch(t, env);
  await eventually(async () => (await cluster.metric('carbon_worker_restarts_total')) >= 1, { what: 'the primary to restart the worker', timeoutMs: 20_000, intervalMs: 200 });
});

test('SIGTERM during a stream commits what was processed; after a restart nothing is lost or doubled', async (t) => {
  const env = await testEnvironment(t);
  const first = await startCluster(t, env);
  const publisher = await tickPublisher(t, env);
  const ticks = interleavedRealTicks();
  const half = Math.floor(ticks.length / 2);
  let exitCode: number | null | undefined;
  await streamTicks(publisher, ticks.slice(0, half), 500, 20);
  const stopping = first.stop('SIGTERM').then((code) => {
    exitCode = code;
  });
  await streamTicks(publisher, ticks.slice(half), 500, 20);
  await stopping;
  t.is(exitCode, 0, 'the cluster drained and exited 0');
  await startCluster(t, env);
  await waitForRows(env, ticks.length);
  await assertAllSeriesMatch(t, env);
});
