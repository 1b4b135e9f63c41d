/**
 * Row validation: a pure decision per raw row, tick or rejection with a stable reason code. The only state is
 * the duplicate tracker of the run, passed in the context. Negative prices are data (WTI, 2020-04-20).
 */
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import { isValidCommodityId, normalizeGivenId } from './commodity-id.ts';
import type { RawRow } from './raw-row.ts';

/** Why a row is not a tick; the value of the DLQ's `x-dlq-reason` header. Stable: dashboards count by it. */
export type RejectReason =
  | 'unparseable_date'
  | 'empty_price'
  | 'non_finite_price'
  | 'future_timestamp'
  | 'malformed_commodity'
  | 'duplicate'
  | 'oversized_row'
  /** A table line whose cell count differs from its header's: which value belongs to which column is unknown. */
  | 'column_count_mismatch';

export const DEFAULT_MAX_ROW_BYTES = 4 * 1024;

/** What each reason means, for `carbon ingest --help` and the summary; one entry per reason, so none goes unlisted. */
export const rejectReasonHelp: Readonly<Record<RejectReason, string>> = {
  unparseable_date: 'the date is not a real day as YYYY-MM-DD or YYYY-MM (UTC), nor an ISO time with a zone',
  empty_price: 'the price is empty',
  non_finite_price: 'the price is not a decimal number (NaN, Infinity, 12,5 and 0x10 are not)',
  future_timestamp: 'the time is more than a day ahead of the clock',
  malformed_commodity: 'no commodity id, or one that is not upper snake case (^[A-Z][A-Z0-9_]{0,31}$)',
  duplicate: 'the commodity already had a row at that time in this run',
  oversized_row: `the row is longer than ${DEFAULT_MAX_ROW_BYTES / 1024} KiB`,
  column_count_mismatch: 'the line has another number of cells than its header: which value is in which column is unknown',
};

export const rejectReasons = Object.keys(rejectReasonHelp) as readonly RejectReason[];

export type RowVerdict =
  | { readonly ok: true; readonly tick: PriceTick }
  /** A valid-looking row outside the --from/--to range: counted as filtered, not rejected. */
  | { readonly ok: false; readonly filtered: true }
  | {
      readonly ok: false;
      readonly filtered: false;
      readonly reason: RejectReason;
      readonly detail: string;
      /** The offending value as read (the date, the price, the commodity, the size or the cell count), cut to 64 characters. */
      readonly value: string;
      readonly commodity: string | undefined;
    };

/**
 * How far ahead of now a timestamp may be (time zones ahead of UTC publish "tomorrow" early). The message time
 * is the tick time, so the prices topic must accept it: Kafka 4 refuses record times more than
 * `message.timestamp.after.max.ms` (1 h by default) ahead of the broker's clock.
 */
export const DEFAULT_MAX_FUTURE_MS = 24 * 3_600_000;

/** Units of the commodities whose unit is known when a source does not say it. */
export const defaultUnits: Readonly<Record<string, string>> = {
  WTI: 'USD/barrel',
  BRENT: 'USD/barrel',
  HENRY_HUB: 'USD/MMBtu',
  GOLD: 'USD/troy oz',
};

export interface ValidationContext {
  /** Wall clock of the run, injected (tests use a fixed one). */
  readonly nowMs: number;
  /**
   * The clock itself, for runs that outlast maxFutureMs (a live feed): a time ahead of nowMs by more than that is
   * checked again against it before it is refused. Undefined: nowMs only.
   */
  readonly clock?: (() => number) | undefined;
  readonly maxFutureMs: number;
  readonly maxRowBytes: number;
  /** Unit for every tick (--unit); else the row's own unit, else defaultUnits, else empty. */
  readonly unit: string | undefined;
  /** Inclusive range of accepted timestamps (--from / --to). */
  readonly fromMs: number | undefined;
  readonly toMs: number | undefined;
  /** Timestamps already accepted in this run, per commodity. */
  readonly seen: DuplicateTracker;
}

export function validationContext(options: Partial<Omit<ValidationContext, 'seen'>> & { nowMs: number }): ValidationContext {
  return {
    maxFutureMs: DEFAULT_MAX_FUTURE_MS,
    maxRowBytes: DEFAULT_MAX_ROW_BYTES,
    unit: undefined,
    fromMs: undefined,
    toMs: undefined,
    ...options,
    seen: new DuplicateTracker(),
  };
}

/**
 * Timestamps seen per commodity. Sources are mostly in time order, so each commodity keeps a strictly increasing
 * array (append, binary search) and only out-of-order timestamps go to a set: cheap at a million ticks.
 */
export class DuplicateTracker {
  private readonly ordered = new Map<string, number[]>();
  private readonly outOfOrder = new Map<string, Set<number>>();

  /** Records the timestamp; false when this commodity already had it. */
  add(commodity: string, tsMs: number): boolean {
    let list = this.ordered.get(commodity);
    if (list === undefined) {
      this.ordered.set(commodity, [tsMs]);
      return true;
    }
    const last = list[list.length - 1] as number;
    if (tsMs > last) {
      list.push(tsMs);
      return true;
    }
    if (tsMs === last || binarySearch(list, tsMs)) return false;
    let extra = this.outOfOrder.get(commodity);
    if (extra === undefined) {
      extra = new Set();
      this.outOfOrder.set(commodity, extra);
    }
    if (extra.has(tsMs)) return false;
    extra.add(tsMs);
    return true;
  }
}

function binarySearch(sorted: readonly number[], value: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid] as number;
    if (v === value) return true;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** The range of a JavaScript Date; beyond it no time can be printed or compared meaningfully. */
