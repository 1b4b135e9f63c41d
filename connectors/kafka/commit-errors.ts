/**
 * What a failed offset commit means. After a rebalance (this member was evicted or the generation moved on) the
 * partition belongs to someone else now: the outputs of the batch are durable and idempotent, so the new owner
 * simply processes it again from the last committed offset. Anything else is a real failure and propagates.
 */
const lostOwnership = new Set(['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR', 'FENCED_INSTANCE_ID']);

export type CommitFailure = 'ownership_lost' | 'unknown';

export function classifyCommitError(err: unknown): CommitFailure {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' && lostOwnership.has(type) ? 'ownership_lost' : 'unknown';
}
