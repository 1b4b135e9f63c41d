/**
 * What the cluster primary says about itself on `GET /status` of the operators' endpoint, for `carbon status`:
 * its workers, their recent restarts, and the latest status line. Partitions, lag and champions are the
 * services' to say (Redis ownership, Kafka, the model registry); `carbon status` asks them itself.
 */

/** Lifecycle of the primary (once its services answered): running until a signal, or failed when restarts are exhausted. */
export type PrimaryState = 'running' | 'stopping' | 'failed';

export interface WorkerStatus {
  /** The worker's place among CARBON_WORKERS; a restarted worker keeps it. */
  readonly slot: number;
  readonly pid: number | undefined;
  /** UTC epoch ms of this process's fork. */
  readonly startedAtMs: number;
  /** Restarts of this slot since the primary started. */
  readonly restarts: number;
}

export interface RestartRecord {
  readonly slot: number;
  /** `exit_70`, `sigkill`, ... */
  readonly reason: string;
  /** UTC epoch ms of the exit. */
  readonly atMs: number;
}

export interface PrimaryStatus {
  readonly state: PrimaryState;
  readonly pid: number;
  /** UTC epoch ms. */
  readonly startedAtMs: number;
  readonly expectedWorkers: number;
  readonly workers: readonly WorkerStatus[];
  /** The last RECENT_RESTARTS worker exits, oldest first. */
  readonly recentRestarts: readonly RestartRecord[];
  /** The latest status line (ticks/s, predictions/s, p99, lag...), once a period has passed. */
  readonly line: string | undefined;
}

/** Worker exits kept for `carbon status`. */
export const RECENT_RESTARTS = 20;

/** `history` with `record` appended, keeping the last RECENT_RESTARTS. */
export function withRestart(history: readonly RestartRecord[], record: RestartRecord): RestartRecord[] {
  return [...history, record].slice(-RECENT_RESTARTS);
}
