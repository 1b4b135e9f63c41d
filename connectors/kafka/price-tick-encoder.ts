/**
 * PriceTick to protobuf bytes, byte-identical to the generated `PriceTick.encode(tick).finish()` and about ten
 * times cheaper: it is on the ingest hot path (a million ticks a run). Only the time and the price change from
 * tick to tick, so the encoded commodity field and the encoded unit+source fields are cached and copied.
 * Field order and proto3 defaults (empty or zero fields left out) follow the generated encoder.
 */
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';

const TAG_COMMODITY = 0x0a; // field 1, length-delimited
const TAG_TS = 0x10; // field 2, varint
const TAG_PRICE = 0x19; // field 3, 64-bit
const TAG_UNIT = 0x22; // field 4, length-delimited
const TAG_SOURCE = 0x2a; // field 5, length-delimited

const TWO_32 = 4_294_967_296;

function varintSize(n: number): number {
  // Epoch milliseconds of our era take 6 bytes: answer the common case without a loop.
  if (n >= 2 ** 35 && n < 2 ** 42) return 6;
  let size = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function stringField(tag: number, value: string): Buffer {
  if (value === '') return Buffer.alloc(0);
  const bytes = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(1 + varintSize(bytes.length) + bytes.length);
  out[0] = tag;
  let pos = 1;
  let n = bytes.length;
  while (n > 0x7f) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  bytes.copy(out, pos);
  return out;
}

/** Bytes of an int64 varint of an integral number (negative ones take 10 bytes, as two's complement). */
function int64VarintSize(value: number): number {
  if (value < 0) return 10;
  return varintSize(value);
}

function writeInt64Varint(buf: Buffer, pos: number, value: number): number {
  let hi = Math.floor(value / TWO_32);
  let lo = (value - hi * TWO_32) >>> 0;
  hi >>>= 0;
  while (hi !== 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

export class PriceTickEncoder {
  private readonly heads = new Map<string, Buffer>();
  private readonly tails = new Map<string, Map<string, Buffer>>();

  private head(commodity: string): Buffer {
    let b = this.heads.get(commodity);
    if (b === undefined) {
      b = stringField(TAG_COMMODITY, commodity);
      this.heads.set(commodity, b);
    }
    return b;
  }

  private tail(unit: string, source: string): Buffer {
    let bySource = this.tails.get(unit);
    if (bySource === undefined) {
      bySource = new Map();
      this.tails.set(unit, bySource);
    }
    let b = bySource.get(source);
    if (b === undefined) {
      b = Buffer.concat([stringField(TAG_UNIT, unit), stringField(TAG_SOURCE, source)]);
      bySource.set(source, b);
    }
    return b;
  }

  encode(tick: PriceTick): Buffer {
    const head = this.head(tick.commodity);
    const tail = this.tail(tick.unit, tick.source);
    const ts = tick.tsMs;
    const price = tick.price;
    if (!Number.isSafeInteger(ts)) throw new RangeError(`PriceTick.tsMs must be a safe integer, got ${ts}`);
    const size = head.length + (ts !== 0 ? 1 + int64VarintSize(ts) : 0) + (price !== 0 ? 9 : 0) + tail.length;
    // allocUnsafe takes small buffers from Node's shared pool: no per-tick allocation of a backing store.
    // TypedArray.set rather than Buffer.copy: cheaper for a few bytes.
    const out = Buffer.allocUnsafe(size);
    out.set(head, 0);
    let pos = head.length;
    if (ts !== 0) {
      out[pos++] = TAG_TS;
      pos = writeInt64Varint(out, pos, ts);
    }
    if (price !== 0) {
      out[pos++] = TAG_PRICE;
      pos = out.writeDoubleLE(price, pos);
    }
    out.set(tail, pos);
    return out;
  }
}
