/**
 * Reads a `Date,Price` CSV (the layout of the repository's data/ and of EIA downloads) into ticks: daily dates
 * (YYYY-MM-DD) at 00:00 UTC, monthly dates (YYYY-MM) at 00:00 UTC on the first of the month. Rows with an
 * empty price are skipped and counted (a missing observation, not a zero); anything else unreadable throws,
 * naming the line.
 */
import type { PricePoint } from '../features/window.ts';

export interface PriceCsv {
  readonly ticks: PricePoint[];
  readonly skippedEmpty: number;
}

const datePattern = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/;

export function parsePriceCsv(text: string, name: string): PriceCsv {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.trim().toLowerCase();
  if (header !== 'date,price') throw new Error(`${name}: expected the header "Date,Price", got ${JSON.stringify(lines[0])}`);
  const ticks: PricePoint[] = [];
  let skippedEmpty = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const [date = '', priceText = '', ...rest] = line.split(',');
    const m = datePattern.exec(date.trim());
    const tsMs = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, m[3] === undefined ? 1 : Number(m[3])) : Number.NaN;
    if (rest.length > 0 || !Number.isFinite(tsMs)) throw new Error(`${name} line ${i + 1}: not a date and a price: ${JSON.stringify(line)}`);
    if (priceText.trim() === '') {
      skippedEmpty++;
      continue;
    }
    const price = Number(priceText);
    if (!Number.isFinite(price)) throw new Error(`${name} line ${i + 1}: price ${JSON.stringify(priceText)} is not a number`);
    const previous = ticks[ticks.length - 1];
    if (previous !== undefined && !(tsMs > previous.tsMs)) {
      throw new Error(`${name} line ${i + 1}: ${date} is not after the row before it`);
    }
    ticks.push({ tsMs, price });
  }
  return { ticks, skippedEmpty };
}
