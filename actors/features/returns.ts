/**
 * One-step returns. Prices can be zero or negative (WTI settled at -36.98 on 2020-04-20), so every function here
 * answers `undefined` rather than NaN or Infinity when a return does not exist.
 */

/**
 * (current - previous) / |previous|. Dividing by the absolute value keeps the sign meaning "the price went up"
 * when the previous price is negative. Undefined when previous is 0.
 */
export function simpleReturn(previous: number, current: number): number | undefined {
  if (previous === 0) return undefined;
  const r = (current - previous) / Math.abs(previous);
  return Number.isFinite(r) ? r : undefined;
}

/** ln(current / previous); undefined unless both prices are > 0. */
export function logReturn(previous: number, current: number): number | undefined {
  if (!(previous > 0 && current > 0)) return undefined;
  const r = Math.log(current / previous);
  return Number.isFinite(r) ? r : undefined;
}

/** True when the current price, or the previous one if there is one, is <= 0 (the log return does not exist). */
export function isNonPositivePrice(previous: number | undefined, current: number): boolean {
  return current <= 0 || (previous !== undefined && previous <= 0);
}
