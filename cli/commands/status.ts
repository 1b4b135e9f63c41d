/**
 * `carbon status`: a one-shot view of a running cluster. The primary's operators' endpoint (GET /status) says
 * which workers run and how often they restarted; Redis who owns which partition; Kafka the group's lag; Postgres
 * the commodities and the champions in service. Each source is asked on its own, under CARBON_CONNECT_TIMEOUT,
 * and one that does not answer is named in its section while the others are still shown.
 * Exit status: 0 the primary answered, 2 bad configuration, 3 the primary did not answer.
 */
import { CommanderError, type Command } from 'commander';
import { logLevel } from 'kafkajs';
import { createKafka } from '../../connectors/kafka/client.ts';
import { groupLag, type PartitionLag } from '../../connectors/kafka/group-lag.ts';
import { topicNames } from '../../connectors/kafka/topics.ts';
import { championsInService, storedCommodities } from '../../connectors/postgres/service-view.ts';
import { postgresStore, type SqlStore } from '../../connectors/postgres/sql-store.ts';
import { redisClient } from '../../connectors/redis/online-store.ts';
import { redisOwnershipRegistry } from '../../connectors/redis/ownership.ts';
import { withTimeout } from '../../gateway/with-timeout.ts';
import { loadConfig, type Config } from '../../platform/config.ts';
import type { PrimaryStatus } from '../../supervisors/cluster/primary-status.ts';
import { renderStatus, type Fetched, type StatusInputs } from './status-view.ts';

/** An error's message, and its cause's (fetch says only "fetch failed"; the cause says ECONNREFUSED). */
function why(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error && !err.message.includes(err.cause.message) ? `${err.message}: ${err.cause.message}` : err.message;
}

/** Resolves with what `work` gave, or why it gave nothing within `timeoutMs`. */
async function fetched<T>(work: () => Promise<T>, timeoutMs: number): Promise<Fetched<T>> {
  try {
    return { ok: true, value: await withTimeout(work(), timeoutMs, 'it') };
  } catch (err) {
    return { ok: false, why: why(err) };
  }
}

const notSet = (variable: string): Fetched<never> => ({ ok: false, why: `${variable} is not set` });

async function askPrimary(url: string, timeoutMs: number): Promise<PrimaryStatus> {
  const res = await fetch(new URL('/status', url), { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET /status answered ${res.status}`);
  return (await res.json()) as PrimaryStatus;
}

/** Kafka's part: the partition count of the prices topic and the group's lag on it. */
async function askKafka(config: Config, brokers: readonly string[], timeoutMs: number): Promise<{ topic: string; groupId: string; partitions: PartitionLag[] }> {
  const topic = topicNames(config.kafka.topicPrefix).prices;
  // One retry: kafkajs needs it to load the metadata of a first request ("No brokers in the broker pool" without).
  const kafka = createKafka(brokers, `${config.kafka.clientId}-status`, { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, retry: { retries: 1 }, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return { topic, groupId: config.kafka.groupId, partitions: await groupLag(admin, topic, config.kafka.groupId) };
  } finally {
    await admin.disconnect();
  }
}

export async function gatherStatus(config: Config, primaryUrl: string): Promise<StatusInputs> {
  const timeoutMs = config.connectTimeoutMs;
  const [primary, lag] = await Promise.all([
    fetched(() => askPrimary(primaryUrl, timeoutMs), timeoutMs),
    config.kafkaBrokers ? fetched(() => askKafka(config, config.kafkaBrokers ?? [], timeoutMs), timeoutMs) : Promise.resolve(notSet('KAFKA_BROKERS')),
  ]);
  // The topic's own partition count when Kafka said it; else the count the platform creates topics with.
  const partitionCount = lag.ok && lag.value.partitions.length > 0 ? lag.value.partitions.length : config.kafka.topicPartitions;

  let owners: StatusInputs['owners'] = notSet('REDIS_URL');
  if (config.redisUrl) {
    const redis = redisClient(config.redisUrl);
    // Read-only: this identity never claims anything.
    const registry = redisOwnershipRegistry(redis, config.redisPrefix, { workerId: 'carbon-status', endpoint: '' });
    owners = await fetched(() => registry.readAll(partitionCount), timeoutMs);
    redis.disconnect();
  }

  let commodities: StatusInputs['commodities'] = notSet('DATABASE_URL');
  let champions: StatusInputs['champions'] = notSet('DATABASE_URL');
  if (config.databaseUrl) {
    const sql: SqlStore = postgresStore(config.databaseUrl, 2);
    [commodities, champions] = await Promise.all([fetched(() => storedCommodities(sql), timeoutMs), fetched(() => championsInService(sql), timeoutMs)]);
    await sql.close();
  }
  return { primaryUrl, primary, owners, lag, commodities, champions, partitionCount, nowMs: Date.now() };
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('a one-shot view of a running cluster: workers, their partitions and commodities, the champions, consumer lag, recent restarts')
    .option('--primary <url>', 'the primary\'s operators\' endpoint (default: http://CARBON_METRICS_HOST:CARBON_METRICS_PORT)')
    .option('--json', 'print what each source said as one JSON object')
    .addHelpText('after', `
Sources: the primary's GET /status (workers, restarts, the status line), Redis (REDIS_URL: who owns which
partition), Kafka (KAFKA_BROKERS: the consumer group's lag), Postgres (DATABASE_URL: commodities, champions).
A source that does not answer within CARBON_CONNECT_TIMEOUT is named in its section; the others are still shown.
Exit status: 0 the primary answered, 2 bad configuration, 3 the primary did not answer.

Example:
  KAFKA_BROKERS=127.0.0.1:9092 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
  REDIS_URL=redis://127.0.0.1:6379 npx carbon status`)
    .action(async (opts: { primary?: string; json?: boolean }) => {
      const config = loadConfig();
      const primaryUrl = opts.primary ?? `http://${config.cluster.metricsHost}:${config.cluster.metricsPort}`;
      const view = await gatherStatus(config, primaryUrl);
      process.stdout.write(opts.json ? `${JSON.stringify(view)}\n` : renderStatus(view));
      if (!view.primary.ok) throw new CommanderError(3, 'carbon.status.primary', `the primary at ${primaryUrl} did not answer`);
    });
}
