import test from 'ava';
import { clusterServices, ConfigError, loadConfig, MAX_TIMER_MS, parseDurationMs, parseSizeBytes } from './config.ts';

test('defaults apply when nothing is set, and the result is frozen', (t) => {
  const c = loadConfig({});
  t.is(c.kafkaBrokers, undefined);
  t.is(c.kafka.topicPartitions, 12);
  t.is(c.kafka.groupId, 'carbon-analytics');
  t.is(c.cluster.metricsPort, 9464);
  t.true(Object.isFrozen(c.pipeline));
});

test('values are parsed once: durations, sizes, lists', (t) => {
  const c = loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9094', CARBON_FLUSH_INTERVAL: '2s', CARBON_MAX_MESSAGE_BYTES: '1mb' });
  t.deepEqual(c.kafkaBrokers, ['127.0.0.1:9092', '127.0.0.1:9094']);
  t.is(c.pipeline.flushIntervalMs, 2000);
  t.is(c.pipeline.maxMessageBytes, 1024 * 1024);
});

const bad: Array<[string, string, RegExp]> = [
  ['CARBON_WORKERS', 'abc', /CARBON_WORKERS: expected an integer in \[1, 256\], got "abc"/],
  ['CARBON_TOPIC_PARTITIONS', '0', /CARBON_TOPIC_PARTITIONS: expected an integer/],
  ['KAFKA_BROKERS', 'nohost', /KAFKA_BROKERS: expected a comma-separated list of host:port/],
  ['DATABASE_URL', 'mysql://x', /DATABASE_URL: expected a URL starting with postgres: or postgresql:/],
  ['REDIS_URL', 'not a url', /REDIS_URL: expected a URL/],
  ['CARBON_FLUSH_INTERVAL', 'soon', /CARBON_FLUSH_INTERVAL: expected a duration/],
  ['CARBON_CHAOS', 'maybe', /CARBON_CHAOS: expected true or false/],
  ['CARBON_ZSCORE_THRESHOLD', 'NaN', /CARBON_ZSCORE_THRESHOLD: expected a number/],
  ['CARBON_LOG_FORMAT', 'yaml', /CARBON_LOG_FORMAT: expected one of json, pretty, got "yaml"/],
];
for (const [name, value, message] of bad) {
  test(`a bad ${name} fails with a message naming it`, (t) => {
    const err = t.throws(() => loadConfig({ [name]: value }), { instanceOf: ConfigError, message });
    t.is(err?.variable, name);
  });
}

test('the heartbeat must fit three times in the session timeout', (t) => {
  t.throws(() => loadConfig({ CARBON_KAFKA_SESSION_TIMEOUT: '3s', CARBON_KAFKA_HEARTBEAT_INTERVAL: '2s' }), { message: /CARBON_KAFKA_HEARTBEAT_INTERVAL/ });
});

test('a hand-off must fit in the shutdown timeout, or a stopping worker would exit in the middle of it', (t) => {
  t.throws(() => loadConfig({ CARBON_HANDOFF_TIMEOUT: '8s', CARBON_SHUTDOWN_TIMEOUT: '8s' }), { message: /CARBON_HANDOFF_TIMEOUT/ });
  t.is(loadConfig({ CARBON_HANDOFF_TIMEOUT: '2s', CARBON_SHUTDOWN_TIMEOUT: '3s' }).pipeline.handOffTimeoutMs, 2_000);
});

test('duration and size parsing', (t) => {
  t.is(parseDurationMs('250ms'), 250);
  t.is(parseDurationMs('1.5s'), 1500);
  t.is(parseDurationMs('2m'), 120_000);
  t.is(parseDurationMs('100'), 100);
  t.is(parseDurationMs('-1s'), undefined);
  t.is(parseSizeBytes('64KB'), 65536);
  t.is(parseSizeBytes('x'), undefined);
});

test('cluster mode needs Kafka, Postgres and Redis: the first one unset is named, with the others', (t) => {
  const all = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://x@127.0.0.1/test', REDIS_URL: 'redis://127.0.0.1:6379' };
  t.deepEqual(clusterServices(loadConfig(all)), { kafkaBrokers: ['127.0.0.1:9092'], databaseUrl: all.DATABASE_URL, redisUrl: all.REDIS_URL });
  const err = t.throws(() => clusterServices(loadConfig({ KAFKA_BROKERS: all.KAFKA_BROKERS })), { instanceOf: ConfigError });
  t.is(err?.variable, 'DATABASE_URL');
  t.regex(err?.message ?? '', /^DATABASE_URL is not set: cluster mode needs it \(e\.g\. postgres:.*\); REDIS_URL is not set either/);
});

test('a duration that arms a timer must fit in one (found by fuzzing: 900h made Node fire the timer after 1 ms)', (t) => {
  const err = t.throws(() => loadConfig({ CARBON_FLUSH_INTERVAL: '900h' }), { instanceOf: ConfigError, message: /^CARBON_FLUSH_INTERVAL: expected a duration in \[1ms, 2147483647ms\]/ });
  t.is(err?.variable, 'CARBON_FLUSH_INTERVAL');
  t.is(loadConfig({ CARBON_SHUTDOWN_TIMEOUT: `${MAX_TIMER_MS}ms` }).cluster.shutdownTimeoutMs, MAX_TIMER_MS);
  t.is(loadConfig({ CARBON_RETRAIN_COOLDOWN: '900h' }).models.retrainCooldownMs, 900 * 3_600_000, 'a duration compared with clocks may be longer');
});

test('durations and sizes past what a number holds exactly are no durations or sizes (found by fuzzing: 20000000000mb was taken)', (t) => {
  t.is(parseDurationMs(`${'9'.repeat(30)}h`), undefined);
  t.is(parseSizeBytes('20000000000mb'), undefined);
  t.is(parseSizeBytes('8388607gb'), 8_388_607 * 1024 ** 3);
  t.is(parseSizeBytes('8388608gb'), undefined, '2^53 is past the exact integers');
  t.throws(() => loadConfig({ CARBON_MAX_MESSAGE_BYTES: '20000000000mb' }), { instanceOf: ConfigError, message: /^CARBON_MAX_MESSAGE_BYTES: / });
  t.throws(() => loadConfig({ CARBON_RETRAIN_COOLDOWN: `${'9'.repeat(30)}h` }), { instanceOf: ConfigError, message: /^CARBON_RETRAIN_COOLDOWN: / });
});

test('a broker\'s port is 1 to 65535 (found by fuzzing: host:65536 was taken)', (t) => {
  for (const brokers of ['host:65536', 'host:99999', 'host:0', '127.0.0.1:9092,host:70000']) {
    t.throws(() => loadConfig({ KAFKA_BROKERS: brokers }), { instanceOf: ConfigError, message: /^KAFKA_BROKERS: / }, brokers);
  }
  t.deepEqual(loadConfig({ KAFKA_BROKERS: 'host:1,host:65535' }).kafkaBrokers, ['host:1', 'host:65535']);
});
