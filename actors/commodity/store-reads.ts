/**
 * A read of the stores on a commodity actor's path (its rebuild, the stored prices a replay is judged by). While the
 * store does not answer, the read is retried with the same capped backoff as the writes, the actor waiting (its
 * partition takes no more than its in-flight limit meanwhile), so that a Postgres restart costs a pause and not a
 * cascade of actor restarts up the supervision tree. Past STORE_GIVE_UP_MS it throws the last error, and
 * supervision takes over, as for a store that stays down under the writes.
 */
import type { Logger } from '../../platform/logger.ts';
import { dependencyFailures } from '../../platform/metrics.ts';
import { retryDelayMs, STORE_GIVE_UP_MS } from '../sinks/store-writes.ts';

export async function readStores<T>(what: string, read: () => Promise<T>, log: Logger, giveUpAfterMs = STORE_GIVE_UP_MS): Promise<T> {
  let firstFailureAt: number | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await read();
      if (firstFailureAt !== undefined) log.info('store_read_recovered', { what, attempts: attempt, waitedMs: Date.now() - firstFailureAt });
      return value;
    } catch (err) {
      dependencyFailures.inc({ dependency: 'postgres' });
      firstFailureAt ??= Date.now();
      const waitedMs = Date.now() - firstFailureAt;
      log[attempt === 1 || attempt % 10 === 0 ? 'warn' : 'debug']('store_read_failed', { what, attempt, waitedMs, err });
      if (waitedMs >= giveUpAfterMs) throw err;
      await new Promise((r) => setTimeout(r, retryDelayMs(attempt)));
    }
  }
}
