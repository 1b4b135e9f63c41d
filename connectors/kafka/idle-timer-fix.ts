/**
 * kafkajs 2.2.4 keeps a 1 ms timer re-arming itself forever on every broker connection, busy or idle: its request
 * queue schedules its next check of pending requests even when none is pending and nothing is throttled, at a
 * negative delay (upstream issues 1556 and 1704; no kafkajs release has the fixes proposed there). Measured here: an
 * idle consumer and producer ran the check 2,117 times a second and used 56 ms of CPU a second; with this fix,
 * 0 times and 7.4 ms. Every worker paid that in CPU and in event-loop turns taken from gRPC calls and actors.
 *
 * The fix skips only that case: with a request pending, or a throttle in force, kafkajs schedules as before (a
 * request that arrives later is pushed with its own schedule, and answers and timeouts check the queue anyway).
 * kafkajs offers no option for it, and no maintained release has it, hence a patch of its prototype, applied once
 * by client.ts; it fails loudly if a kafkajs upgrade changed what it patches.
 */
import { createRequire } from 'node:module';

interface RequestQueueState {
  readonly pending: readonly unknown[];
  readonly throttledUntil: number;
}

interface RequestQueueClass {
  prototype: { scheduleCheckPendingRequests(this: RequestQueueState): void; idleTimerFixed?: true };
}

const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as RequestQueueClass;

export function fixKafkaIdleTimer(): void {
  const proto = RequestQueue.prototype;
  if (proto.idleTimerFixed) return;
  const original = proto.scheduleCheckPendingRequests;
  if (typeof original !== 'function') {
    throw new Error('kafkajs RequestQueue.scheduleCheckPendingRequests is gone: this kafkajs is not the one connectors/kafka/idle-timer-fix.ts patches; check whether it still needs the fix');
  }
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueState): void {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    original.call(this);
  };
  proto.idleTimerFixed = true;
}
