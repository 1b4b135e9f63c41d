/**
 * The restart policies of the supervision levels, in one place (docs/supervision.md has the tree and the
 * reasoning). Every level restarts its first crash in a window at once; only repeated crashes wait, and each level
 * allows fewer, slower restarts than the one below it, because a restart up there throws away more state.
 */
import { restartPolicy } from './restart-policy.ts';

/**
 * A commodity actor restarting itself (fresh rolling window, rest of the mailbox kept). 5 restarts in 10 s with
 * delays 0, 1, 2, 4, 8 ms (+-20 %, never above 10 ms), so that every restart this level allows meets the 10 ms p99
 * recovery target; a crash loop is bounded by the intensity, not the backoff. The 6th crash within 10 s escalates
 * to the partition supervisor. A tick that keeps crashing it is dead-lettered before that (poisonTries in
 * platform/config.ts stays below this intensity).
 */
export const commodityActorPolicy = restartPolicy({
  intensity: 5,
  periodMs: 10_000,
  backoff: { minMs: 1, maxMs: 10, jitter: 0.2 },
  onExhausted: 'escalate',
});

/**
 * A partition supervisor restarting a commodity actor that gave up (one_for_one: only that actor, mailbox kept),
 * or restarting itself after its own crash (which stops its commodity actors; they are respawned on demand).
 * 3 restarts in 30 s, delays 0, 50, 100 ms (+-20 %); the 4th escalates to the worker root.
 */
export const partitionSupervisorPolicy = restartPolicy({
  intensity: 3,
  periodMs: 30_000,
  backoff: { minMs: 50, maxMs: 1_000, jitter: 0.2 },
  onExhausted: 'escalate',
});

/**
 * The worker root restarting a partition supervisor that gave up (its whole subtree: all commodity actors of that
 * partition start over). 3 restarts in 60 s, delays 0, 100, 200 ms (+-20 %); the 4th escalates out of the actor
 * tree to the process-level handler, which exits the worker so that the cluster primary restarts it.
 */
export const workerRootPolicy = restartPolicy({
  intensity: 3,
  periodMs: 60_000,
  backoff: { minMs: 100, maxMs: 5_000, jitter: 0.2 },
  onExhausted: 'escalate',
});

/**
 * The cluster primary restarting a worker process that exited (Kafka reassigns its partitions meanwhile).
 * 5 restarts in 60 s, delays 0, 1, 2, 4, 8 s (+-20 %, capped at 30 s); past that the primary exits non-zero and
 * Kubernetes restarts the pod (with its own CrashLoopBackOff).
 */
export const workerProcessPolicy = restartPolicy({
  intensity: 5,
  periodMs: 60_000,
  backoff: { minMs: 1_000, maxMs: 30_000, jitter: 0.2 },
  onExhausted: 'escalate',
});
