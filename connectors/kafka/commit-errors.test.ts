import test from 'ava';
import kafkajs from 'kafkajs';
import { classifyCommitError, PartitionCommitError } from './commit-errors.ts';

// kafkajs spreads its error classes into its exports, which Node's CommonJS interop does not see as named exports.
const { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;

// The broker's answers as kafkajs raises them (its own error classes); test/kafka-errors.test.ts gets them from a
// real broker.
const protocolError = (type: string) => new KafkaJSProtocolError({ type, message: `broker said ${type}`, retriable: false } as unknown as Error);

test('each protocol error is classified by what it means for the partition', (t) => {
  const table: Array<[string, ReturnType<typeof classifyCommitError>]> = [
    ['UNKNOWN_MEMBER_ID', 'ownership_lost'],
    ['ILLEGAL_GENERATION', 'ownership_lost'],
    ['FENCED_INSTANCE_ID', 'ownership_lost'],
    ['INVALID_PRODUCER_EPOCH', 'ownership_lost'],
    ['PRODUCER_FENCED', 'ownership_lost'],
    ['INVALID_PRODUCER_ID_MAPPING', 'ownership_lost'],
    ['REBALANCE_IN_PROGRESS', 'rebalancing'],
    ['CONCURRENT_TRANSACTIONS', 'coordinator_busy'],
    ['NOT_COORDINATOR', 'unavailable'],
    ['COORDINATOR_NOT_AVAILABLE', 'unavailable'],
    ['REQUEST_TIMED_OUT', 'unavailable'],
    ['TOPIC_AUTHORIZATION_FAILED', 'unknown'],
  ];
  for (const [type, expected] of table) t.is(classifyCommitError(protocolError(type)), expected, type);
});

test('a wrapped error is classified by its cause, however deep: kafkajs gives up with a NonRetriable error that has no type of its own', (t) => {
  const evicted = protocolError('UNKNOWN_MEMBER_ID');
  // As kafkajs's retrier builds it (src/retry/index.js); its typings leave the options out.
  const NonRetriable = KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: unknown }) => Error;
  const wrapped = new NonRetriable(evicted, { cause: evicted });
  t.is((wrapped as { type?: unknown }).type, undefined, 'the wrapper itself carries no type');
  t.is(classifyCommitError(wrapped), 'ownership_lost');
  const retried = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { retryCount: 5, retryTime: 3_000 });
  t.is(classifyCommitError(retried), 'unavailable');
  t.is(classifyCommitError(new PartitionCommitError(3, wrapped)), 'ownership_lost', 'and through our own wrapper');
});

test('what is not the group\'s or the broker\'s is unknown', (t) => {
  t.is(classifyCommitError(new Error('socket hang up')), 'unknown');
  t.is(classifyCommitError(new KafkaJSNonRetriableError('Transaction state exception: Cannot call "beginTransaction" in state "ABORTING"')), 'unknown');
  t.is(classifyCommitError(undefined), 'unknown');
  t.is(classifyCommitError('a string'), 'unknown');
});

test('a commit error says its partition and what kind of failure it was', (t) => {
  const err = new PartitionCommitError(7, protocolError('INVALID_PRODUCER_EPOCH'));
  t.is(err.failure, 'ownership_lost');
  t.regex(err.message, /partition 7 failed \(ownership_lost\)/);
});
