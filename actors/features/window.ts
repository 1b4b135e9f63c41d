/**
 * The bounded window of recent ticks that a commodity actor keeps. Features are a pure function of this window
 * (plus the running tick count), so a window rebuilt from the last W stored ticks after a restart yields exactly
 * the numbers an uninterrupted run would have produced.
 */

/** One observed price. `tsMs`: UTC, epoch milliseconds. `price` may be zero or negative (WTI, 2020-04-20). */
export interface PricePoint {
  readonly tsMs: number;
  readonly price: number;
}

/** Ticks oldest first, at most `size` of them; `prices[i]` is `ticks[i].price`, kept apart for the math. */
export interface TickWindow {
  readonly size: number;
  readonly ticks: readonly PricePoint[];
  readonly prices: readonly number[];
}

export const DEFAULT_WINDOW_SIZE = 50;
/** The longest look-back of any feature: the z-score needs 22 prices (20 returns plus the one it scores). */
export const MIN_WINDOW_SIZE = 22;

function assertWindowSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < MIN_WINDOW_SIZE) {
    throw new RangeError(`window size must be an integer >= ${MIN_WINDOW_SIZE}, got ${size}`);
  }
}

/**
 * No commodity trades anywhere near this; the bound keeps every sum and difference of prices in a window finite,
 * so that the features can promise finite numbers.
 */
export const MAX_ABS_PRICE = 1e15;

/** Such values must be rejected upstream (DLQ); letting a NaN in would make every feature NaN for W ticks. */
function assertFinitePoint(tick: PricePoint): void {
  if (!Number.isFinite(tick.tsMs) || !(Math.abs(tick.price) <= MAX_ABS_PRICE)) {
    throw new RangeError(
      `tick must have a finite tsMs and a price within +-${MAX_ABS_PRICE}, got tsMs=${tick.tsMs} price=${tick.price}`,
    );
  }
}

export function emptyWindow(size: number = DEFAULT_WINDOW_SIZE): TickWindow {
  assertWindowSize(size);
  return { size, ticks: [], prices: [] };
}

/**
 * A new window with `tick` appended and the oldest tick dropped once `size` is reached; `window` is not modified.
 * O(size): copies two arrays of at most `size` references. Ordering and de-duplication are the caller's concern.
 */
export function appendTick(window: TickWindow, tick: PricePoint): TickWindow {
  assertFinitePoint(tick);
  const drop = window.ticks.length >= window.size ? 1 : 0;
  const ticks = window.ticks.slice(drop);
  const prices = window.prices.slice(drop);
  ticks.push(tick);
  prices.push(tick.price);
  return { size: window.size, ticks, prices };
}

/** The window holding the last `size` of `ticks` (oldest first): what a restarted actor rebuilds from storage. */
export function fromTicks(ticks: readonly PricePoint[], size: number = DEFAULT_WINDOW_SIZE): TickWindow {
  assertWindowSize(size);
  const kept = ticks.slice(Math.max(0, ticks.length - size));
  for (const tick of kept) assertFinitePoint(tick);
  return { size, ticks: kept, prices: kept.map((tick) => tick.price) };
}
