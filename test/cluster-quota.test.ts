/**
 * Cluster quotas on the real Redis: several workers' quota ports share each tenant's bucket, so a tenant's admitted
 * rate is its quota whatever the number of workers it spreads its calls over, and most calls are decided without
 * a round trip to Redis.
 */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { leaseSize, RedisQuotas } from '../gateway/quota-leases.ts';
import { redisClient } from '../connectors/redis/online-store.ts';
import type { Tenant } from '../gateway/tenants.ts';
import { createLogger } from '../platform/logger.ts';
import { quotaLeases } from '../platform/metrics.ts';
import { REDIS_URL, uniqueName } from './services.ts';

const quiet = createLogger({ test: 'cluster-quota' }, () => undefined);

async function leasesAsked(): Promise<{ granted: number; refused: number }> {
  const m = await quotaLeases.get();
  const of = (outcome: string) => m.values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
  return { granted: of('granted'), refused: of('refused') };
}

test('four workers hammering one tenant admit its quota, within 10 %, asking Redis for a fraction of the calls', async (t) => {
  const prefix = `${uniqueName('quota')}:`;
  const redis = redisClient(REDIS_URL);
  t.teardown(() => redis.quit());
  const workers = Array.from({ length: 4 }, () => new RedisQuotas(redis, prefix, quiet));
  const tenant: Tenant = { name: 'acme', commodities: undefined, ratePerSecond: 400, burst: 40 };
  const asksBefore = await leasesAsked();
  const started = Date.now();
  const seconds = 4;
  let admitted = 0;
  let calls = 0;
  // Eight clients, two per worker, each calling as fast as it can (yielding a moment after a refusal).
  await Promise.all(Array.from({ length: 8 }, async (_, i) => {
    const q = workers[i % workers.length] as RedisQuotas;
    while (Date.now() - started < seconds * 1_000) {
      calls += 1;
      const r = q.take(tenant);
      const wait = typeof r === 'number' ? r : await r;
      if (wait === 0) admitted += 1;
      else await sleep(1);
    }
  }));
  const elapsedS = (Date.now() - started) / 1_000;
  const expected = tenant.ratePerSecond * elapsedS + tenant.burst;
  const after = await leasesAsked();
  const granted = after.granted - asksBefore.granted;
  const refused = after.refused - asksBefore.refused;
  t.log(`${admitted} admitted of ${calls} calls in ${elapsedS.toFixed(2)} s (quota allows ${expected.toFixed(0)}); asks of Redis: ${granted} granted, ${refused} refused`);
  t.true(Math.abs(admitted - expected) <= expected * 0.1, `${admitted} admitted, ${expected.toFixed(0)} allowed`);
  t.true(granted < admitted / 5, `${granted} leases for ${admitted} admitted calls`);
  t.true(granted + refused < calls / 5, `${granted + refused} asks for ${calls} calls`);
  for (const w of workers) await w.close();
});

test('lease sizes: about 50 ms of the rate, at least one token, never more than the burst', (t) => {
  t.is(leaseSize(400, 40), 20);
  t.is(leaseSize(1, 1), 1);
  t.is(leaseSize(10_000, 100), 100);
  t.is(leaseSize(0.01, 1), 1);
});
