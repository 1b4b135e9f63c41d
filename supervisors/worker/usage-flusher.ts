/**
 * Writes the worker's hourly usage sums to Postgres every `intervalMs`, one write at a time, and once more when
 * it stops. The sums are totals (usage-meter.ts), so a failed write is simply made good by the next one.
 */
import { writeUsage } from '../../connectors/postgres/usage-store.ts';
import type { SqlStore } from '../../connectors/postgres/sql-store.ts';
import type { Logger } from '../../platform/logger.ts';
import type { UsageMeter } from '../../platform/usage-meter.ts';

export interface UsageFlusher {
  /** Writes what the meter holds now; resolves when it is stored. */
  flush(): Promise<void>;
  /** Stops the timer after a last write. */
  stop(): Promise<void>;
}

export function startUsageFlusher(store: SqlStore, meter: UsageMeter, worker: string, intervalMs: number, log: Logger): UsageFlusher {
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    writing = writing.then(async () => {
      const snapshot = meter.snapshot();
      await writeUsage(store, worker, snapshot);
      meter.forgetWritten(snapshot);
    });
    return writing;
  };
  const timer = setInterval(() => {
    flush().catch((err: unknown) => {
      log.warn('usage_write_failed', { err });
      writing = Promise.resolve();
    });
  }, intervalMs);
  timer.unref();
  return {
    flush,
    async stop() {
      clearInterval(timer);
      // A worker stops even when Postgres is down; what it could not write is lost, and said so.
      await flush().catch((err: unknown) => log.error('usage_final_write_failed', { err, lost: meter.snapshot().tenants.length }));
    },
  };
}
