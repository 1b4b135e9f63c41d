import test from 'ava';
import { PriceTick } from '../proto/gen/carbon/v1/price_tick.ts';
import { createRandom } from '../actors/ingest/sources/synthetic-source.ts';
import { PriceTickEncoder } from '../connectors/kafka/price-tick-encoder.ts';

test('encodes byte for byte like the generated encoder, defaults and negative times included', (t) => {
  const encoder = new PriceTickEncoder();
  const random = createRandom(1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const fixed: PriceTick[] = [
    { commodity: 'WTI', tsMs: Date.UTC(2020, 3, 20), price: -36.98, unit: 'USD/barrel', source: 'csv:wti-daily.csv' },
    { commodity: 'GOLD', tsMs: Date.UTC(1833, 0, 1), price: 18.93, unit: 'USD/troy oz', source: 'csv:gold-monthly.csv' },
    { commodity: '', tsMs: 0, price: 0, unit: '', source: '' },
    { commodity: 'X', tsMs: -1, price: -0, unit: '', source: 'é€😀' },
    { commodity: 'MAX', tsMs: Number.MAX_SAFE_INTEGER, price: Number.MIN_VALUE, unit: 'u'.repeat(300), source: 's' },
    { commodity: 'MIN', tsMs: Number.MIN_SAFE_INTEGER, price: 1e308, unit: 'u', source: '' },
  ];
  const generated: PriceTick[] = Array.from({ length: 2_000 }, () => ({
    commodity: pick(['WTI', 'BRENT', 'SYN_001', '']),
    tsMs: Math.round((random() - 0.3) * 2 ** (1 + Math.floor(random() * 52))),
    price: pick([0, (random() - 0.5) * 10 ** Math.floor(random() * 8)]),
    unit: pick(['', 'USD', 'USD/MMBtu']),
    source: pick(['', 'synthetic:seed=42', 'http:127.0.0.1:8080/p.json']),
  }));
  for (const tick of [...fixed, ...generated]) {
    const expected = Buffer.from(PriceTick.encode(tick).finish());
    t.deepEqual(encoder.encode(tick), expected, JSON.stringify(tick));
  }
});

test('rejects a time that int64 cannot carry exactly', (t) => {
  t.throws(() => new PriceTickEncoder().encode({ commodity: 'A', tsMs: 1.5, price: 1, unit: '', source: '' }), { instanceOf: RangeError });
});
