import test from 'ava';
import { parsePriceCsv } from './price-csv.ts';

test('daily and monthly dates become UTC midnight ticks; empty prices are skipped and counted', (t) => {
  const daily = parsePriceCsv('Date,Price\n2020-04-17,18.27\n2020-04-20,-36.98\n2020-04-21,\n2020-04-22,8.91\n', 'wti.csv');
  t.deepEqual(daily.ticks, [
    { tsMs: Date.UTC(2020, 3, 17), price: 18.27 },
    { tsMs: Date.UTC(2020, 3, 20), price: -36.98 },
    { tsMs: Date.UTC(2020, 3, 22), price: 8.91 },
  ]);
  t.is(daily.skippedEmpty, 1);
  const monthly = parsePriceCsv('Date,Price\r\n1833-01,18.930\r\n1833-02,18.930\r\n', 'gold.csv');
  t.deepEqual(monthly.ticks.map((p) => p.tsMs), [Date.UTC(1833, 0, 1), Date.UTC(1833, 1, 1)]);
});

test('unreadable rows are refused, naming the file and line', (t) => {
  t.throws(() => parsePriceCsv('Date,Value\n', 'x.csv'), { message: /x\.csv: expected the header/ });
  t.throws(() => parsePriceCsv('Date,Price\n2020-01-01,1\n01/02/2020,2\n', 'x.csv'), { message: /x\.csv line 3/ });
  t.throws(() => parsePriceCsv('Date,Price\n2020-01-01,abc\n', 'x.csv'), { message: /line 2: price "abc"/ });
  t.throws(() => parsePriceCsv('Date,Price\n2020-01-02,1\n2020-01-01,2\n', 'x.csv'), { message: /not after/ });
});
