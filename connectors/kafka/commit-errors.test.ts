import test from 'ava';
import { classifyCommitError } from './commit-errors.ts';

const protocolError = (type: string) => Object.assign(new Error(type), { type });

test('losing the partition to a rebalance is not a failure; anything else is', (t) => {
  for (const type of ['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR']) {
    t.is(classifyCommitError(protocolError(type)), 'ownership_lost', type);
  }
  t.is(classifyCommitError(protocolError('TOPIC_AUTHORIZATION_FAILED')), 'unknown');
  t.is(classifyCommitError(new Error('socket hang up')), 'unknown');
  t.is(classifyCommitError(undefined), 'unknown');
});
