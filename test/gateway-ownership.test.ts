/** Partition ownership in the real Redis: fencing tokens make a stale claim lose, and a worker withdraws only its own entries. */
import test from 'ava';
import { redisClient } from '../connectors/redis/online-store.ts';
import { redisOwnershipRegistry } from '../connectors/redis/ownership.ts';
import { REDIS_URL, uniqueName } from './services.ts';

test('a claim with an older fencing token loses to a newer one, whatever the order they reach Redis', async (t) => {
  const redis = redisClient(REDIS_URL);
  t.teardown(async () => {
    await redis.quit();
  });
  const prefix = `${uniqueName('gw')}:`;
  const a = redisOwnershipRegistry(redis, prefix, { workerId: 'a', endpoint: '127.0.0.1:1' });
  const b = redisOwnershipRegistry(redis, prefix, { workerId: 'b', endpoint: '127.0.0.1:2' });
  const older = await a.nextEpoch();
  const newer = await b.nextEpoch();
  t.true(newer > older, 'tokens grow');
  t.deepEqual(await b.claim([0, 1], newer, 10_000), [0, 1]);
  t.deepEqual(await a.claim([0, 1, 2], older, 10_000), [2], 'the late, older assignment takes only what nobody fresher holds');
  const owners = await a.readAll(3);
  t.deepEqual(owners.map((o) => o?.workerId), ['b', 'b', 'a']);
  t.is(owners[0]?.endpoint, '127.0.0.1:2');
  await a.withdraw([0, 1, 2]);
  t.deepEqual((await b.readAll(3)).map((o) => o?.workerId), ['b', 'b', undefined], 'a withdraws only its own entries');
});

test('an entry is a lease: unrenewed, it expires and the partition is unowned', async (t) => {
  const redis = redisClient(REDIS_URL);
  t.teardown(async () => {
    await redis.quit();
  });
  const prefix = `${uniqueName('gw')}:`;
  const a = redisOwnershipRegistry(redis, prefix, { workerId: 'a', endpoint: '127.0.0.1:1' });
  await a.claim([0], await a.nextEpoch(), 300);
  t.is((await a.readAll(1))[0]?.workerId, 'a');
  const deadline = Date.now() + 10_000;
  while ((await a.readAll(1))[0] !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.is((await a.readAll(1))[0], undefined);
});
