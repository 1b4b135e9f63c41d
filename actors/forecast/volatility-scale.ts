/**
 * The volatility a forecast's quantiles are scaled by: the EWMA variance of the latest log returns (a feature),
 * pulled towards the commodity's long-run variance. Volatility clusters but also reverts, and more so the longer
 * the horizon, so the weight of the EWMA part is fitted per commodity and horizon (variance targeting, as in a
 * GARCH(1,1) with its unconditional variance fixed to the sample's):
 *
 *   scale^2 = h * (w * ewma^2 + (1 - w) * longRunVariance)
 *
 * w is chosen on the training rows by the QLIKE loss y^2 / scale^2 + ln(scale^2), the loss that ranks variance
 * forecasts consistently whatever the noise of the y^2 they are compared with (Patton, 2011).
 */

export interface VolatilityScale {
  readonly horizonTicks: number;
  /** Weight of the EWMA variance, in [0, 1]. */
  readonly weight: number;
  /** Mean squared log return per tick over the training rows. */
  readonly longRunVariance: number;
}

/** The weights tried, 0 to 1 by 0.05. */
const WEIGHTS = Array.from({ length: 21 }, (_, i) => i / 20);

/**
 * Smallest scale: with all weight on the EWMA part, a window of unchanged prices would scale by 0 and turn any
 * residual into an infinity; the floor keeps the quantiles at the point instead.
 */
export const SCALE_FLOOR = 1e-8;

/** Predicted standard deviation of the h-tick log return; NaN when the EWMA volatility is undefined. */
export function scaleOf(s: VolatilityScale, ewmaVolatility: number | undefined): number {
  if (ewmaVolatility === undefined) return Number.NaN;
  const variance = s.horizonTicks * (s.weight * ewmaVolatility * ewmaVolatility + (1 - s.weight) * s.longRunVariance);
  return Math.max(SCALE_FLOOR, Math.sqrt(variance));
}

/**
 * Fits w and the long-run variance on rows [start, end) of `y` (h-tick log returns) and `ewmaVolatility` (per
 * tick, at the row's time). Rows whose EWMA volatility is undefined (NaN) are left out.
 */
export function fitVolatilityScale(
  ewmaVolatility: ArrayLike<number>,
  y: ArrayLike<number>,
  horizonTicks: number,
  start: number,
  end: number,
): VolatilityScale {
  let sumSquares = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    if (Number.isNaN(ewmaVolatility[i]!)) continue;
    sumSquares += y[i]! * y[i]!;
    n++;
  }
  if (n === 0) throw new RangeError(`no training row in [${start}, ${end}) has an EWMA volatility`);
  const longRunVariance = sumSquares / n / horizonTicks;
  if (!(longRunVariance > 0)) {
    // Every return 0 (a fixed price): nothing to scale by; a zero scale would make every residual infinite.
    throw new RangeError(`the training returns in [${start}, ${end}) are all 0: no volatility to scale by`);
  }
  let best = { weight: 0, loss: Number.POSITIVE_INFINITY };
  for (const weight of WEIGHTS) {
    const s: VolatilityScale = { horizonTicks, weight, longRunVariance };
    let loss = 0;
    for (let i = start; i < end; i++) {
      const v = ewmaVolatility[i]!;
      if (Number.isNaN(v)) continue;
      const variance = scaleOf(s, v) ** 2;
      loss += (y[i]! * y[i]!) / variance + Math.log(variance);
    }
    if (loss < best.loss) best = { weight, loss };
  }
  return { horizonTicks, weight: best.weight, longRunVariance };
}
