/**
 * Whether the real services answer, checked once at start before anything depends on them: each is asked one
 * cheap question (Kafka: the cluster's brokers; Postgres: SELECT 1; Redis: PING) with its own short-lived client,
 * under one connect timeout, all three at once. A service that does not answer in time is named, with its
 * address and variable, instead of a process that retries it for minutes. The clients here log nothing: the
 * verdict is the report (services-unreachable.ts).
 */
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { ServicesUnreachableError, type Unreachable } from './services-unreachable.ts';

export interface ServiceCheck {
  /** `Kafka`, `Postgres`, `Redis`. */
  readonly service: string;
  /** The variable that sets it. */
  readonly variable: string;
  /** Where it was looked for, without credentials. */
  readonly address: string;
  /** Resolves when the service answered; the timeout is applied around it as well. */
  probe(timeoutMs: number): Promise<void>;
}

/** host:port/path of a URL, without user or password. */
export function addressOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}${u.port === '' ? '' : `:${u.port}`}${u.pathname === '/' ? '' : u.pathname}`;
}

function reasonOf(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; errors?: unknown };
  // A connection refused on every address of a name comes as an AggregateError whose own message is empty.
  if (Array.isArray(e.errors) && e.errors.length > 0) return reasonOf(e.errors[0]);
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  return typeof e.code === 'string' && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

export function kafkaCheck(brokers: readonly string[]): ServiceCheck {
  return {
    service: 'Kafka',
    variable: 'KAFKA_BROKERS',
    address: brokers.join(','),
    async probe(timeoutMs) {
      const kafka = new Kafka({
        clientId: 'carbon-reachability',
        brokers: [...brokers],
        connectionTimeout: timeoutMs,
        requestTimeout: timeoutMs,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.describeCluster();
      } finally {
        await admin.disconnect();
      }
    },
  };
}

export function postgresCheck(databaseUrl: string): ServiceCheck {
  return {
    service: 'Postgres',
    variable: 'DATABASE_URL',
    address: addressOf(databaseUrl),
    async probe(timeoutMs) {
      const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs });
      // Errors after connect (the server going away) reject the query below; this only keeps them from being unhandled.
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
      } finally {
        await client.end();
      }
    },
  };
}

export function redisCheck(redisUrl: string): ServiceCheck {
  return {
    service: 'Redis',
    variable: 'REDIS_URL',
    address: addressOf(redisUrl),
    async probe(timeoutMs) {
      const redis = new Redis(redisUrl, {
        lazyConnect: true,
        connectTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      // connect() rejects with "Connection is closed."; the cause (ECONNREFUSED, ...) comes as an event.
      let cause: unknown;
      redis.on('error', (err: unknown) => {
        cause ??= err;
      });
      try {
        await redis.connect();
        await redis.ping();
      } catch (err) {
        throw cause ?? err;
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** Rejects after `ms` with a timeout message, unless `work` settles first. */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check at once; resolves when all answered, else throws one error naming each that did not. */
export async function ensureReachable(checks: readonly ServiceCheck[], timeoutMs: number): Promise<void> {
  const outcomes = await Promise.all(checks.map(async (check): Promise<Unreachable | undefined> => {
    // The probe keeps running after a timeout until its own client gives up; its late outcome is not needed.
    const probing = check.probe(timeoutMs);
    probing.catch(() => undefined);
    try {
      await within(probing, timeoutMs);
      return undefined;
    } catch (err) {
      return { service: check.service, variable: check.variable, address: check.address, reason: reasonOf(err) };
    }
  }));
  const unreachable = outcomes.filter((o): o is Unreachable => o !== undefined);
  if (unreachable.length > 0) throw new ServicesUnreachableError(unreachable, timeoutMs);
}
