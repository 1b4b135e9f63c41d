/**
 * What a failed commit (an offset commit, or a transaction's send, offsets or end) means, told from the error
 * kafkajs throws. kafkajs wraps the broker's answer: a protocol error carries the broker's `type`, but once its
 * retrier gives up it throws a KafkaJSNonRetriableError or KafkaJSNumberOfRetriesExceeded whose `cause` holds the
 * error it gave up on (itself possibly wrapped), with no `type` of its own. So the chain of causes is read.
 */

export type CommitFailure =
  /** Another member or writer owns the partition now (this member was evicted, or a newer writer fenced this one). */
  | 'ownership_lost'
  /** The group is rebalancing: this member's generation is ending; the partition may stay or go. */
  | 'rebalancing'
  /** The broker could not be reached or did not answer in time. */
  | 'unavailable'
  /**
   * The transaction coordinator is still writing the markers of this writer's previous transaction (its commit
   * or abort returns before they are written): the same transaction succeeds when begun again a moment later.
   */
  | 'coordinator_busy'
  | 'unknown';

const byType: Readonly<Record<string, CommitFailure>> = {
  UNKNOWN_MEMBER_ID: 'ownership_lost',
  ILLEGAL_GENERATION: 'ownership_lost',
  FENCED_INSTANCE_ID: 'ownership_lost',
  // A transactional writer whose id a newer writer initialised (Kafka 4 may say either).
  INVALID_PRODUCER_EPOCH: 'ownership_lost',
  PRODUCER_FENCED: 'ownership_lost',
  // The transaction outlived transaction.timeout.ms and the coordinator aborted it (it bumped the epoch).
  INVALID_PRODUCER_ID_MAPPING: 'ownership_lost',
  REBALANCE_IN_PROGRESS: 'rebalancing',
  CONCURRENT_TRANSACTIONS: 'coordinator_busy',
  NOT_COORDINATOR: 'unavailable',
  COORDINATOR_NOT_AVAILABLE: 'unavailable',
  COORDINATOR_LOAD_IN_PROGRESS: 'unavailable',
  REQUEST_TIMED_OUT: 'unavailable',
  NOT_ENOUGH_REPLICAS: 'unavailable',
  LEADER_NOT_AVAILABLE: 'unavailable',
  NOT_LEADER_OR_FOLLOWER: 'unavailable',
};

const unavailableNames = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSNoBrokerAvailableError']);

export function classifyCommitError(err: unknown): CommitFailure {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const { type, name, cause } = current as { type?: unknown; name?: unknown; cause?: unknown };
    if (typeof type === 'string' && byType[type] !== undefined) return byType[type];
    if (typeof name === 'string' && unavailableNames.has(name)) return 'unavailable';
    if (cause === current) break;
    current = cause;
  }
  return 'unknown';
}

/** A partition writer's commit failed; the writer can commit nothing more. */
export class PartitionCommitError extends Error {
  override readonly name = 'PartitionCommitError';
  readonly code = 'KAFKA_COMMIT_FAILED';
  readonly failure: CommitFailure;
  constructor(readonly partition: number, cause: unknown) {
    const failure = classifyCommitError(cause);
    super(`commit of partition ${partition} failed (${failure}): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.failure = failure;
  }
}
