/**
 * Raw rows of a CSV table with a header line. Three layouts, told apart by the header:
 * - long: `Date,Price,Commodity` in any order (a `commodity` column names each row's commodity);
 * - one series: `Date,<column>` (the daily and gold files: `Date,Price`);
 * - wide: `Date,<series>,<series>,...` (the IMF file), one observation per non-empty cell.
 * The commodity of a series comes from the option, else the file name, else the column name. A line with
 * more or fewer cells than the header is one row rejected as a whole (column_count_mismatch).
 */
import { fileNameToId, seriesNameToId } from '../commodity-id.ts';
import type { RawRow } from '../raw-row.ts';
import { SourceError } from '../raw-row.ts';
import { splitCsvLine, type Line } from './lines.ts';

export interface CsvTableOptions {
  /** Becomes each tick's source, e.g. `csv:wti-daily.csv`. */
  readonly origin: string;
  /** For messages: the path or URL. */
  readonly where: string;
  /** --commodity: the id of a one-series table (an error for a wide table, which holds several). */
  readonly commodity: string | undefined;
  /** File or URL base name, the commodity of a one-series table when no option names it. */
  readonly fileName: string | undefined;
}

/** Empty cells of wide tables: no observation (series start on different dates), counted but not rejected. */
export interface AbsentCounter {
  absent: number;
}

const dateHeaders = new Set(['date', 'ts', 'time', 'timestamp', 'day', 'month']);

type Layout =
  | { readonly kind: 'long'; readonly width: number; readonly date: number; readonly price: number; readonly commodity: number }
  | { readonly kind: 'series'; readonly width: number; readonly date: number; readonly series: ReadonlyArray<{ readonly column: number; readonly name: string; readonly commodity: string }> };

function layoutOf(header: readonly string[], options: CsvTableOptions): Layout {
  const names = header.map((h) => h.trim().toLowerCase());
  const date = names.findIndex((n) => dateHeaders.has(n));
  if (date === -1) {
    throw new SourceError(`${options.where}: the first line must be a header with a Date column, got ${JSON.stringify(header.join(',').slice(0, 120))}`);
  }
  const commodity = names.indexOf('commodity');
  const price = names.indexOf('price');
  const width = header.length;
  if (commodity !== -1 && price !== -1) return { kind: 'long', width, date, price, commodity };
  const columns = header.map((name, column) => ({ name: name.trim(), column })).filter((c) => c.column !== date);
  if (columns.length === 0) throw new SourceError(`${options.where}: the header has no price column`);
  if (columns.length === 1) {
    const only = columns[0] as { name: string; column: number };
    const fromFile = options.fileName === undefined ? undefined : fileNameToId(options.fileName);
    return { kind: 'series', width, date, series: [{ ...only, commodity: options.commodity ?? fromFile ?? seriesNameToId(only.name) }] };
  }
  if (options.commodity !== undefined) {
    throw new SourceError(`${options.where}: --commodity names one series, but this table has ${columns.length} series columns (their names are the ids)`);
  }
  const byId = new Map<string, string>();
  const series = columns.map((c) => {
    const id = seriesNameToId(c.name);
    const other = byId.get(id);
    if (other !== undefined) throw new SourceError(`${options.where}: columns ${JSON.stringify(other)} and ${JSON.stringify(c.name)} both map to commodity ${id}`);
    byId.set(id, c.name);
    return { ...c, commodity: id };
  });
  return { kind: 'series', width, date, series };
}

export async function* csvTableRows(lines: AsyncIterable<Line>, options: CsvTableOptions, counter: AbsentCounter): AsyncGenerator<RawRow> {
  let layout: Layout | undefined;
  const origin = options.origin;
  const file = options.where;
  for await (const line of lines) {
    if (layout === undefined) {
      if (line.truncated) throw new SourceError(`${options.where}: the header line is ${line.sizeBytes} bytes long`);
      const text = line.lineNo === 1 ? line.text.replace(/^\uFEFF/, '') : line.text;
      if (text.trim() === '') continue;
      layout = layoutOf(splitCsvLine(text), options);
      continue;
    }
    const raw = line.text;
    if (line.truncated) {
      // Cut short: its cells cannot be trusted; one oversized row carries its beginning to the DLQ.
      const commodity = layout.kind === 'series' && layout.series.length === 1 ? layout.series[0]?.commodity : options.commodity;
      yield { commodityHint: commodity, date: '', price: '', raw, rawSizeBytes: line.sizeBytes, file, lineNo: line.lineNo, origin };
      continue;
    }
    if (raw.trim() === '') continue;
    const cells = splitCsvLine(raw);
    const date = cells[layout.date] ?? '';
    if (cells.length !== layout.width) {
      // Which value belongs to which column is unknown: the whole line is one rejected row, never guessed.
      const only = layout.kind === 'series' && layout.series.length === 1 ? layout.series[0]?.commodity : undefined;
      yield { commodityHint: only ?? options.commodity, date, price: '', raw, file, lineNo: line.lineNo, origin, cells: { found: cells.length, expected: layout.width } };
      continue;
    }
    if (layout.kind === 'long') {
      const given = cells[layout.commodity]?.trim() ?? '';
      const fromFile = options.fileName === undefined ? undefined : fileNameToId(options.fileName);
      const commodityHint = options.commodity ?? (given !== '' ? given : fromFile);
      yield { commodityHint, date, price: cells[layout.price] ?? '', raw, file, lineNo: line.lineNo, origin };
      continue;
    }
    const wide = layout.series.length > 1;
    for (const s of layout.series) {
      const price = cells[s.column] ?? '';
      if (wide && price.trim() === '') {
        counter.absent++;
        continue;
      }
      yield { commodityHint: s.commodity, date, price, raw, file, lineNo: line.lineNo, origin, ...(wide ? { column: s.name } : {}) };
    }
  }
  if (layout === undefined) throw new SourceError(`${options.where}: no header line (empty input)`);
}
