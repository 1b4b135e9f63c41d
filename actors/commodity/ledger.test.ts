import test from 'ava';
import { CommodityLedger } from './ledger.ts';

test('no history until seeded: a cold ledger knows nothing of the stores', (t) => {
  const l = new CommodityLedger('WTI', 3);
  l.processed({ tsMs: 10, price: 1, tickCount: 1 });
  t.is(l.recent(), undefined);
});

test('seeded from the stores, with tick counts running back from the newest; processed ticks join it, and the last `keep` are kept', (t) => {
  const l = new CommodityLedger('WTI', 3);
  l.seedHistory([{ tsMs: 5, price: 0.5 }, { tsMs: 10, price: 1 }], 2);
  t.deepEqual(l.recent(), [{ tsMs: 5, price: 0.5, tickCount: 1 }, { tsMs: 10, price: 1, tickCount: 2 }]);
  for (const [ts, n] of [[20, 3], [30, 4], [40, 5]] as const) l.processed({ tsMs: ts, price: ts / 10, tickCount: n });
  t.deepEqual(l.recent()?.map((p) => [p.tsMs, p.tickCount]), [[20, 3], [30, 4], [40, 5]]);
});

test('seeding keeps only the last `keep` stored ticks, and an empty store seeds an empty history', (t) => {
  const l = new CommodityLedger('WTI', 2);
  l.seedHistory([{ tsMs: 1, price: 1 }, { tsMs: 2, price: 2 }, { tsMs: 3, price: 3 }], 30);
  t.deepEqual(l.recent(), [{ tsMs: 2, price: 2, tickCount: 29 }, { tsMs: 3, price: 3, tickCount: 30 }]);
  const empty = new CommodityLedger('WTI', 2);
  empty.seedHistory([], 0);
  t.deepEqual(empty.recent(), []);
});

test('a long run is trimmed now and then but always shows the last `keep`', (t) => {
  const l = new CommodityLedger('WTI', 4);
  l.seedHistory([], 0);
  for (let i = 1; i <= 1_000; i++) l.processed({ tsMs: i, price: i, tickCount: i });
  t.deepEqual(l.recent()?.map((p) => p.tsMs), [997, 998, 999, 1_000]);
});
