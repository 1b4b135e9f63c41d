import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readDailyPrices } from './daily-price-csv.ts';
import { startCluster, testEnvironment } from './cluster-harness.ts';
import { REAL_SERIES, assertStoredFeaturesMatch, waitForRows } from './pipeline-expectations.ts';

const run = promisify(execFile);

test('carbon ingest of the WTI, Brent and Henry Hub files through a running cluster stores one ticks and one features row per valid tick, equal to the reference', async (t) => {
  const env = await testEnvironment(t);
  const cluster = await startCluster(t, env);
  let expected = 0;
  for (const s of REAL_SERIES) {
    await run(process.execPath, ['cli/bin.js', 'ingest', 'csv', `data/${s.file}`], { env: { ...process.env, ...env.env } });
    expected += readDailyPrices(s.file).length;
  }
  await waitForRows(env, expected);
  for (const s of REAL_SERIES) await assertStoredFeaturesMatch(t, env, s.commodity, readDailyPrices(s.file));
  t.true((await cluster.metric('carbon_ticks_processed_total')) >= expected);
  t.is(await cluster.stop('SIGTERM'), 0, 'SIGTERM stops the cluster with status 0');
});
