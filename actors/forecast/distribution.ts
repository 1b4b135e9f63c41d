/**
 * A forecast as a predictive distribution of the forward log return over a horizon: a point forecast, quantiles
 * at fixed levels, the volatility scale they were drawn with, and a calibrated probability of a rise.
 */

/** Quantile levels of every forecast, ascending. The 0.1 and 0.9 quantiles bound the 80 % interval. */
export const QUANTILE_LEVELS: readonly number[] = Object.freeze([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]);

/** The central interval the platform reports and scores: between two of the quantiles. */
export const INTERVAL = Object.freeze({ level: 0.8, lowIndex: 1, highIndex: 5 });

export interface ReturnDistribution {
  /** Point forecast of the log return (what MAE scores). */
  readonly point: number;
  /** Quantiles at QUANTILE_LEVELS, ascending. */
  readonly quantiles: Float64Array;
  /** Predicted standard deviation of the log return over the horizon. */
  readonly scale: number;
  /** P(log return > 0), calibrated. */
  readonly probabilityUp: number;
}

export function intervalOf(d: ReturnDistribution): { readonly low: number; readonly high: number } {
  return { low: d.quantiles[INTERVAL.lowIndex]!, high: d.quantiles[INTERVAL.highIndex]! };
}
