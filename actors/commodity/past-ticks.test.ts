import test from 'ava';
import type { PricePoint } from '../features/window.ts';
import { catchUp, judgePastTick, StoredPrices } from './past-ticks.ts';

const latest = Date.UTC(2024, 5, 1);

test('a past tick is a duplicate when its price is the stored one, a conflict when another, out of order when none is stored', (t) => {
  const tick = { tsMs: Date.UTC(2001, 0, 2), price: 27.21 };
  t.deepEqual(judgePastTick(tick, 27.21, latest), { kind: 'duplicate' });
  const conflict = judgePastTick(tick, 27.2, latest);
  t.is(conflict.kind === 'rejected' ? conflict.reason : conflict.kind, 'conflicting_price');
  t.regex(conflict.kind === 'rejected' ? conflict.detail : '', /2001-01-02T00:00:00.000Z is stored with price 27.2; this one has 27.21/);
  const late = judgePastTick(tick, undefined, latest);
  t.is(late.kind === 'rejected' ? late.reason : late.kind, 'out_of_order');
  t.regex(late.kind === 'rejected' ? late.detail : '', /older than the latest \(2024-06-01T00:00:00.000Z\) and no tick is stored at its time/);
  t.deepEqual(judgePastTick({ tsMs: 0, price: 0 }, -0, latest), { kind: 'duplicate' }, 'zero is zero whatever its sign');
});

/** A history of ticks every day from 2000-01-01, answering loadFrom like the SQL store; counts the reads. */
function dailyHistory(days: number): { history: { loadFrom(c: string, from: number, limit: number): Promise<PricePoint[]> }; reads: () => number } {
  const ticks = Array.from({ length: days }, (_, i) => ({ tsMs: Date.UTC(2000, 0, 1 + i), price: 10 + i }));
  let reads = 0;
  return {
    history: {
      async loadFrom(_c, from, limit) {
        reads++;
        return ticks.filter((p) => p.tsMs >= from).slice(0, limit);
      },
    },
    reads: () => reads,
  };
}

test('a replay in time order is answered a page of stored prices at a time', async (t) => {
  const { history, reads } = dailyHistory(2_500);
  const stored = new StoredPrices(history, 'WTI', 1_000);
  for (let i = 0; i < 2_500; i++) t.is(await stored.priceAt(Date.UTC(2000, 0, 1 + i)), 10 + i);
  t.true(reads() <= 4, `about one read per 1,000 ticks (${reads()})`);
  t.is(await stored.priceAt(Date.UTC(2000, 0, 1, 12)), undefined, 'a time between two stored ticks has none');
  t.is(await stored.priceAt(Date.UTC(1999, 0, 1)), undefined, 'nor one before the first');
});

test('a time past the last stored tick of a page is read again, not taken as absent', async (t) => {
  const ticks: PricePoint[] = [{ tsMs: 1_000, price: 1 }];
  const history = { loadFrom: async (_c: string, from: number, limit: number) => ticks.filter((p) => p.tsMs >= from).slice(0, limit) };
  const stored = new StoredPrices(history, 'WTI', 10);
  t.is(await stored.priceAt(1_000), 1);
  ticks.push({ tsMs: 2_000, price: 2 });
  t.is(await stored.priceAt(2_000), 2, 'stored after the page was read');
});

test('what follows a stored time is known from the page, and read again past its end', async (t) => {
  const { history, reads } = dailyHistory(10);
  const stored = new StoredPrices(history, 'WTI', 4);
  t.deepEqual(await stored.around(Date.UTC(2000, 0, 1)), { price: 10, nextTsMs: Date.UTC(2000, 0, 2) });
  t.deepEqual(await stored.around(Date.UTC(2000, 0, 1, 6)), { price: undefined, nextTsMs: Date.UTC(2000, 0, 2) });
  t.is(reads(), 1);
  t.deepEqual(await stored.around(Date.UTC(2000, 0, 4)), { price: 13, nextTsMs: Date.UTC(2000, 0, 5) }, 'the last row of a page: read again');
  t.deepEqual(await stored.around(Date.UTC(2000, 0, 10)), { price: 19, nextTsMs: undefined }, 'the newest stored tick');
});

test('catching up with stored ticks: the next stored one is applied, one before it is late, one after it needs the window rebuilt', (t) => {
  t.is(catchUp(20, 20), 'apply', 'the next stored tick: a redelivery, recomputed in order');
  t.is(catchUp(25, undefined), 'apply', 'nothing stored after the window: caught up');
  t.is(catchUp(15, 20), 'late', 'between the window and the next stored tick');
  t.is(catchUp(30, 20), 'rebuild', 'past a stored tick the window does not hold');
});
