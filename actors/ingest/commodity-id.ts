/**
 * Commodity ids: stable, readable upper snake case keys of `commodity-prices` (and so of the partitioning).
 * Names from files and columns are turned into ids here and nowhere else, so that the same source always gives
 * the same id: changing these rules renames commodities under live state.
 */

export const COMMODITY_ID_PATTERN = /^[A-Z][A-Z0-9_]{0,31}$/;
export const MAX_COMMODITY_ID_LENGTH = 32;

export function isValidCommodityId(id: string): boolean {
  return COMMODITY_ID_PATTERN.test(id);
}

/** Words that carry no identity in series names ("Spot price at the Henry Hub" -> SPOT_PRICE_HENRY_HUB). */
const fillerWords = new Set(['A', 'AN', 'AND', 'AT', 'IN', 'OF', 'THE', 'ON', 'FOR', 'TO']);
/** Frequency and file-kind suffixes of file names: `wti-daily.csv` is WTI. */
const frequencyWords = new Set(['DAILY', 'WEEKLY', 'MONTHLY', 'QUARTERLY', 'ANNUAL', 'YEARLY', 'PRICES', 'PRICE']);
const fileExtension = /\.(csv|json|txt|tsv)$/i;

function words(name: string): string[] {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    // Abbreviations stay one word: `U.S.` -> US.
    .replace(/(?<=\b[A-Za-z])\.(?=[A-Za-z]\b)/g, '')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((w) => w !== '');
}

/** Joins words with `_`, cutting at a word boundary so the id fits; a first word longer than that is cut. */
function joinWithin(parts: readonly string[], maxLength: number): string {
  let id = '';
  for (const w of parts) {
    const next = id === '' ? w : `${id}_${w}`;
    if (next.length > maxLength) return id === '' ? w.slice(0, maxLength) : id;
    id = next;
  }
  return id;
}

/**
 * The id of a series named by a column header or a free-form name: upper snake case, filler words and repeated
 * words dropped, cut at a word boundary to 32 characters. `Crude Oil petroleum - Dated Brent light blend` ->
 * `CRUDE_OIL_PETROLEUM_DATED_BRENT`. May still be invalid (e.g. it starts with a digit): callers validate.
 */
export function seriesNameToId(name: string): string {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const w of words(name)) {
    if (fillerWords.has(w) || seen.has(w)) continue;
    seen.add(w);
    kept.push(w);
  }
  return joinWithin(kept, MAX_COMMODITY_ID_LENGTH);
}

/**
 * The id of the commodity a file holds, from its base name: extension and frequency suffixes dropped
 * (`henry-hub-daily.csv` -> `HENRY_HUB`, `gold-monthly` -> `GOLD`). Undefined when nothing is left.
 */
export function fileNameToId(fileName: string): string | undefined {
  const base = fileName.replace(/^.*[\\/]/, '').replace(fileExtension, '');
  const kept = words(base);
  while (kept.length > 1 && frequencyWords.has(kept[kept.length - 1] as string)) kept.pop();
  const id = joinWithin(kept, MAX_COMMODITY_ID_LENGTH);
  return id === '' ? undefined : id;
}

/**
 * The id given by a user or a row (`--commodity wti`, a `commodity` field): trimmed, upper-cased, `-` and spaces
 * as `_`; nothing else is repaired, so a malformed value stays malformed and is rejected by validation.
 */
export function normalizeGivenId(given: string): string {
  return given.trim().toUpperCase().replace(/[-\s]+/g, '_');
}
