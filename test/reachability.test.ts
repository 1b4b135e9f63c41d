/**
 * The start-up check of the real services: the ones running here answer; one that refuses connections and one
 * that accepts them but never answers are each named, with the address and the variable.
 */
import { createServer, type Server, type Socket } from 'node:net';
import test from 'ava';
import { addressOf, ensureReachable, kafkaCheck, postgresCheck, redisCheck } from '../connectors/reachability.ts';
import { ServicesUnreachableError } from '../connectors/services-unreachable.ts';
import { freePort } from './free-port.ts';
import { KAFKA_BROKERS, PG_ADMIN_URL, REDIS_URL } from './services.ts';

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

test('Kafka, Postgres and Redis of the test services answer', async (t) => {
  await t.notThrowsAsync(ensureReachable([kafkaCheck(KAFKA_BROKERS), postgresCheck(PG_ADMIN_URL), redisCheck(REDIS_URL)], 5_000));
});

test('a service that refuses connections is named with its address and variable; the others are not', async (t) => {
  const port = await freePort();
  const err = await t.throwsAsync(ensureReachable([postgresCheck(PG_ADMIN_URL), redisCheck(`redis://127.0.0.1:${port}`)], 2_000), { instanceOf: ServicesUnreachableError });
  t.is(err?.unreachable.length, 1);
  t.like(err?.unreachable[0], { service: 'Redis', variable: 'REDIS_URL', address: `127.0.0.1:${port}` });
  t.regex(err?.message ?? '', new RegExp(`^Redis at 127\\.0\\.0\\.1:${port} \\(REDIS_URL\\) did not answer within 2000 ms: .*ECONNREFUSED`));
});

test('services that accept a connection but never answer are each named once the connect timeout is over', async (t) => {
  const silent = await silentServer();
  t.teardown(() => silent.close());
  const err = await t.throwsAsync(ensureReachable([
    kafkaCheck([`127.0.0.1:${silent.port}`]),
    postgresCheck(`postgres://postgres@127.0.0.1:${silent.port}/test`),
    redisCheck(`redis://127.0.0.1:${silent.port}`),
  ], 300), { instanceOf: ServicesUnreachableError });
  t.deepEqual(err?.unreachable.map((u) => u.service), ['Kafka', 'Postgres', 'Redis']);
  t.deepEqual(err?.unreachable.map((u) => u.variable), ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL']);
  t.true(err?.message.split('; ').every((part) => part.includes(`127.0.0.1:${silent.port}`) && part.includes('within 300 ms')));
});

test('an address is shown without credentials', (t) => {
  t.is(addressOf('postgres://carbon:s3cret@db.internal:5432/prod'), 'db.internal:5432/prod');
  t.is(addressOf('rediss://:token@cache:6380'), 'cache:6380');
});
