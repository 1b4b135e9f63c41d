/**
 * The kafkajs client of a process, logging through the platform's logger (translated: kafka-log.ts), and
 * idempotent topic creation.
 */
import { Kafka, logLevel, type Admin, type ITopicConfig, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Config } from '../../platform/config.ts';
import { logger } from '../../platform/logger.ts';
import { fixKafkaIdleTimer } from './idle-timer-fix.ts';
import { KafkaLogTranslator } from './kafka-log.ts';
import { allTopicNames, topicConfig, type Topics } from './topics.ts';

const log = logger.child({ component: 'kafkajs' });
const translator = new KafkaLogTranslator(log);

function logCreator() {
  return ({ namespace, level, log: entry }: LogEntry) => translator.translate(namespace, level, entry);
}

/**
 * `oneShot`: for a single question whose caller reports the outcome itself (`carbon status`): its own connect
 * timeout and retries, and kafkajs's log level (NOTHING: the caller says what failed).
 */
export function createKafka(brokers: readonly string[], clientId: string, oneShot?: Pick<KafkaConfig, 'connectionTimeout' | 'requestTimeout' | 'retry' | 'logLevel'>): Kafka {
  fixKafkaIdleTimer();
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.WARN,
    logCreator,
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 100, retries: 8 },
    ...oneShot,
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
    .map((topic) => ({
      topic,
      numPartitions: partitions,
      replicationFactor: 1,
      configEntries: Object.entries(topicConfig).map(([name, value]) => ({ name, value })),
    }));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: false });
  } catch (err) {
    // Another process may have created them between listTopics and createTopics: that alone is fine.
    if ((err as { type?: unknown }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
  }
  await waitForLeaders(admin, missing.map((m) => m.topic));
  log.info('topics_created', { topics: missing.map((m) => m.topic), partitions });
  return missing.map((m) => m.topic);
}

/**
 * Creates the platform's topics where missing, with its own short-lived admin client, and returns the partition
 * count of the prices topic (the partitioner's modulus: an existing topic keeps the count it has).
 */
export async function prepareTopics(kafka: Kafka, topics: Topics, partitions: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topics, partitions);
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topics.prices] })).topics;
    return meta?.partitions.length ?? partitions;
  } finally {
    await admin.disconnect();
  }
}

/**
 * A new topic is usable once every partition has a leader; until its metadata has spread the broker answers
 * UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE, which kafkajs's own waitForLeaders does not retry.
 */
async function waitForLeaders(admin: Admin, names: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 50; ; delayMs = Math.min(1_000, delayMs * 2)) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [...names] });
      const led = topics.length === names.length && topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      // Metadata can name a leader before it serves: ListOffsets goes to the leader itself and fails until it does
      // (a produce then would be retried by kafkajs, which can duplicate messages).
      if (led) {
        await Promise.all(names.map((t) => admin.fetchTopicOffsets(t)));
        return;
      }
    } catch (err) {
      const type = (err as { type?: unknown }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE' && type !== 'NOT_LEADER_FOR_PARTITION') throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delayMs));
  }
}
