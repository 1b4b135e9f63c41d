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

export function uniqueName(stem: string): string {
  return `${stem}_${randomBytes(4).toString('hex')}`;
}

/** A new empty database on the real Postgres server, dropped when the test ends. */
export async function freshDatabase(t: ExecutionContext): Promise<string> {
  const name = uniqueName('carbon_test');
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  });
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The platform's topics under a fresh prefix on the real broker (created now, deleted when the test ends). */
export async function freshTopics(t: ExecutionContext, partitions = 3): Promise<{ prefix: string; topics: Topics }> {
  const prefix = `${uniqueName('t')}.`;
  const topics = topicNames(prefix);
  await prepareTopics(createKafka(KAFKA_BROKERS, 'carbon-test'), topics, partitions);
  t.teardown(async () => {
    const a = createKafka(KAFKA_BROKERS, 'carbon-test').admin();
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
