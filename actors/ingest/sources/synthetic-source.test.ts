import test from 'ava';
import type { PriceTick } from '../../../proto/gen/carbon/v1/price_tick.ts';
import { validateRow, validationContext } from '../validate.ts';
import { SyntheticSource, syntheticTicks, type SyntheticOptions } from './synthetic-source.ts';

const base: SyntheticOptions = { seed: 42, commodities: 5, ticks: 5_000, startMs: Date.UTC(2024, 0, 1), intervalMs: 60_000 };

test('the same seed gives the same ticks; another seed gives other prices', (t) => {
  const a = [...syntheticTicks(base)];
  t.deepEqual([...syntheticTicks(base)], a);
  const b = [...syntheticTicks({ ...base, seed: 43 })];
  t.is(b.length, a.length);
  t.notDeepEqual(b.map((x) => x.price), a.map((x) => x.price));
});

test('exactly the requested ticks, named SYN_001.., on the step grid, in time order, with gaps', (t) => {
  const ticks = [...syntheticTicks(base)];
  t.is(ticks.length, base.ticks);
  t.deepEqual([...new Set(ticks.map((x) => x.commodity))].sort(), ['SYN_001', 'SYN_002', 'SYN_003', 'SYN_004', 'SYN_005']);
  let gaps = 0;
  const last = new Map<string, number>();
  for (let i = 0; i < ticks.length; i++) {
    const tick = ticks[i] as PriceTick;
    t.is((tick.tsMs - base.startMs) % base.intervalMs, 0);
    if (i > 0) t.true(tick.tsMs >= (ticks[i - 1] as PriceTick).tsMs);
    const previous = last.get(tick.commodity);
    if (previous !== undefined) {
      t.true(tick.tsMs > previous);
      gaps += (tick.tsMs - previous) / base.intervalMs - 1;
    }
    last.set(tick.commodity, tick.tsMs);
    t.true(Number.isFinite(tick.price) && tick.price > 0);
    t.is(tick.unit, 'USD');
    t.is(tick.source, 'synthetic:seed=42');
  }
  t.true(gaps > 0);
  const noGaps = [...syntheticTicks({ ...base, gapProbability: 0 })];
  t.is(noGaps.filter((x) => x.commodity === 'SYN_001').length, base.ticks / base.commodities);
});

test('volatility regimes make returns fat-tailed (kurtosis well above a normal\'s 3)', (t) => {
  const prices = [...syntheticTicks({ ...base, commodities: 1, ticks: 50_000, gapProbability: 0 })].map((x) => x.price);
  const returns = prices.slice(1).map((p, i) => Math.log(p / (prices[i] as number)));
  const mean = returns.reduce((s, r) => s + r, 0) / returns.length;
  const m2 = returns.reduce((s, r) => s + (r - mean) ** 2, 0) / returns.length;
  const m4 = returns.reduce((s, r) => s + (r - mean) ** 4, 0) / returns.length;
  t.true(m4 / (m2 * m2) > 4, `kurtosis ${m4 / (m2 * m2)}`);
});

test('the source yields the generator\'s ticks as raw rows that validate back to the same ticks', async (t) => {
  const expected = [...syntheticTicks(base)];
  const ctx = validationContext({ nowMs: Date.UTC(2030, 0, 1) });
  const got: PriceTick[] = [];
  for await (const row of new SyntheticSource({ ...base, ratePerS: 1e9 })) {
    const v = validateRow(row, ctx);
    if (v.ok) got.push(v.tick);
    else t.fail(JSON.stringify(v));
  }
  t.deepEqual(got, expected);
  const first = new SyntheticSource(base)[Symbol.asyncIterator]();
  const row = (await first.next()).value;
  t.is(row?.raw, `SYN_001,2024-01-01T00:00:00.000Z,${expected.find((x) => x.commodity === 'SYN_001')?.price}`);
  t.true((row?.rawSizeBytes ?? 0) >= (row?.raw.length ?? Infinity));
  await first.return?.(undefined);
});

test('bad options are refused with the option named', (t) => {
  t.throws(() => [...syntheticTicks({ ...base, commodities: 0 })], { message: /commodities/ });
  t.throws(() => [...syntheticTicks({ ...base, intervalMs: 0 })], { message: /intervalMs/ });
  t.throws(() => new SyntheticSource({ ...base, ratePerS: -1 }), { message: /rate/ });
});

test('a live source stamps each row on the wall clock: on the interval grid, never ahead, one per commodity and interval', async (t) => {
  const startMs = Date.now();
  const intervalMs = 40;
  const source = new SyntheticSource({ ...base, startMs, intervalMs, commodities: 3, ticks: 30, live: true });
  const last = new Map<string, number>();
  let rows = 0;
  for await (const row of source) {
    const readMs = Date.now();
    const tsMs = row.date as number;
    t.true(tsMs <= readMs, `row ${row.lineNo} at ${tsMs} read at ${readMs}`);
    t.is((tsMs - startMs) % intervalMs, 0);
    const previous = last.get(row.commodityHint ?? '');
    if (previous !== undefined) t.true(tsMs >= previous + intervalMs);
    last.set(row.commodityHint ?? '', tsMs);
    rows++;
  }
  t.is(rows, 30);
});

test('a live source is paced by the clock even without a rate: 10 steps of 3 commodities take at least 9 intervals', async (t) => {
  const startMs = Date.now();
  const source = new SyntheticSource({ ...base, startMs, intervalMs: 30, commodities: 3, ticks: 30, gapProbability: 0, live: true });
  let lastTsMs = startMs;
  for await (const row of source) lastTsMs = row.date as number;
  t.true(lastTsMs - startMs >= 9 * 30);
  t.true(Date.now() >= lastTsMs);
});
