/**
 * The real daily series that ship in the repository's data/ folder, as ticks, read by the platform's own
 * `Date,Price` reader (actors/training/price-csv.ts).
 */
import { readFileSync } from 'node:fs';
import type { PricePoint } from '../actors/features/window.ts';
import { parsePriceCsv } from '../actors/training/price-csv.ts';

const dataDir = new URL('../data/', import.meta.url);

/**
 * The rows of `fileName` as ticks at UTC midnight, oldest first. Rows with an empty price (Henry Hub, 2018-01-05)
 * are skipped, as ingestion rejects them; any other unreadable row throws.
 */
export function readDailyPrices(fileName: string): PricePoint[] {
  return parsePriceCsv(readFileSync(new URL(fileName, dataDir), 'utf8'), fileName).ticks;
}
