/**
 * The real services the integration tests talk to (started by `npm test` through deploy/local/services.sh), and
 * fresh namespaces on them so that test files running side by side never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { createKafka, prepareTopics } from '../connectors/kafka/client.ts';
import { topicNames, type Topics } from '../connectors/kafka/topics.ts';

export const KAFKA_BROKERS = (process.env.TEST_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Where a test's services are: the shared ones by default, or an instance of its own (test/service-instance.ts). */
export interface ServiceEndpoints {
  readonly kafkaBrokers: readonly string[];
  readonly pgAdminUrl: string;
  readonly redisUrl: string;
}

export const SHARED_SERVICES: ServiceEndpoints = { kafkaBrokers: KAFKA_BROKERS, pgAdminUrl: PG_ADMIN_URL, redisUrl: REDIS_URL };

export function uniqueName(stem: string): string {
  return `${stem}_${randomBytes(4).toString('hex')}`;
}

/** A new empty database on the real Postgres server, dropped when the test ends. */
export async function freshDatabase(t: ExecutionContext, adminUrl = PG_ADMIN_URL): Promise<string> {
  const name = uniqueName('carbon_test');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The platform's topics under a fresh prefix on the real broker (created now, deleted when the test ends). */
export async function freshTopics(t: ExecutionContext, partitions = 3, brokers: readonly string[] = KAFKA_BROKERS): Promise<{ prefix: string; topics: Topics }> {
  const prefix = `${uniqueName('t')}.`;
  const topics = topicNames(prefix);
  await prepareTopics(createKafka(brokers, 'carbon-test'), topics, partitions);
  t.teardown(async () => {
    const a = createKafka(brokers, 'carbon-test').admin();
    await a.connect();
    try {
      const mine = (await a.listTopics()).filter((name) => name.startsWith(prefix));
      if (mine.length > 0) await a.deleteTopics({ topics: mine });
    } finally {
      await a.disconnect();
    }
  });
  return { prefix, topics };
}
