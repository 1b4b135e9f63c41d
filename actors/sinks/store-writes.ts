/**
 * Writes a batch of outputs to every store and resolves when all of them hold it. A writer that is `concurrent`
 * (idempotent upserts of distinct rows) takes batches side by side; the others (a latest-value store) take them one
 * after the other in the order `write` was called. A failing store is retried with capped backoff, said once in the
 * logs when it starts failing and once when it answers again, and shown by carbon_dependency_waiting; meanwhile the
 * partitions take no more than their in-flight limit. Past `giveUpAfterMs` of failures the write rejects, and the
 * worker exits for its supervisor to restart it rather than hold data forever.
 */
import type { Logger } from '../../platform/logger.ts';
import { dependencyFailures, dependencyWaiting, sinkFlushSeconds } from '../../platform/metrics.ts';
import type { OutputWriter, TickOutputs } from './tick-outputs.ts';

export interface StoreWritesOptions {
  readonly writers: readonly OutputWriter[];
  readonly giveUpAfterMs: number;
  readonly log: Logger;
}

/** How long a store may stay down before the worker gives up (it exits, and its supervisor restarts it). */
export const STORE_GIVE_UP_MS = 60_000;

/** Backoff before the nth retry: 25 ms doubling, at most 2 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(2_000, 25 * 2 ** Math.min(attempt - 1, 7));
}

export class StoreWrites {
  /** Per writer that is not concurrent: settles when its last started write did; never rejects. */
  private readonly tails: Promise<unknown>[];
  /** Per writer: writes currently retrying (the gauge is 1 while any does). */
  private readonly failing: number[];

  constructor(private readonly opts: StoreWritesOptions) {
    this.tails = opts.writers.map(() => Promise.resolve());
    this.failing = opts.writers.map(() => 0);
  }

  write(batch: readonly TickOutputs[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    return Promise.all(this.opts.writers.map((writer, i) => {
      if (writer.concurrent === true) return this.withRetry(writer, i, batch);
      const write = (this.tails[i] as Promise<unknown>).then(() => this.withRetry(writer, i, batch));
      // The tail only orders the next write; this write's failure is the caller's.
      this.tails[i] = write.catch(() => undefined);
      return write;
    })).then(() => undefined);
  }

  private async withRetry(writer: OutputWriter, index: number, batch: readonly TickOutputs[]): Promise<void> {
    let firstFailureAt: number | undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        const end = sinkFlushSeconds.startTimer({ sink: writer.name });
        try {
          await writer.write(batch);
          end();
          if (firstFailureAt !== undefined) this.opts.log.info('store_write_recovered', { sink: writer.name, attempts: attempt, waitedMs: Date.now() - firstFailureAt });
          return;
        } catch (err) {
          dependencyFailures.inc({ dependency: writer.name });
          if (firstFailureAt === undefined) {
            firstFailureAt = Date.now();
            const failing = (this.failing[index] ?? 0) + 1;
            this.failing[index] = failing;
            if (failing === 1) dependencyWaiting.set({ dependency: writer.name }, 1);
          }
          const waitedMs = Date.now() - firstFailureAt;
          // Every attempt at debug; the first and then one in ten at warn, so that an outage is a few lines, not thousands.
          this.opts.log[attempt === 1 || attempt % 10 === 0 ? 'warn' : 'debug']('store_write_failed', { sink: writer.name, attempt, rows: batch.length, waitedMs, err });
          if (waitedMs >= this.opts.giveUpAfterMs) throw err;
          await new Promise((r) => setTimeout(r, retryDelayMs(attempt)));
        }
      }
    } finally {
      if (firstFailureAt !== undefined) {
        const still = (this.failing[index] ?? 1) - 1;
        this.failing[index] = still;
        if (still === 0) dependencyWaiting.set({ dependency: writer.name }, 0);
      }
    }
  }
}
