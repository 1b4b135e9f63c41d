/**
 * The ticks of one commodity between the partition and durability, in offset order:
 * `pending` (handed to the actor, not yet processed) then `processed` (outputs emitted, not yet durable).
 *
 * It lives outside the actor on purpose: when the actor crashes, nact's reset drops the actor's state, while the
 * ledger keeps the tick that crashed it at the head of `pending` (so it is retried first and in order) and the
 * processed-but-not-durable ticks that the rebuilt window needs besides what Postgres already holds.
 *
 * Once seeded (by the actor's first rebuild from Postgres), it also keeps the last durable ticks: then a restarted
 * actor rebuilds its window from memory, without a query on its recovery path.
 */
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';

export interface PendingTick {
  /** Kafka offset (or the in-process bus's sequence number) of the message. */
  readonly seq: number;
  readonly tick: PriceTick;
  /** When the message was fetched, epoch ms (monotonic enough for latency metrics). */
  readonly fetchedAtMs: number;
  /** Crashes this tick caused so far. */
  crashes: number;
  /** The last error it caused, for the DLQ record. */
  lastError?: unknown;
}

export interface ProcessedTick {
  readonly tsMs: number;
  readonly price: number;
  readonly tickCount: number;
}

export class CommodityLedger {
  private pending: PendingTick[] = [];
  private pendingHead = 0;
  private processed: ProcessedTick[] = [];
  private processedHead = 0;

  /** The last durable ticks, oldest first, each with its tick count; undefined until seeded. */
  private history: ProcessedTick[] | undefined;

  /** `keep`: how many durable ticks to hold (the actor's window size). */
  constructor(readonly commodity: string, private readonly keep: number) {}

  append(entry: PendingTick): void {
    this.pending.push(entry);
  }

  /** The next tick the actor must process, or undefined when it is caught up. */
  head(): PendingTick | undefined {
    return this.pending[this.pendingHead];
  }

  /** Removes the head (processed, skipped or dead-lettered); compacts now and then instead of shifting. */
  shift(): PendingTick {
    const entry = this.pending[this.pendingHead];
    if (!entry) throw new Error(`ledger of ${this.commodity} has no pending tick to remove`);
    this.pendingHead++;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    return entry;
  }

  /** Records a processed tick whose outputs are on their way to the stores. */
  processedAwaitingDurability(p: ProcessedTick): void {
    this.processed.push(p);
  }

  /** The oldest processed tick is durable (the sink acknowledges in order). */
  durable(): void {
    const done = this.processed[this.processedHead];
    if (done && this.history) {
      this.history.push(done);
      if (this.history.length > this.keep * 2) this.history = this.history.slice(-this.keep);
    }
    this.processedHead++;
    if (this.processedHead > 1024 && this.processedHead * 2 > this.processed.length) {
      this.processed = this.processed.slice(this.processedHead);
      this.processedHead = 0;
    }
  }

  /** Processed ticks not yet known durable, oldest first: the part of a rebuilt window Postgres may lack. */
  undurable(): ProcessedTick[] {
    return this.processed.slice(this.processedHead);
  }

  /**
   * Seeds the durable history from what the stores hold (`ticks` oldest first, `tickCount` that of the newest).
   * Ticks still awaiting durability are left out: they join the history when they become durable.
   */
  seedHistory(ticks: readonly { tsMs: number; price: number }[], tickCount: number): void {
    const oldestUndurable = this.processed[this.processedHead]?.tsMs ?? Number.POSITIVE_INFINITY;
    const n = ticks.length;
    this.history = ticks
      .map((t, i) => ({ tsMs: t.tsMs, price: t.price, tickCount: tickCount - (n - 1 - i) }))
      .filter((t) => t.tsMs < oldestUndurable)
      .slice(-this.keep);
  }

  /** The last durable ticks (oldest first), or undefined before the first seeding. */
  durableHistory(): readonly ProcessedTick[] | undefined {
    return this.history?.slice(-this.keep);
  }

  pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }

  inFlightCount(): number {
    return this.pendingCount() + this.processed.length - this.processedHead;
  }
}
