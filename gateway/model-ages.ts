/**
 * When each model version was trained, for the freshness of answers without Postgres on the call path: a map
 * filled in the background (versions only grow and trained_at never changes, so reading the new ones is enough),
 * re-read every `refreshMs` and soon after a call meets a version it does not know.
 */
import type { SqlQuery } from '../connectors/postgres/sql-store.ts';
import type { Logger } from '../platform/logger.ts';

export class ModelAges {
  private readonly trainedAt = new Map<number, number>();
  private maxVersion = 0;
  private loading: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly sql: SqlQuery, private readonly log: Logger, refreshMs = 10_000) {
    this.timer = setInterval(() => this.load(), refreshMs);
    this.timer.unref();
    this.load();
  }

  /** Training time of `version` (UTC epoch ms), undefined until it is loaded. */
  trainedAtMs(version: number): number | undefined {
    const at = this.trainedAt.get(version);
    if (at === undefined && version > this.maxVersion) this.load();
    return at;
  }

  /** Reads the versions newer than those known; one read at a time. */
  load(): Promise<void> {
    this.loading ??= this.sql
      .query<{ version: number; trained_at_ms: number }>(
        'SELECT version, floor(extract(epoch FROM trained_at) * 1000)::bigint AS trained_at_ms FROM models WHERE version > $1',
        [this.maxVersion],
      )
      .then(({ rows }) => {
        for (const r of rows) {
          this.trainedAt.set(Number(r.version), Number(r.trained_at_ms));
          this.maxVersion = Math.max(this.maxVersion, Number(r.version));
        }
      })
      .catch((err: unknown) => this.log.warn('gateway_model_ages_failed', { err, effect: 'answers omit model_age_ms until the registry is readable' }))
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
