/**
 * The feature vector of a commodity at its latest tick: a pure function of the window (the last W ticks up to
 * and including that tick) and the running tick count, so a rebuilt window gives exactly the same numbers.
 * Definitions are tabulated in ./README.md; the forecasters' inputs are derived from them in
 * actors/forecast/model-inputs.ts.
 */
import { momentum } from './momentum.ts';
import { exponentialMovingAverage, simpleMovingAverage } from './moving-averages.ts';
import { isNonPositivePrice, logReturn, simpleReturn } from './returns.ts';
import { relativeStrengthIndex } from './rsi.ts';
import { ewmaLogReturnVolatility, returnVolatility, returnZScore } from './volatility.ts';
import type { TickWindow } from './window.ts';

/** Every number is finite or undefined (not enough ticks, or the quantity does not exist at this price). */
export interface FeatureVector {
  /** Timestamp of the latest tick; UTC, epoch milliseconds. */
  readonly tsMs: number;
  /** Latest price. */
  readonly price: number;
  /** (p_t - p_{t-1}) / |p_{t-1}|; undefined without a previous tick or when p_{t-1} = 0. */
  readonly simpleReturn: number | undefined;
  /** ln(p_t / p_{t-1}); undefined without a previous tick or when either price is <= 0. */
  readonly logReturn: number | undefined;
  /** p_t <= 0 or p_{t-1} <= 0: the log return does not exist (WTI, 2020-04-20). */
  readonly nonPositivePrice: boolean;
  /** Mean of the last 5 prices; undefined with fewer. */
  readonly sma5: number | undefined;
  /** Mean of the last 20 prices; undefined with fewer. */
  readonly sma20: number | undefined;
  /** EMA (alpha = 2/6) over the window, seeded with its oldest price. */
  readonly ema5: number;
  /** EMA (alpha = 2/21) over the window, seeded with its oldest price. */
  readonly ema20: number;
  /** Sample standard deviation of the last 20 simple returns; undefined with fewer (or if one is undefined). */
  readonly volatility20: number | undefined;
  /**
   * EWMA (decay 0.94) volatility of the window's log returns, per tick; undefined with fewer than 20 of them. The
   * forecasters scale their quantiles by it.
   */
  readonly ewmaVolatility: number | undefined;
  /** Latest simple return against the mean and sample std of the 20 before it; undefined with fewer or std 0. */
  readonly zScore: number | undefined;
  /** RSI over the last 14 price changes, simple averages, in [0, 100]; undefined with fewer changes. */
  readonly rsi14: number | undefined;
  /** p_t - p_{t-10}, price units; undefined with fewer than 11 prices. */
  readonly momentum10: number | undefined;
  /** Lowest price in the window. */
  readonly windowMin: number;
  /** Highest price in the window. */
  readonly windowMax: number;
  /** Ticks seen for the commodity in total (not only those in the window). */
  readonly tickCount: number;
}

export function computeFeatures(window: TickWindow, tickCount: number): FeatureVector {
  const { prices, ticks } = window;
  const n = prices.length;
  const latest = ticks[n - 1];
  if (latest === undefined) throw new RangeError('computeFeatures needs a window with at least one tick');
  if (!Number.isSafeInteger(tickCount) || tickCount < n) {
    throw new RangeError(`tickCount must be an integer >= the window length ${n}, got ${tickCount}`);
  }
  const price = latest.price;
  const previous = n >= 2 ? (prices[n - 2] as number) : undefined;
  let windowMin = price;
  let windowMax = price;
  for (let i = 0; i < n - 1; i++) {
    const p = prices[i] as number;
    if (p < windowMin) windowMin = p;
    if (p > windowMax) windowMax = p;
  }
  return {
    tsMs: latest.tsMs,
    price,
    simpleReturn: previous === undefined ? undefined : simpleReturn(previous, price),
    logReturn: previous === undefined ? undefined : logReturn(previous, price),
    nonPositivePrice: isNonPositivePrice(previous, price),
    sma5: simpleMovingAverage(prices, 5),
    sma20: simpleMovingAverage(prices, 20),
    // Defined for a non-empty window, and finite because the window bounds prices (MAX_ABS_PRICE).
    ema5: exponentialMovingAverage(prices, 5) as number,
    ema20: exponentialMovingAverage(prices, 20) as number,
    volatility20: returnVolatility(prices, 20),
    ewmaVolatility: ewmaLogReturnVolatility(prices),
    zScore: returnZScore(prices, 20),
    rsi14: relativeStrengthIndex(prices, 14),
    momentum10: momentum(prices, 10),
    windowMin,
    windowMax,
    tickCount,
  };
}
