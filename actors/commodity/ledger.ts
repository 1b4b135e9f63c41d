/**
 * The ticks a commodity's actor has processed, oldest first, each with its tick count: the window it would hold.
 *
 * It lives outside the actor on purpose: nact's reset drops the actor's state, and a restarted actor rebuilds its
 * window from here, without a query on its recovery path. It knows nothing until seeded by the actor's first
 * rebuild from the stores (a new assignment, a worker restart); from then on every processed tick joins it, whether
 * its outputs are durable yet or not: the window is what was processed, and what is not durable is processed again
 * (by a new incarnation of the partition, from its last committed offset) only after this ledger is gone.
 */

export interface ProcessedTick {
  readonly tsMs: number;
  readonly price: number;
  readonly tickCount: number;
}

export class CommodityLedger {
  /** The last processed ticks, oldest first; undefined until seeded. */
  private history: ProcessedTick[] | undefined;

  /** `keep`: how many ticks to hold (the actor's window size). */
  constructor(readonly commodity: string, private readonly keep: number) {}

  /** Seeds the history from what the stores hold before the first tick to process (`tickCount`: the newest's). */
  seedHistory(ticks: readonly { tsMs: number; price: number }[], tickCount: number): void {
    this.history = ticks.slice(-this.keep).map((t, i, kept) => ({ tsMs: t.tsMs, price: t.price, tickCount: tickCount - (kept.length - 1 - i) }));
  }

  /** A tick the actor processed (its outputs are on their way); ignored before the ledger is seeded. */
  processed(p: ProcessedTick): void {
    if (!this.history) return;
    this.history.push(p);
    // Trimmed now and then rather than shifted at every tick.
    if (this.history.length > this.keep * 2) this.history = this.history.slice(-this.keep);
  }

  /** The last processed ticks (oldest first), or undefined before the first seeding. */
  recent(): readonly ProcessedTick[] | undefined {
    return this.history?.slice(-this.keep);
  }
}
