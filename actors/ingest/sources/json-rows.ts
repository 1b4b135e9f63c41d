/**
 * Raw rows of a JSON array of `{date|ts, price, commodity?, unit?}` (the JSON body of `carbon ingest http`), one
 * per element, in order. Reading never refuses an element: one that is not such an object becomes a row without a
 * date or price, which validation rejects with its text.
 */
import { fileNameToId } from '../commodity-id.ts';
import type { RawRow } from '../raw-row.ts';
import { jsonArrayElements } from './json-elements.ts';

export interface JsonRowsOptions {
  /** Becomes each tick's source, e.g. `http:example.org/prices.json`. */
  readonly origin: string;
  /** For messages and DLQ headers: the URL. */
  readonly where: string;
  /** --commodity, already normalized: the id of every row. */
  readonly commodity: string | undefined;
  /** The URL's base name: the commodity of rows that name none. */
  readonly fileName: string | undefined;
  /** Characters of an element kept; longer ones become oversized rows with their beginning. */
  readonly keepChars: number;
}

export async function* jsonArrayRows(chunks: AsyncIterable<Uint8Array>, options: JsonRowsOptions): AsyncGenerator<RawRow> {
  const fromUrl = options.fileName === undefined ? undefined : fileNameToId(options.fileName);
  for await (const element of jsonArrayElements(chunks, options.keepChars, options.where)) {
    yield jsonRow(element.text, element.truncated ? element.sizeChars : undefined, { file: options.where, lineNo: element.index, origin: options.origin }, options.commodity, fromUrl);
  }
}

/** One JSON element as a raw row: `date` or `ts` (epoch ms or date text), `price`, optional `commodity`. */
function jsonRow(text: string, truncatedSize: number | undefined, at: Pick<RawRow, 'file' | 'lineNo' | 'origin'>, option: string | undefined, fromUrl: string | undefined): RawRow {
  const base = { raw: text, ...at, rawType: 'application/json' as const };
  if (truncatedSize !== undefined) return { ...base, commodityHint: option ?? fromUrl, date: '', price: '', rawSizeBytes: truncatedSize };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    // Not an object: no date can be read from it.
    return { ...base, commodityHint: option ?? fromUrl, date: '', price: '' };
  }
  const o = value as Record<string, unknown>;
  const dateValue = o.date ?? o.ts;
  const date = typeof dateValue === 'number' || typeof dateValue === 'string' ? dateValue : '';
  const price = typeof o.price === 'number' ? o.price : typeof o.price === 'string' ? o.price : o.price === undefined || o.price === null ? '' : String(o.price);
  const given = typeof o.commodity === 'string' && o.commodity.trim() !== '' ? o.commodity : undefined;
  const unit = typeof o.unit === 'string' ? o.unit : undefined;
  return { ...base, commodityHint: option ?? given ?? fromUrl, date, price, unit };
}
