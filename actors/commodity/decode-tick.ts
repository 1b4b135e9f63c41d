/**
 * The gate in front of the actors: a message value from any producer becomes either a valid PriceTick or a
 * rejection with a stable reason for the DLQ. Nothing that fails here ever reaches an actor.
 */
import { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import { MAX_ABS_PRICE } from '../features/window.ts';

export const tickRejectReasons = [
  'oversized',
  'unknown_content_type',
  'bad_protobuf',
  'bad_json',
  'missing_field',
  'non_finite',
  'out_of_range',
  'malformed_commodity',
  'key_mismatch',
] as const;
export type RejectReason = (typeof tickRejectReasons)[number];

/**
 * The times a tick may have: those both a JavaScript Date (up to +-8.64e15 ms) and Postgres hold. Postgres's
 * timestamps begin on 4714-11-24 BC, and the stored month of a tick (analytics.utc_month) on the first whole month,
 * 4714-12-01 BC. A time outside cannot be shown, or stored: a row Postgres refuses would hold up its whole batch of
 * stored outputs for ever.
 */
export const MIN_TS_MS = Date.UTC(-4713, 11, 1);
export const MAX_TS_MS = 8.64e15;

export type DecodeResult =
  | { readonly ok: true; readonly tick: PriceTick }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };

export const COMMODITY_ID = /^[A-Z][A-Z0-9_]{0,31}$/;

export interface IncomingMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The `content-type` header; absent means protobuf, the platform's own encoding. */
  readonly contentType: string | undefined;
}

const reject = (reason: RejectReason, detail: string): DecodeResult => ({ ok: false, reason, detail });

function parse(msg: IncomingMessage & { value: Buffer }): DecodeResult | PriceTick {
  const type = (msg.contentType ?? 'application/x-protobuf').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') {
    try {
      return PriceTick.decode(msg.value);
    } catch (err) {
      return reject('bad_protobuf', err instanceof Error ? err.message : String(err));
    }
  }
  if (type === 'application/json') {
    let json: unknown;
    try {
      json = JSON.parse(msg.value.toString('utf8'));
    } catch (err) {
      return reject('bad_json', err instanceof Error ? err.message : String(err));
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return reject('bad_json', 'expected a JSON object');
    const o = json as Record<string, unknown>;
    for (const [field, alt] of [['commodity', 'commodity'], ['tsMs', 'ts_ms'], ['price', 'price']] as const) {
      if (o[field] === undefined && o[alt] === undefined) return reject('missing_field', `${field} is missing`);
    }
    if (typeof o.price !== 'number') return reject('non_finite', `price must be a JSON number, got ${JSON.stringify(o.price)}`);
    return PriceTick.fromJSON(o);
  }
  return reject('unknown_content_type', `content-type ${JSON.stringify(msg.contentType)} is neither application/x-protobuf nor application/json`);
}

export function decodeTick(msg: IncomingMessage, maxBytes: number): DecodeResult {
  if (!msg.value || msg.value.length === 0) return reject('missing_field', 'empty message value');
  if (msg.value.length > maxBytes) return reject('oversized', `value of ${msg.value.length} bytes exceeds ${maxBytes}`);
  const parsed = parse(msg as IncomingMessage & { value: Buffer });
  if ('ok' in parsed) return parsed;
  const tick = parsed;
  if (tick.commodity === '') return reject('missing_field', 'commodity is missing');
  if (!COMMODITY_ID.test(tick.commodity)) return reject('malformed_commodity', `commodity ${JSON.stringify(tick.commodity.slice(0, 40))} does not match ${COMMODITY_ID}`);
  // 0 is 1970-01-01, a date like any other (gold's 1970-01); a JSON tick without one was refused above.
  if (!Number.isSafeInteger(tick.tsMs)) return reject('missing_field', `tsMs must be an integer (UTC epoch milliseconds), got ${tick.tsMs}`);
  if (!(tick.tsMs >= MIN_TS_MS && tick.tsMs <= MAX_TS_MS)) {
    return reject('out_of_range', `tsMs ${tick.tsMs} is outside ${MIN_TS_MS}..${MAX_TS_MS} (4714-12-01 BC to 275760-09-13, the times both a Date and Postgres hold)`);
  }
  if (!Number.isFinite(tick.price)) return reject('non_finite', `price is ${tick.price}`);
  // The features' sums and differences of prices stay finite only within this bound (window.ts).
  if (!(Math.abs(tick.price) <= MAX_ABS_PRICE)) return reject('out_of_range', `price ${tick.price} is beyond +-${MAX_ABS_PRICE}`);
  // The key decides the partition and so the owner: a keyless tick lands on any partition, a mismatched one on
  // another commodity's, and either would feed the commodity to an actor that does not own it.
  if (msg.key === null || msg.key.length === 0) return reject('key_mismatch', `no key: the key must be the commodity (${tick.commodity}), it decides the partition`);
  if (msg.key.toString('utf8') !== tick.commodity) {
    return reject('key_mismatch', `key ${JSON.stringify(msg.key.toString('utf8').slice(0, 40))} but commodity ${tick.commodity}`);
  }
  return { ok: true, tick };
}
