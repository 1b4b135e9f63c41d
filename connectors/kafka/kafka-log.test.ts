import test from 'ava';
import { createLogger, type LogFields } from '../../platform/logger.ts';
import { classifyKafkaLog, KafkaLogTranslator, PERSIST_MS, QUIET_MS } from './kafka-log.ts';

const ERROR = 1;
const WARN = 2;

/** A translator over a captured logger (debug included) and a clock the test moves. */
function setup(): { lines: LogFields[]; translator: KafkaLogTranslator; clock: { ms: number } } {
  const lines: LogFields[] = [];
  const clock = { ms: 0 };
  const previous = process.env.CARBON_LOG_LEVEL;
  process.env.CARBON_LOG_LEVEL = 'debug';
  const log = createLogger({ component: 'kafkajs' }, (l) => lines.push(JSON.parse(l) as LogFields));
  process.env.CARBON_LOG_LEVEL = previous;
  return { lines, translator: new KafkaLogTranslator(log, () => clock.ms), clock };
}

const notLeader = { message: 'Response Metadata(key: 3, version: 6)', error: 'This server is not the leader for that topic-partition', correlationId: 7, size: 90, timestamp: 'x', logger: 'kafkajs' };

test('the conditions of start-up and rebalancing are recognised from the message or the broker error', (t) => {
  t.like(classifyKafkaLog(notLeader.message, notLeader.error), { kind: 'transient', condition: 'not_leader' });
  t.like(classifyKafkaLog('The group is rebalancing, re-joining', undefined), { kind: 'transient', condition: 'group_rebalancing' });
  t.like(classifyKafkaLog('Response JoinGroup(key: 11, version: 5)', 'The group member needs to have a valid member id before actually entering a consumer group'), { kind: 'transient', condition: 'member_id_required' });
  t.like(classifyKafkaLog('Response FindCoordinator(key: 10, version: 2)', "The coordinator is loading and hence can't process requests"), { kind: 'transient', condition: 'coordinator_loading' });
  t.like(classifyKafkaLog('Response AddOffsetsToTxn(key: 25, version: 1)', 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing'), { kind: 'transient', condition: 'transaction_in_progress' });
  t.like(classifyKafkaLog('Could not create topics', 'Topic with this name already exists'), { kind: 'transient', condition: 'topic_already_exists' });
  t.like(classifyKafkaLog('Response CreateTopics(key: 19, version: 3)', 'Topic creation errors'), { kind: 'transient', condition: 'topic_already_exists' });
  t.like(classifyKafkaLog('Failed to send messages: There is no leader for this topic-partition as we are in the middle of a leadership election', undefined), { kind: 'transient', condition: 'leader_election' });
  t.like(classifyKafkaLog('Limiting retries for the idempotent producer may invalidate EoS guarantees', undefined), { kind: 'notice' });
  t.like(classifyKafkaLog('Crash: KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED 127.0.0.1:9092', undefined), { kind: 'unknown' });
});

test('a transient condition is debug, with a whole event name, kafkajs message in full and no bookkeeping fields', (t) => {
  const { lines, translator } = setup();
  translator.translate('Connection', ERROR, notLeader);
  t.is(lines.length, 1);
  t.like(lines[0], { level: 'debug', event: 'kafka_not_leader', message: notLeader.message, error: notLeader.error });
  t.false('correlationId' in lines[0]! || 'size' in lines[0]! || 'logger' in lines[0]!);
});

test('a condition that persists past PERSIST_MS becomes a warning, then at most once every PERSIST_MS', (t) => {
  const { lines, translator, clock } = setup();
  const levels: string[] = [];
  // One occurrence every 5 s (closer than QUIET_MS) for 70 s: one streak.
  for (clock.ms = 0; clock.ms <= 70_000; clock.ms += 5_000) {
    translator.translate('Connection', ERROR, notLeader);
    levels.push(String(lines.at(-1)?.level));
  }
  const warnedAt = levels.flatMap((level, i) => (level === 'warn' ? [i * 5_000] : []));
  t.deepEqual(warnedAt, [PERSIST_MS, 2 * PERSIST_MS]);
  t.like(lines.find((l) => l.level === 'warn'), { event: 'kafka_not_leader', persistingForS: PERSIST_MS / 1000, occurrences: PERSIST_MS / 5_000 + 1 });
});

test('occurrences further apart than QUIET_MS start a new streak and stay debug', (t) => {
  const { lines, translator, clock } = setup();
  for (let i = 0; i < 10; i++) {
    clock.ms = i * (QUIET_MS + 1);
    translator.translate('ConsumerGroup', WARN, { message: 'The group is rebalancing, re-joining', groupId: 'g' });
  }
  t.true(lines.every((l) => l.level === 'debug' && l.event === 'kafka_group_rebalancing'));
});

test('each condition keeps its own streak', (t) => {
  const { lines, translator, clock } = setup();
  for (clock.ms = 0; clock.ms < PERSIST_MS; clock.ms += 5_000) translator.translate('Connection', ERROR, notLeader);
  clock.ms = PERSIST_MS;
  translator.translate('Runner', WARN, { message: 'The group is rebalancing, re-joining' });
  t.like(lines.at(-1), { level: 'debug', event: 'kafka_group_rebalancing' });
});

test('anything unknown keeps kafkajs\'s level (an error stays an error), named after its namespace', (t) => {
  const { lines, translator } = setup();
  translator.translate('Consumer', ERROR, { message: 'Crash: KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED 127.0.0.1:9092', groupId: 'g', stack: 'Error: ...' });
  translator.translate('ConsumerGroup', WARN, { message: 'Consumer group received unsubscribed topics' });
  translator.translate('Producer', WARN, { message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' });
  t.like(lines[0], { level: 'error', event: 'kafka_consumer', message: 'Crash: KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED 127.0.0.1:9092', groupId: 'g' });
  t.like(lines[1], { level: 'warn', event: 'kafka_consumer_group' });
  t.like(lines[2], { level: 'debug', event: 'kafka_notice' });
});
