/**
 * The kafkajs client of a process, logging through the platform's JSON logger, and idempotent topic creation.
 */
import { Kafka, logLevel, type Admin, type ITopicConfig, type LogEntry } from 'kafkajs';
import type { Config } from '../../platform/config.ts';
import { logger } from '../../platform/logger.ts';
import { allTopicNames, type Topics } from './topics.ts';

const log = logger.child({ component: 'kafkajs' });

function logCreator() {
  return ({ level, log: entry }: LogEntry) => {
    const { message, ...fields } = entry;
    const event = `kafka_${String(message).toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 60)}`;
    if (level === logLevel.ERROR) log.error(event, fields);
    else if (level === logLevel.WARN) log.warn(event, fields);
    else log.debug(event, fields);
  };
}

export function createKafka(brokers: readonly string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.WARN,
    logCreator,
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 100, retries: 8 },
  });
}

export function kafkaFromConfig(config: Config): Kafka {
  if (!config.kafkaBrokers) throw new Error('KAFKA_BROKERS is not set: this command needs a real Kafka broker');
  return createKafka(config.kafkaBrokers, config.kafka.clientId);
}

/**
 * Creates the platform's topics where missing; existing topics are left as they are (a partition count is never
 * changed here: that would remap commodities to partitions under live state).
 */
export async function ensureTopics(admin: Admin, topics: Topics, partitions: number): Promise<string[]> {
  const names = allTopicNames(topics);
  const existing = new Set(await admin.listTopics());
  const missing: ITopicConfig[] = names
    .filter((t) => !existing.has(t))
    .map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 }));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (err) {
    // Another process may have created them between listTopics and createTopics; only that is tolerated.
    const still = new Set(await admin.listTopics());
    if (missing.some((m) => !still.has(m.topic))) throw err;
  }
  log.info('topics_created', { topics: missing.map((m) => m.topic), partitions });
  return missing.map((m) => m.topic);
}
