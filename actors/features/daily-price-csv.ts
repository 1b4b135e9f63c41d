/**
 * Test support (no production code imports this): reads the real daily series that ship in the repository's
 * data/ folder as ticks.
 */
import { readFileSync } from 'node:fs';
import type { PricePoint } from './window.ts';

const dataDir = new URL('../../data/', import.meta.url);

/**
 * The `Date,Price` rows of `fileName` as ticks at UTC midnight, oldest first. Rows with an empty price (Henry Hub,
 * 2018-01-05) are skipped, as ingestion rejects them; any other unreadable row throws.
 */
export function readDailyPrices(fileName: string): PricePoint[] {
  const lines = readFileSync(new URL(fileName, dataDir), 'utf8').split(/\r?\n/);
  const ticks: PricePoint[] = [];
  for (const [index, line] of lines.slice(1).entries()) {
    if (line.trim() === '') continue;
    const [date = '', priceText = ''] = line.split(',');
    if (priceText.trim() === '') continue;
    const tsMs = Date.parse(`${date}T00:00:00Z`);
    const price = Number(priceText);
    if (!Number.isFinite(tsMs) || !Number.isFinite(price)) {
      throw new Error(`${fileName} line ${index + 2} is not a date and a price: ${JSON.stringify(line)}`);
    }
    ticks.push({ tsMs, price });
  }
  return ticks;
}
