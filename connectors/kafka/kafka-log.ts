/**
 * kafkajs's log lines, translated for the platform's logger. kafkajs logs at error level what any Kafka client
 * meets while a cluster starts, topics are created or a group rebalances ("This server is not the leader for that
 * topic-partition", "The group is rebalancing"), and retries it by itself. Those known-transient conditions are
 * logged at debug; one becomes a warning only when it persists:
 *
 *   Persistence rule: occurrences of one condition less than QUIET_MS apart form a streak. A streak older than
 *   PERSIST_MS is logged at warn (with how long and how often), then at most once every PERSIST_MS while it lasts.
 *
 * Start-up and rebalances settle within seconds (a session timeout of 6 s, rebalance delay 0), so 30 s of the same
 * condition is no longer start-up. Known notices (configuration choices kafkajs comments on) are debug; anything
 * else keeps kafkajs's level, errors included. Event names are whole words: `kafka_<condition>` or
 * `kafka_<namespace>`, with kafkajs's message in full as a field.
 */
import type { LogFields, Logger, LogLevel } from '../../platform/logger.ts';

/** A streak of one condition longer than this is no longer start-up or a rebalance. */
export const PERSIST_MS = 30_000;
/** Occurrences further apart than this are separate streaks. */
export const QUIET_MS = 10_000;

/** Conditions kafkajs retries by itself, met while brokers elect leaders, topics appear and groups rebalance. */
export type TransientCondition =
  | 'not_leader'
  | 'leader_election'
  | 'unknown_topic_partition'
  | 'topic_already_exists'
  | 'group_rebalancing'
  | 'member_id_required'
  | 'coordinator_loading'
  | 'coordinator_unavailable'
  | 'transaction_in_progress'
  | 'stale_metadata';

/** Matched against kafkajs's message and its `error` field (the broker's error text). */
const transientPatterns: ReadonlyArray<readonly [TransientCondition, RegExp]> = [
  ['not_leader', /not the leader for that topic-partition/i],
  ['leader_election', /no leader for this topic-partition|leadership election/i],
  ['unknown_topic_partition', /does not host this topic-partition/i],
  // Two workers creating the same topics: the connection logs the broker's answer as "Topic creation errors" before
  // admin.createTopics looks inside it, ignores TOPIC_ALREADY_EXISTS and throws any other error to its caller.
  ['topic_already_exists', /topic with this name already exists|CreateTopics.*topic creation errors/i],
  ['group_rebalancing', /group is rebalancing/i],
  ['member_id_required', /needs to have a valid member id/i],
  ['coordinator_loading', /coordinator is loading/i],
  ['coordinator_unavailable', /coordinator is not available|not the correct coordinator/i],
  // The coordinator still writes the previous transaction's markers; kafkajs or the partition writer begins again.
  ['transaction_in_progress', /another concurrent operation on the same transaction/i],
  ['stale_metadata', /not aware of all assigned partitions|has been updated.*resync group/i],
];

/** Notices about settings this platform chose on purpose (kafka-producer.ts, tick-publisher.ts). */
const knownNotices: readonly RegExp[] = [
  /limiting retries for the idempotent producer/i,
  /switched default partitioner/i,
];

export type KafkaLogKind =
  | { readonly kind: 'transient'; readonly condition: TransientCondition }
  | { readonly kind: 'notice' }
  | { readonly kind: 'unknown' };

/** kafkajs's levels (logLevel in kafkajs: ERROR 1, WARN 2, INFO 4, DEBUG 5). */
export function levelOfKafkajs(level: number): LogLevel {
  if (level <= 1) return 'error';
  if (level === 2) return 'warn';
  if (level === 4) return 'info';
  return 'debug';
}

export function classifyKafkaLog(message: string, error: string | undefined): KafkaLogKind {
  const text = error === undefined ? message : `${message} ${error}`;
  for (const [condition, pattern] of transientPatterns) if (pattern.test(text)) return { kind: 'transient', condition };
  if (knownNotices.some((p) => p.test(text))) return { kind: 'notice' };
  return { kind: 'unknown' };
}

/** `ConsumerGroup` -> `consumer_group`. */
function snake(namespace: string): string {
  return namespace.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toLowerCase();
}

/** kafkajs fields nobody reads in a log line (its own timestamp and logger name, request bookkeeping). */
const droppedFields = new Set(['timestamp', 'logger', 'message', 'correlationId', 'size', 'label']);

interface Streak {
  readonly startedMs: number;
  lastMs: number;
  occurrences: number;
  /** When the last warning of this streak was logged; undefined until it persisted. */
  warnedMs: number | undefined;
}

/** One per process: streaks are kept per condition, whichever kafkajs client reports them. */
export class KafkaLogTranslator {
  private readonly streaks = new Map<TransientCondition, Streak>();

  constructor(private readonly log: Logger, private readonly now: () => number = () => performance.now()) {}

  /** Logs one kafkajs entry (its namespace, kafkajs level and `log` object). */
  translate(namespace: string, kafkaLevel: number, entry: LogFields): void {
    const message = String(entry.message ?? '');
    const error = typeof entry.error === 'string' ? entry.error : undefined;
    const fields: LogFields = { message };
    for (const [k, v] of Object.entries(entry)) if (!droppedFields.has(k)) fields[k] = v;
    const kind = classifyKafkaLog(message, error);
    const level = levelOfKafkajs(kafkaLevel);
    if (kind.kind === 'unknown') {
      this.log[level](`kafka_${snake(namespace) || 'client'}`, fields);
      return;
    }
    if (kind.kind === 'notice') {
      this.log.debug(`kafka_notice`, fields);
      return;
    }
    const event = `kafka_${kind.condition}`;
    const persisting = this.observe(kind.condition);
    if (persisting === undefined) this.log.debug(event, fields);
    else this.log.warn(event, { ...fields, persistingForS: Math.round(persisting.forMs / 1000), occurrences: persisting.occurrences });
  }

  /** Records one occurrence; says how long the condition has persisted when this occurrence is to be a warning. */
  private observe(condition: TransientCondition): { forMs: number; occurrences: number } | undefined {
    const at = this.now();
    let streak = this.streaks.get(condition);
    if (streak === undefined || at - streak.lastMs > QUIET_MS) {
      streak = { startedMs: at, lastMs: at, occurrences: 0, warnedMs: undefined };
      this.streaks.set(condition, streak);
    }
    streak.lastMs = at;
    streak.occurrences++;
    const forMs = at - streak.startedMs;
    if (forMs < PERSIST_MS) return undefined;
    if (streak.warnedMs !== undefined && at - streak.warnedMs < PERSIST_MS) return undefined;
    streak.warnedMs = at;
    return { forMs, occurrences: streak.occurrences };
  }
}
