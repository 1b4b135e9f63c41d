/**
 * Audit rows (audit_log: actor, action, subject, details) written off the call path: queued, written in one
 * INSERT every `flushMs`. Under a flood of failures (a client retrying a bad token) the queue is bounded; rows
 * beyond it are counted and the count is written as one row of its own, so the log says what it does not hold.
 */
import type { SqlQuery } from '../connectors/postgres/sql-store.ts';
import type { Logger } from '../platform/logger.ts';

export interface AuditRow {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly details: Record<string, unknown>;
}

const MAX_QUEUED = 1_000;

export class AuditLog {
  private queue: AuditRow[] = [];
  private dropped = 0;
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly sql: SqlQuery, private readonly workerId: string, private readonly log: Logger, flushMs = 250) {
    this.timer = setInterval(() => {
      this.flush().catch((err: unknown) => this.log.error('gateway_audit_write_failed', { err }));
    }, flushMs);
    this.timer.unref();
  }

  record(row: AuditRow): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.queue.push(row);
  }

  /** Writes what is queued; resolves when it is in the table. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.writeQueued());
    return this.writing;
  }

  private async writeQueued(): Promise<void> {
    const rows = this.queue;
    this.queue = [];
    if (this.dropped > 0) {
      rows.push({ actor: 'gateway', action: 'audit.rows_dropped', subject: this.workerId, details: { count: this.dropped, reason: `more than ${MAX_QUEUED} rows queued` } });
      this.dropped = 0;
    }
    if (rows.length === 0) return;
    const params: unknown[] = [];
    const values = rows.map((r, i) => {
      params.push(r.actor, r.action, r.subject, JSON.stringify({ ...r.details, worker: this.workerId }));
      return `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4}::jsonb)`;
    });
    await this.sql.query(`INSERT INTO audit_log (actor, action, subject, details) VALUES ${values.join(', ')}`, params);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
