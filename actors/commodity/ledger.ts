/**
 * The ticks of one commodity between the partition and durability, in offset order:
 * `pending` (handed to the actor, not yet processed) then `processed` (outputs emitted, not yet durable).
 *
 * It lives outside the actor on purpose: when the actor crashes, nact's reset drops the actor's state, while the
 * ledger keeps the tick that crashed it at the head of `pending` (so it is retried first and in order) and the
 * processed-but-not-durable ticks that the rebuilt window needs besides what Postgres already holds.
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

  constructor(readonly commodity: string) {}

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

  pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }

  inFlightCount(): number {
    return this.pendingCount() + this.processed.length - this.processedHead;
  }
}
