/**
 * The forests' inputs: the features made scale-free twice over, relative to price and then to volatility, so that
 * one forest can learn from every commodity at once (a 2 % move means something else for gold than for natural
 * gas; two standard deviations mean the same). Return-like inputs are divided by the EWMA volatility per tick.
 */
import type { FeatureVector } from '../features/compute-features.ts';

/** Input order of a trained forest (stored with it; append, never reorder). */
export const MODEL_INPUT_NAMES = [
  'returnInVolatilities',
  'logReturnInVolatilities',
  'priceToSma5InVolatilities',
  'priceToSma20InVolatilities',
  'priceToEma5InVolatilities',
  'priceToEma20InVolatilities',
  'sma5ToSma20InVolatilities',
  'volatility20ToEwmaVolatility',
  'zScore',
  'rsi14Fraction',
  'momentum10InVolatilities',
  'windowPosition',
] as const;

/**
 * Bound on the ratios below. Beyond +-1000 % the exact size tells a forest nothing more, and the bound keeps a
 * near-zero denominator (an average straddling a negative price) from turning into 1e15.
 */
export const RATIO_LIMIT = 10;

/**
 * numerator / |denominator|, clamped to +-RATIO_LIMIT. The absolute value keeps the numerator's sign meaningful
 * when the denominator is a negative price; a zero denominator gives the limit with the numerator's sign.
 */
export function boundedRatio(numerator: number, denominator: number): number {
  if (numerator === 0) return 0;
  const ratio = denominator === 0 ? Math.sign(numerator) * Infinity : numerator / Math.abs(denominator);
  return Math.min(RATIO_LIMIT, Math.max(-RATIO_LIMIT, ratio));
}

/** (value - reference) / |reference|, bounded: value / reference - 1 when the reference is positive. */
export function relativeGap(value: number, reference: number): number {
  return boundedRatio(value - reference, reference);
}

/** Bound of every input: beyond 50 volatilities the exact size tells a forest nothing more. */
const INPUT_LIMIT = 50;
/** Volatility floor of the division: a flat window (a fixed price) has volatility 0 and moves of 0. */
const VOLATILITY_FLOOR = 1e-4;

const bounded = (v: number): number => Math.min(INPUT_LIMIT, Math.max(-INPUT_LIMIT, v));

/** The inputs in MODEL_INPUT_NAMES order, all finite; undefined until every feature they use exists. */
export function modelInputs(f: FeatureVector): Float64Array | undefined {
  const { simpleReturn: r, sma5, sma20, volatility20, zScore, rsi14, momentum10, ewmaVolatility } = f;
  if (
    r === undefined ||
    sma5 === undefined ||
    sma20 === undefined ||
    volatility20 === undefined ||
    zScore === undefined ||
    rsi14 === undefined ||
    momentum10 === undefined ||
    ewmaVolatility === undefined
  ) {
    return undefined;
  }
  const v = Math.max(ewmaVolatility, VOLATILITY_FLOOR);
  const range = f.windowMax - f.windowMin;
  return Float64Array.of(
    bounded(r / v),
    bounded((f.logReturn ?? r) / v),
    bounded(relativeGap(f.price, sma5) / v),
    bounded(relativeGap(f.price, sma20) / v),
    bounded(relativeGap(f.price, f.ema5) / v),
    bounded(relativeGap(f.price, f.ema20) / v),
    bounded(relativeGap(sma5, sma20) / v),
    bounded(volatility20 / v),
    bounded(zScore),
    rsi14 / 100,
    bounded(boundedRatio(momentum10, f.price) / v),
    // A flat window has no position within its range; the middle is the neutral answer.
    range > 0 ? (f.price - f.windowMin) / range : 0.5,
  );
}

/** The scale a forest's target is divided by: the EWMA volatility over the horizon, floored. */
export function forestTargetScale(ewmaVolatility: number, horizonTicks: number): number {
  return Math.sqrt(horizonTicks) * Math.max(ewmaVolatility, VOLATILITY_FLOOR);
}
