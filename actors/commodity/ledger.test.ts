import test from 'ava';
import { CommodityLedger } from './ledger.ts';

const tick = (tsMs: number) => ({ commodity: 'WTI', tsMs, price: tsMs / 10, unit: '', source: '' });

function process(ledger: CommodityLedger, tsMs: number, tickCount: number): void {
  ledger.append({ seq: tsMs, tick: tick(tsMs), fetchedAtMs: 0, crashes: 0 });
  ledger.shift();
  ledger.processedAwaitingDurability({ tsMs, price: tsMs / 10, tickCount });
}

test('pending ticks come out in order; processed ones wait for durability in order', (t) => {
  const l = new CommodityLedger('WTI', 3);
  l.append({ seq: 1, tick: tick(10), fetchedAtMs: 0, crashes: 0 });
  l.append({ seq: 2, tick: tick(20), fetchedAtMs: 0, crashes: 0 });
  t.is(l.head()?.seq, 1);
  t.is(l.shift().seq, 1);
  t.is(l.pendingCount(), 1);
  l.processedAwaitingDurability({ tsMs: 10, price: 1, tickCount: 1 });
  t.deepEqual(l.undurable(), [{ tsMs: 10, price: 1, tickCount: 1 }]);
  l.durable();
  t.deepEqual(l.undurable(), []);
  t.is(l.inFlightCount(), 1);
});

test('no durable history until seeded; once seeded, durable ticks join it and the last `keep` are kept', (t) => {
  const l = new CommodityLedger('WTI', 3);
  process(l, 10, 1);
  l.durable();
  t.is(l.durableHistory(), undefined, 'a cold ledger knows nothing of the stores');
  l.seedHistory([{ tsMs: 5, price: 0.5 }, { tsMs: 10, price: 1 }], 2);
  t.deepEqual(l.durableHistory(), [{ tsMs: 5, price: 0.5, tickCount: 1 }, { tsMs: 10, price: 1, tickCount: 2 }], 'counts run back from the newest');
  for (const [ts, n] of [[20, 3], [30, 4], [40, 5]] as const) process(l, ts, n);
  l.durable();
  l.durable();
  t.deepEqual(l.durableHistory()?.map((p) => p.tsMs), [10, 20, 30]);
  t.deepEqual(l.undurable().map((p) => p.tsMs), [40]);
});

test('seeding leaves out the ticks still awaiting durability: they join when they become durable, once', (t) => {
  const l = new CommodityLedger('WTI', 10);
  process(l, 10, 1);
  process(l, 20, 2);
  l.seedHistory([{ tsMs: 10, price: 1 }, { tsMs: 20, price: 2 }], 2);
  t.deepEqual(l.durableHistory(), [], 'both are still in flight');
  l.durable();
  l.durable();
  t.deepEqual(l.durableHistory()?.map((p) => [p.tsMs, p.tickCount]), [[10, 1], [20, 2]]);
});
