import test from 'ava';
import { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import { decodeTick, type IncomingMessage } from './decode-tick.ts';

const good = { commodity: 'WTI', tsMs: 1_587_340_800_000, price: -36.98, unit: 'USD/barrel', source: 'test' };
const pb = (t: PriceTick) => Buffer.from(PriceTick.encode(t).finish());
const msg = (value: Buffer | null, contentType?: string, key: string | null = 'WTI'): IncomingMessage => ({
  key: key === null ? null : Buffer.from(key),
  value,
  contentType,
});

test('a protobuf tick decodes, a negative price included', (t) => {
  const r = decodeTick(msg(pb(good)), 1024);
  t.deepEqual(r, { ok: true, tick: good });
});

test('a JSON tick is accepted by its content-type header, in either field spelling', (t) => {
  const r1 = decodeTick(msg(Buffer.from(JSON.stringify(good)), 'application/json'), 1024);
  t.true(r1.ok);
  const r2 = decodeTick(msg(Buffer.from('{"commodity":"WTI","ts_ms":5,"price":1}'), 'application/json; charset=utf-8'), 1024);
  t.like(r2, { ok: true, tick: { tsMs: 5 } });
});

test('the epoch is a date like any other: a tick at tsMs 0 (gold, 1970-01) decodes, as protobuf and as JSON', (t) => {
  const epoch = { ...good, commodity: 'GOLD', tsMs: 0, price: 34.94 };
  t.like(decodeTick(msg(pb(epoch), undefined, 'GOLD'), 1024), { ok: true, tick: { tsMs: 0 } });
  t.like(decodeTick(msg(Buffer.from('{"commodity":"GOLD","tsMs":0,"price":34.94}'), 'application/json', 'GOLD'), 1024), { ok: true, tick: { tsMs: 0 } });
});

const cases: Array<[string, IncomingMessage, string]> = [
  ['an empty value', msg(null), 'missing_field'],
  ['an oversized value', msg(Buffer.alloc(2000, 1)), 'oversized'],
  ['an unknown content type', msg(pb(good), 'text/csv'), 'unknown_content_type'],
  ['bytes that are not protobuf', msg(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])), 'bad_protobuf'],
  ['JSON that does not parse', msg(Buffer.from('{"commodity":'), 'application/json'), 'bad_json'],
  ['a JSON array', msg(Buffer.from('[1]'), 'application/json'), 'bad_json'],
  ['JSON without a price', msg(Buffer.from('{"commodity":"WTI","tsMs":1}'), 'application/json'), 'missing_field'],
  ['a JSON price that is a string', msg(Buffer.from('{"commodity":"WTI","tsMs":1,"price":"NaN"}'), 'application/json'), 'non_finite'],
  ['a NaN price', msg(pb({ ...good, price: Number.NaN })), 'non_finite'],
  ['an infinite price', msg(pb({ ...good, price: Number.POSITIVE_INFINITY })), 'non_finite'],
  ['JSON without a timestamp', msg(Buffer.from('{"commodity":"WTI","price":1}'), 'application/json'), 'missing_field'],
  ['a JSON timestamp that is not an integer', msg(Buffer.from('{"commodity":"WTI","tsMs":"soon","price":1}'), 'application/json'), 'missing_field'],
  ['no commodity', msg(pb({ ...good, commodity: '' }), undefined, null), 'missing_field'],
  ['a lower-case commodity', msg(pb({ ...good, commodity: 'wti' }), undefined, 'wti'), 'malformed_commodity'],
  ['a key that is not the commodity', msg(pb(good), undefined, 'BRENT'), 'key_mismatch'],
  ['no key (it would land on any partition, under another owner)', msg(pb(good), undefined, null), 'key_mismatch'],
  ['a price beyond what the features keep finite', msg(pb({ ...good, price: 1e300 })), 'out_of_range'],
  ['a time beyond what a Date holds', msg(pb({ ...good, tsMs: 8.64e15 + 1 })), 'out_of_range'],
  ['a time before what Postgres holds', msg(pb({ ...good, tsMs: Date.UTC(-4713, 10, 30) })), 'out_of_range'],
];
for (const [what, m, reason] of cases) {
  test(`${what} is rejected as ${reason}`, (t) => {
    const r = decodeTick(m, 1024);
    t.like(r, { ok: false, reason });
  });
}
