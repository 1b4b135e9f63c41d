/**
 * What every ingest source yields: one observation as the source gave it, before validation. Sources only read;
 * deciding whether a row is a tick is validateRow's job, so that every source rejects for the same reasons.
 */
export interface RawRow {
  /** Commodity named by the source (option, file name, column or field), before validation; undefined if none. */
  readonly commodityHint: string | undefined;
  /** Date text as read (`2020-04-20`, `1833-01`, an ISO time), or epoch milliseconds from sources that compute it. */
  readonly date: string | number;
  /** Price text as read, or a number from sources that compute it. */
  readonly price: string | number;
  /** The original bytes of the row (a CSV line, a JSON element), sent as is to the DLQ when the row is rejected. */
  readonly raw: string;
  /** Size of the original row, when known without `raw` (a line cut short, a generated row); else raw's size. */
  readonly rawSizeBytes?: number;
  /** The file or URL the row was read from, as given (a folder's file joined to it): with lineNo, where it is. */
  readonly file: string;
  /** 1-based line (CSV) or element (JSON) number in its file, for messages. */
  readonly lineNo: number;
  /** Where the row came from; becomes the tick's `source` (`csv:wti-daily.csv`, `synthetic:seed=42`). */
  readonly origin: string;
  /** Unit the source states for this row (a JSON `unit` field, the synthetic generator); else known defaults. */
  readonly unit?: string | undefined;
  /** For tabular sources: cells found on the line and cells the header announced. */
  readonly cells?: { readonly found: number; readonly expected: number };
  /** Media type of `raw` for the DLQ; default `text/csv`. */
  readonly rawType?: 'text/csv' | 'application/json';
  /** Extra context for rejection details, e.g. the column of a wide file. */
  readonly column?: string;
}

/** An ingest source: rows in source order, read lazily (huge inputs are streamed, never loaded whole). */
export interface RowSource extends AsyncIterable<RawRow> {
  /** For messages: `csv /path/file.csv`, `http GET https://...`, `synthetic seed=42`. */
  readonly description: string;
  /** Rows known in advance (synthetic), for a progress ETA; undefined when unknown. */
  readonly expectedRows: number | undefined;
  /** Cells that hold no observation (empty cells of wide files): counted in the summary, neither ticks nor errors. */
  absentCells(): number;
}

/** A source failed (could not be read): the run stops with this message, naming the source. */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  readonly code = 'INGEST_SOURCE_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
