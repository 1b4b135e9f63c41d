/**
 * The price sheet (CARBON_PRICE_*: dollars per thousand calls, per CPU-second, per gigabyte stored for a month)
 * and the arithmetic that turns usage into cost. Pure functions: `carbon usage` and its tests use them, and the
 * "Usage and cost" dashboard does the same sums in PromQL over carbon_unit_price_dollars.
 */

export interface PriceSheet {
  readonly per1000Calls: number;
  readonly perCpuSecond: number;
  /** A gigabyte (10^9 bytes) held for a month (730 hours). */
  readonly perGbMonth: number;
}

const HOUR_MS = 3_600_000;
export const HOURS_PER_MONTH = 730;

/**
 * Gigabyte-months held over the hours of [fromMs, toMs): each hour holds what was written in it and in every hour
 * before (nothing is deleted), prorated as a 730th of a month.
 */
export function storageGbMonths(bytesByHour: readonly { hourMs: number; bytes: number }[], fromMs: number, toMs: number): number {
  const sorted = [...bytesByHour].sort((a, b) => a.hourMs - b.hourMs);
  let held = 0;
  let next = 0;
  let byteHours = 0;
  for (let hour = fromMs - (fromMs % HOUR_MS); hour < toMs; hour += HOUR_MS) {
    while (next < sorted.length && (sorted[next] as { hourMs: number }).hourMs <= hour) held += (sorted[next++] as { bytes: number }).bytes;
    byteHours += held;
  }
  return byteHours / 1e9 / HOURS_PER_MONTH;
}

/** A tenant's cost: its calls and the CPU time of its calls. */
export function tenantCost(sheet: PriceSheet, calls: number, cpuSeconds: number): number {
  return (calls / 1_000) * sheet.per1000Calls + cpuSeconds * sheet.perCpuSecond;
}

/** A commodity's cost: the CPU time of its actor and its training, and what its rows hold in storage. */
export function commodityCost(sheet: PriceSheet, cpuSeconds: number, gbMonths: number): number {
  return cpuSeconds * sheet.perCpuSecond + gbMonths * sheet.perGbMonth;
}
