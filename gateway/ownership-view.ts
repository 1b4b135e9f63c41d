/**
 * This worker's view of partition ownership: the partitions its consumer holds (told by the assignment hook,
 * authoritative for local answers) and a cached copy of the shared table (Redis), refreshed on every change
 * notice and every `refreshMs`, so that routing a call reads memory only. Claims are renewed while held.
 */
import type { OwnershipRegistry, PartitionOwner } from '../connectors/redis/ownership.ts';
import type { Logger } from '../platform/logger.ts';

export class OwnershipView {
  private owners: (PartitionOwner | undefined)[] = [];
  private local: ReadonlySet<number> = new Set();
  private changes: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private unwatch: (() => Promise<void>) | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;

  constructor(
    private readonly registry: OwnershipRegistry,
    private readonly partitionCount: number,
    private readonly leaseMs: number,
    private readonly refreshMs: number,
    private readonly log: Logger,
    private readonly onOwnersChanged: (owners: readonly (PartitionOwner | undefined)[]) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    this.unwatch = await this.registry.watch(() => this.refresh());
    await this.refreshNow();
    this.timers.push(setInterval(() => this.refresh(), this.refreshMs));
    this.timers.push(setInterval(() => this.renew(), Math.max(100, Math.floor(this.leaseMs / 3))));
    for (const t of this.timers) t.unref();
  }

  isLocal(partition: number): boolean {
    return this.local.has(partition);
  }

  ownerOf(partition: number): PartitionOwner | undefined {
    return this.owners[partition];
  }

  localPartitions(): number[] {
    return [...this.local].sort((a, b) => a - b);
  }

  /**
   * The consumer group gave this worker `partitions`: local answers switch at once; the shared table follows
   * (withdraw the revoked, claim the assigned with a fresh fencing token). Changes apply in call order.
   */
  assignmentChanged(partitions: readonly number[]): Promise<void> {
    const next = new Set(partitions);
    const revoked = [...this.local].filter((p) => !next.has(p));
    this.local = next;
    // Taken now, in call order, so that a later assignment always holds the larger token.
    const epoch = this.registry.nextEpoch();
    const change = this.changes.then(async () => {
      await this.registry.withdraw(revoked);
      const held = await this.registry.claim(partitions, await epoch, this.leaseMs);
      this.log.info('gateway_ownership_published', { epoch: await epoch, partitions, held, revoked });
      await this.refreshNow();
    });
    this.changes = change.catch((err: unknown) => {
      this.log.error('gateway_ownership_publish_failed', { partitions, err, effect: 'other workers answer degraded for these partitions until the next assignment or renewal' });
    });
    return this.changes;
  }

  /** Re-reads the table soon; concurrent requests coalesce into one read. */
  refresh(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = this.refreshNow()
      .catch((err: unknown) => this.log.warn('gateway_ownership_refresh_failed', { err }))
      .finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.refresh();
        }
      });
  }

  private async refreshNow(): Promise<void> {
    this.owners = await this.registry.readAll(this.partitionCount);
    this.onOwnersChanged(this.owners);
  }

  private renew(): void {
    const held = [...this.local];
    if (held.length === 0) return;
    this.registry.renew(held, this.leaseMs).catch((err: unknown) => this.log.warn('gateway_ownership_renew_failed', { err }));
  }

  /** Withdraws this worker's claims and stops watching. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.changes;
    const held = [...this.local];
    this.local = new Set();
    await this.registry.withdraw(held);
    await this.unwatch?.();
    await this.refreshing;
  }
}