const MAX_DATE_MS = 8.64e15;
const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const monthPattern = /^(\d{4})-(\d{2})$/;
/** A full time needs an explicit zone: a zone-less time would depend on the machine running the ingest. */
const instantPattern = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Epoch ms of a date: `YYYY-MM-DD` is 00:00 UTC of the day, `YYYY-MM` the first of the month 00:00 UTC, an ISO
 * time with a zone is that instant, a finite number is already epoch ms. Undefined when not a real date.
 */
export function parseDateMs(date: string | number): number | undefined {
  if (typeof date === 'number') return Number.isFinite(date) && Math.abs(date) <= MAX_DATE_MS ? Math.round(date) : undefined;
  const text = date.trim();
  let m = dayPattern.exec(text);
  if (m) return utcDay(Number(m[1]), Number(m[2]), Number(m[3]));
  m = monthPattern.exec(text);
  if (m) return utcDay(Number(m[1]), Number(m[2]), 1);
  if (instantPattern.test(text)) {
    const ms = Date.parse(text.replace(' ', 'T'));
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

function utcDay(year: number, month: number, day: number): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const d = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear puts them back.
  d.setUTCFullYear(year);
  // 2023-02-30 rolls over to March: not a real day.
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return d.getTime();
}

const decimalPattern = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function rawSize(row: RawRow, limitBytes: number): number {
  if (row.rawSizeBytes !== undefined) return row.rawSizeBytes;
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: only long ones need counting.
  return row.raw.length * 3 <= limitBytes ? row.raw.length : Buffer.byteLength(row.raw);
}

const VALUE_CHARS = 64;

function reject(reason: RejectReason, detail: string, value: string | number, commodity: string | undefined): RowVerdict {
  return { ok: false, filtered: false, reason, detail, value: String(value).slice(0, VALUE_CHARS), commodity };
}

const filtered: RowVerdict = { ok: false, filtered: true };
const unitCache = new Map<string, string>();

function unitOf(commodity: string, row: RawRow, ctx: ValidationContext): string {
  if (ctx.unit !== undefined) return ctx.unit;
  if (row.unit !== undefined && row.unit !== '') return row.unit;
  let unit = unitCache.get(commodity);
  if (unit === undefined) {
    unit = defaultUnits[commodity] ?? '';
    unitCache.set(commodity, unit);
  }
  return unit;
}

/** Hint -> normalized id, or undefined when malformed: sources repeat a handful of names a million times. */
const idCache = new Map<string, string | undefined>();

function commodityOf(hint: string): string | undefined {
  let id = idCache.get(hint);
  if (id === undefined && !idCache.has(hint)) {
    const normalized = normalizeGivenId(hint);
    id = isValidCommodityId(normalized) ? normalized : undefined;
    if (idCache.size < 10_000) idCache.set(hint, id);
  }
  return id;
}

/**
 * Decides one row. Checks run from cheapest-to-trust to most stateful: size, cell count, commodity, date, range filter,
 * price, future, duplicate (last, so that only rows that would be published claim their timestamp).
 */
export function validateRow(row: RawRow, ctx: ValidationContext): RowVerdict {
  const sizeBytes = rawSize(row, ctx.maxRowBytes);
  const hint = row.commodityHint;
  if (sizeBytes > ctx.maxRowBytes) {
    return reject('oversized_row', `row of ${sizeBytes} bytes exceeds the limit of ${ctx.maxRowBytes}`, `${sizeBytes} bytes`, undefined);
  }
  const cells = row.cells;
  if (cells !== undefined && cells.found !== cells.expected) {
    return reject('column_count_mismatch', `line has ${cells.found} cells, the header ${cells.expected}`, `${cells.found} cells`, undefined);
  }
  if (hint === undefined || hint.trim() === '') return reject('malformed_commodity', 'no commodity id', hint ?? '', undefined);
  const commodity = commodityOf(hint);
  if (commodity === undefined) {
    return reject('malformed_commodity', `commodity ${JSON.stringify(hint.slice(0, VALUE_CHARS))} does not match ^[A-Z][A-Z0-9_]{0,31}$`, hint, undefined);
  }
  const tsMs = parseDateMs(row.date);
  if (tsMs === undefined) {
    return reject('unparseable_date', `date ${JSON.stringify(String(row.date).slice(0, VALUE_CHARS))} is not YYYY-MM-DD, YYYY-MM or an ISO time with a zone`, row.date, commodity);
  }
  if ((ctx.fromMs !== undefined && tsMs < ctx.fromMs) || (ctx.toMs !== undefined && tsMs > ctx.toMs)) return filtered;
  let price: number;
  if (typeof row.price === 'number') {
    price = row.price;
  } else {
    const text = row.price.trim();
    if (text === '') return reject('empty_price', 'price is empty', row.price, commodity);
    price = decimalPattern.test(text) ? Number(text) : Number.NaN;
  }
  if (!Number.isFinite(price)) {
    return reject('non_finite_price', `price ${JSON.stringify(String(row.price).slice(0, VALUE_CHARS))} is not a finite number`, row.price, commodity);
  }
  if (tsMs - ctx.nowMs > ctx.maxFutureMs && (ctx.clock === undefined || tsMs - ctx.clock() > ctx.maxFutureMs)) {
    return reject('future_timestamp', `timestamp ${new Date(tsMs).toISOString()} is more than ${ctx.maxFutureMs} ms ahead of now`, row.date, commodity);
  }
  if (!ctx.seen.add(commodity, tsMs)) {
    return reject('duplicate', `${commodity} at ${new Date(tsMs).toISOString()} was already read in this run`, row.date, commodity);
  }
  // -0 is 0: protobuf leaves a zero double off the wire, so a -0 would be read back as +0, another number to Object.is.
  return { ok: true, tick: { commodity, tsMs, price: price === 0 ? 0 : price, unit: unitOf(commodity, row, ctx), source: row.origin } };
}
