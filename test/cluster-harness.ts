/**
 * A real `carbon start` cluster in a child process, on a fresh database and topic namespace, for the integration
 * tests; and a publisher of ticks to its prices topic. The cluster's logs go to a file whose tail is printed when
 * a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import pg from 'pg';
import { createKafka } from '../connectors/kafka/client.ts';
import { connectKafkaTickPublisher, type KafkaTickPublisher } from '../connectors/kafka/tick-publisher.ts';
import type { Topics } from '../connectors/kafka/topics.ts';
import { eventually } from './eventually.ts';
import { freePort } from './free-port.ts';
import { sampleValues } from './prometheus-text.ts';
import { SHARED_SERVICES, freshDatabase, freshTopics, uniqueName, type ServiceEndpoints } from './services.ts';


export interface TestEnvironment {
  readonly databaseUrl: string;
  readonly prefix: string;
  readonly topics: Topics;
  readonly groupId: string;
  readonly db: pg.Pool;
  /** The environment a cluster (or a CLI command) of this test runs with. */
  readonly env: Record<string, string>;
}

/** A fresh database, topic namespace and consumer group on the real services (the shared ones unless told). */
export async function testEnvironment(t: ExecutionContext, partitions = 6, services: ServiceEndpoints = SHARED_SERVICES): Promise<TestEnvironment> {
  const databaseUrl = await freshDatabase(t, services.pgAdminUrl);
  const { prefix, topics } = await freshTopics(t, partitions, services.kafkaBrokers);
  const groupId = uniqueName('carbon_test_group');
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // An idle connection cut by a Postgres restart (the tests that restart it) is replaced at the next query.
  db.on('error', () => undefined);
  t.teardown(() => db.end());
  return {
    databaseUrl,
    prefix,
    topics,
    groupId,
    db,
    env: {
      KAFKA_BROKERS: services.kafkaBrokers.join(','),
      DATABASE_URL: databaseUrl,
      REDIS_URL: services.redisUrl,
      CARBON_TOPIC_PREFIX: prefix,
      CARBON_REDIS_PREFIX: `${prefix}:`,
      CARBON_CONSUMER_GROUP: groupId,
      CARBON_TOPIC_PARTITIONS: String(partitions),
      CARBON_KAFKA_SESSION_TIMEOUT: '3s',
      CARBON_KAFKA_HEARTBEAT_INTERVAL: '500ms',
      CARBON_LOG_LEVEL: 'info',
    },
  };
}

export interface RunningCluster {
  readonly metricsUrl: string;
  /** The public gRPC address every worker serves. */
  readonly grpcAddress: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Pids of the live workers. */
  workerPids(): Promise<number[]>;
  metrics(): Promise<string>;
  /** The value of one sample in /metrics (summed over label sets matching `labels`), 0 when absent. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Sends a chaos command; resolves with how many workers acted on it (a crash acted on is a crash that happened). */
  chaos(query: string): Promise<number>;
  /** Sends `signal` to the primary and resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startCluster(t: ExecutionContext, env: TestEnvironment, extra: Record<string, string> = {}): Promise<RunningCluster> {
  const port = await freePort();
  const grpcPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'carbon-cluster-'));
  const logFile = join(dir, 'cluster.log');
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ['cli/bin.js', 'start'], {
    env: {
      ...process.env, ...env.env, CARBON_METRICS_PORT: String(port), CARBON_GRPC_PORT: String(grpcPort),
      CARBON_GRPC_INTERNAL_PORT_BASE: '0', CARBON_WORKERS: '2', CARBON_CHAOS: 'true', ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const metricsUrl = `http://127.0.0.1:${port}`;
  const cluster: RunningCluster = {
    metricsUrl,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    child,
    logFile,
    async workerPids() {
      const res = await fetch(`${metricsUrl}/healthz`);
      return ((await res.json()) as { pids: number[] }).pids;
    },
    async metrics() {
      return (await fetch(`${metricsUrl}/metrics`)).text();
    },
    async metric(name, labels = {}) {
      return sampleValues(await cluster.metrics(), name, labels).reduce((a, b) => a + b, 0);
    },
    async chaos(query) {
      const res = await fetch(`${metricsUrl}/chaos/crash?${query}`, { method: 'POST' });
      if (res.status !== 202) throw new Error(`chaos ${query}: HTTP ${res.status} ${await res.text()}`);
      return ((await res.json()) as { applied: number }).applied;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  });
  t.teardown(() => {
    if (!t.passed) t.log(`cluster log tail (${logFile}):\n${readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n')}`);
  });
  await eventually(async () => {
    try {
      const pids = await cluster.workerPids();
      // Both workers running (so that both listen to chaos commands), and the partitions assigned.
      const running = readFileSync(logFile, 'utf8').split('"event":"worker_running"').length - 1;
      return pids.length === 2 && running >= 2 && (await cluster.metric('carbon_partitions_owned')) > 0;
    } catch {
      return false;
    }
  }, { what: 'the cluster to start and own partitions', timeoutMs: 60_000, intervalMs: 200 });
  return cluster;
}

export async function tickPublisher(t: ExecutionContext, env: TestEnvironment): Promise<KafkaTickPublisher> {
  const publisher = await connectKafkaTickPublisher(createKafka((env.env.KAFKA_BROKERS ?? '').split(','), 'carbon-test-publisher'), {
    topic: env.topics.prices,
    maxMessageBytes: 64 * 1024,
    batchSize: 500,
  });
  t.teardown(() => publisher.close());
  return publisher;
}

/** Row count of a table in the test database. */
export async function countRows(env: TestEnvironment, table: 'ticks' | 'features' | 'predictions'): Promise<number> {
  const { rows } = await env.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(rows[0]?.n ?? 0);
}

/** Resolves once `pid` has exited (gone, or a zombie not reaped yet). */
export async function processExited(pid: number): Promise<void> {
  await eventually(() => {
    try {
      return /^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return true; // no /proc entry: the process is gone
    }
  }, { what: `process ${pid} to exit`, timeoutMs: 10_000, intervalMs: 10 });
}
