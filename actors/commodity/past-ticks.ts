/**
 * A tick at or before a commodity's newest one: a replay (the same ingest run again, a producer's retry, a
 * redelivery after a crash) or a correction. Judged by the price stored at its time, however old: the same price
 * is a duplicate (counted, no output), another price is a conflict, and a time with nothing stored cannot be
 * placed in a series whose features were computed without it. Both go to the DLQ under the reasons below.
 */
import type { PricePoint } from '../features/window.ts';
import type { HistoryStore } from './history-port.ts';

/** The DLQ reasons of a past tick refused by a commodity actor (docs/api.md lists them). */
export const pastTickReasons = ['conflicting_price', 'out_of_order'] as const;
export type PastTickReason = (typeof pastTickReasons)[number];

export type PastTickVerdict =
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'rejected'; readonly reason: PastTickReason; readonly detail: string };

const iso = (tsMs: number): string => new Date(tsMs).toISOString();

/** `storedPrice`: the price stored at the tick's time, undefined when nothing is. */
export function judgePastTick(tick: PricePoint, storedPrice: number | undefined, latestTsMs: number): PastTickVerdict {
  if (storedPrice === tick.price) return { kind: 'duplicate' };
  if (storedPrice === undefined) {
    return { kind: 'rejected', reason: 'out_of_order', detail: `tick at ${iso(tick.tsMs)} is older than the latest (${iso(latestTsMs)}) and no tick is stored at its time: it cannot be placed in the series` };
  }
  return { kind: 'rejected', reason: 'conflicting_price', detail: `a tick at ${iso(tick.tsMs)} is stored with price ${storedPrice}; this one has ${tick.price}` };
}

/**
 * What to do with a tick newer than the window while the window is catching up with ticks already stored (after a
 * rebuild for a first tick older than the newest stored one: a redelivery after a crash, or a replay). `next` is
 * the first stored time after the window's last tick, undefined when none is (caught up).
 * - `apply`: the next stored tick itself (a redelivery, recomputed in order), or caught up;
 * - `late`: between the window and the next stored tick, with nothing stored at its time: it cannot be placed;
 * - `rebuild`: beyond the next stored tick, so the window is behind what is stored before it (the ticks after a
 *   replayed one were committed, not redelivered): rebuilt up to the tick first.
 */
export function catchUp(tickTsMs: number, nextStoredTsMs: number | undefined): 'apply' | 'late' | 'rebuild' {
  if (nextStoredTsMs === undefined || tickTsMs === nextStoredTsMs) return 'apply';
  return tickTsMs < nextStoredTsMs ? 'late' : 'rebuild';
}

/** The stored tick at a time, and the first stored time after it. */
export interface StoredAround {
  readonly price: number | undefined;
  readonly nextTsMs: number | undefined;
}

/**
 * The stored prices of one commodity at times older than its window, read a page at a time: a replay arrives in
 * time order, so one read answers the next `pageSize` of its ticks. A page covers the times from the one asked to
 * its last row: the owning actor writes only ticks newer than every stored one, so what is stored within that span
 * stays as read for the actor's life.
 */
export class StoredPrices {
  private page: { readonly fromTsMs: number; readonly times: readonly number[]; readonly prices: ReadonlyMap<number, number> } | undefined;

  constructor(private readonly history: Pick<HistoryStore, 'loadFrom'>, private readonly commodity: string, private readonly pageSize = 1_000) {}

  async priceAt(tsMs: number): Promise<number | undefined> {
    return (await this.around(tsMs)).price;
  }

  async around(tsMs: number): Promise<StoredAround> {
    let page = this.page;
    // Read again unless the page covers tsMs and knows what follows it (its rows after tsMs, or none at all when
    // the read came back short: nothing stored after its last row then).
    const last = page?.times[page.times.length - 1];
    if (page === undefined || last === undefined || tsMs < page.fromTsMs || tsMs >= last) {
      const ticks = await this.history.loadFrom(this.commodity, tsMs, this.pageSize);
      page = this.page = { fromTsMs: tsMs, times: ticks.map((t) => t.tsMs), prices: new Map(ticks.map((t) => [t.tsMs, t.price])) };
    }
    return { price: page.prices.get(tsMs), nextTsMs: page.times.find((t) => t > tsMs) };
  }
}
