import test from 'ava';
import { commodityCost, storageGbMonths, tenantCost } from './price-sheet.ts';

const H = 3_600_000;
const sheet = { per1000Calls: 0.05, perCpuSecond: 0.0001, perGbMonth: 0.1 };

test('a tenant pays for its calls and their CPU time', (t) => {
  t.is(tenantCost(sheet, 20_000, 30), 20 * 0.05 + 30 * 0.0001);
  t.is(tenantCost(sheet, 0, 0), 0);
});

test('storage held: each hour of the window holds everything written up to it, a 730th of a month per hour', (t) => {
  // 1 GB written in hour 0, 2 GB in hour 2; the window is hours 1..3 (three hours).
  const written = [{ hourMs: 0, bytes: 1e9 }, { hourMs: 2 * H, bytes: 2e9 }];
  // hour 1 holds 1 GB, hour 2 holds 3 GB, hour 3 holds 3 GB: 7 GB-hours.
  t.is(storageGbMonths(written, H, 4 * H), 7 / 730);
  t.is(storageGbMonths(written, 0, H), 1 / 730, 'the hour it was written in holds it');
  t.is(storageGbMonths([], 0, 10 * H), 0);
  t.is(storageGbMonths(written, 90 * 60_000, 2 * H), 1 / 730, 'a window starting inside an hour counts that hour');
});

test('a commodity pays for its CPU time and the storage it holds', (t) => {
  t.is(commodityCost(sheet, 100, 2), 100 * 0.0001 + 2 * 0.1);
});
