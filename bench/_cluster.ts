/**
 * What the cluster benchmarks share: a fresh database and topic namespace on the real services, a `carbon start`
 * child process, reading its metrics, sampling its workers' memory, and cleaning up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createKafka, prepareTopics } from '../connectors/kafka/client.ts';
import { topicNames, type Topics } from '../connectors/kafka/topics.ts';
import { freePort } from '../test/free-port.ts';
import { sampleValues } from '../test/prometheus-text.ts';

const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}


export interface BenchEnvironment {
  readonly name: string;
  readonly databaseUrl: string;
  readonly topics: Topics;
  /** Partitions of the prices topic. */
  readonly partitions: number;
  readonly env: Record<string, string>;
  readonly db: pg.Pool;
  cleanup(): Promise<void>;
}

export async function benchEnvironment(partitions: number, extraEnv: Record<string, string> = {}): Promise<BenchEnvironment> {
  const name = `carbon_bench_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const prefix = `${name}.`;
  const topics = topicNames(prefix);
  await prepareTopics(createKafka(BROKERS, 'carbon-bench'), topics, partitions);
  const db = new pg.Pool({ connectionString: url.toString(), max: 2 });
  return {
    name,
    databaseUrl: url.toString(),
    topics,
    partitions,
    db,
    env: {
      KAFKA_BROKERS: BROKERS.join(','),
      DATABASE_URL: url.toString(),
      REDIS_URL: REDIS,
      CARBON_TOPIC_PREFIX: prefix,
      CARBON_REDIS_PREFIX: `${prefix}:`,
      CARBON_CONSUMER_GROUP: `${name}_group`,
      CARBON_TOPIC_PARTITIONS: String(partitions),
      CARBON_LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    async cleanup() {
      await db.end();
      const a = createKafka(BROKERS, 'carbon-bench').admin();
      await a.connect();
      const mine = (await a.listTopics()).filter((t) => t.startsWith(prefix));
      if (mine.length > 0) await a.deleteTopics({ topics: mine });
      await a.disconnect();
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface BenchCluster {
  readonly metricsUrl: string;
  readonly child: ChildProcess;
  workerPids(): Promise<number[]>;
  /** The sum of a metric's series over labels and workers. */
  metric(name: string): Promise<number>;
  /** The value of each of a metric's series. */
  metricSeries(name: string): Promise<number[]>;
  stop(): Promise<void>;
}

export async function startBenchCluster(env: BenchEnvironment, workers: number, extra: Record<string, string> = {}): Promise<BenchCluster> {
  const port = await freePort();
  const grpcPort = await freePort();
  const logFile = `/tmp/${env.name}.log`;
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ['cli/bin.js', 'start'], {
    env: {
      ...process.env, ...env.env, CARBON_METRICS_PORT: String(port), CARBON_GRPC_PORT: String(grpcPort),
      CARBON_GRPC_INTERNAL_PORT_BASE: '0', CARBON_WORKERS: String(workers), ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metricsUrl = `http://127.0.0.1:${port}`;
  const cluster: BenchCluster = {
    metricsUrl,
    child,
    async workerPids() {
      return ((await (await fetch(`${metricsUrl}/healthz`)).json()) as { pids: number[] }).pids;
    },
    async metric(name) {
      return (await cluster.metricSeries(name)).reduce((a, b) => a + b, 0);
    },
    async metricSeries(name) {
      return sampleValues(await (await fetch(`${metricsUrl}/metrics`)).text(), name);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const pids = await cluster.workerPids();
      // Steady: every worker owns partitions and together they own them all, so no rebalance is still to come
      // when the measured stream starts.
      const owned = await cluster.metricSeries('carbon_partitions_owned');
      if (pids.length === workers && owned.filter((n) => n > 0).length === workers && owned.reduce((a, b) => a + b, 0) === env.partitions) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await cluster.stop();
      throw new Error(`cluster did not start within 60 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return cluster;
}

/** Resident set size of a process, in MB (Linux /proc), or 0 when it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on every Linux build that matters here). */
const USER_HZ = 100;

/** CPU time (user + system) a process has used, in seconds (Linux /proc), or 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return 0;
  }
}

/** The pids of a process's children (Linux /proc). */
export function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter((p) => p !== '').map(Number);
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
