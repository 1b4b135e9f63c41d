import test from 'ava';
import { appendTick, DEFAULT_WINDOW_SIZE, emptyWindow, fromTicks, MAX_ABS_PRICE, MIN_WINDOW_SIZE } from './window.ts';
import type { PricePoint, TickWindow } from './window.ts';

const tick = (i: number, price = 10 + i): PricePoint => ({ tsMs: 1_000 * i, price });
const appendAll = (window: TickWindow, ticks: PricePoint[]): TickWindow => ticks.reduce(appendTick, window);

test('emptyWindow defaults to 50 ticks and refuses sizes below 22', (t) => {
  t.is(DEFAULT_WINDOW_SIZE, 50);
  t.is(emptyWindow().size, 50);
  t.is(emptyWindow(MIN_WINDOW_SIZE).size, 22);
  t.throws(() => emptyWindow(21), { instanceOf: RangeError, message: /window size must be an integer >= 22, got 21/ });
  t.throws(() => emptyWindow(30.5), { instanceOf: RangeError });
  t.throws(() => fromTicks([], 10), { instanceOf: RangeError });
});

test('appendTick keeps the last W ticks, oldest first, with prices alongside', (t) => {
  const ticks = Array.from({ length: 30 }, (_, i) => tick(i));
  const window = appendAll(emptyWindow(22), ticks);
  t.deepEqual(window.ticks, ticks.slice(8));
  t.deepEqual(window.prices, ticks.slice(8).map((x) => x.price));
});

test('appendTick leaves the window it was given unchanged', (t) => {
  const before = appendAll(emptyWindow(22), Array.from({ length: 22 }, (_, i) => tick(i)));
  const snapshot = structuredClone(before);
  const after = appendTick(before, tick(22));
  t.deepEqual(before, snapshot);
  t.is(after.ticks.length, 22);
  t.is(after.prices[21], 32);
});

test('appendTick and fromTicks refuse non-finite prices and timestamps, and absurd prices', (t) => {
  const nonFinite = [{ tsMs: 0, price: Number.NaN }, { tsMs: 0, price: -Infinity }, { tsMs: Infinity, price: 1 }];
  for (const bad of [...nonFinite, { tsMs: 0, price: 1e16 }, { tsMs: 0, price: -1e300 }]) {
    t.throws(() => appendTick(emptyWindow(), bad), { instanceOf: RangeError });
    t.throws(() => fromTicks([bad]), { instanceOf: RangeError });
  }
});

test('appendTick accepts zero, negative and extreme but bounded prices', (t) => {
  const extremes = [tick(0, 0), tick(1, -36.98), tick(2, MAX_ABS_PRICE), tick(3, -MAX_ABS_PRICE)];
  const window = appendAll(emptyWindow(), extremes);
  t.deepEqual(window.prices, [0, -36.98, 1e15, -1e15]);
});

test('fromTicks of the last ticks equals the window built tick by tick', (t) => {
  const ticks = Array.from({ length: 75 }, (_, i) => tick(i, Math.sin(i) * 20));
  for (const length of [0, 1, 21, 50, 51, 75]) {
    t.deepEqual(fromTicks(ticks.slice(0, length)), appendAll(emptyWindow(), ticks.slice(0, length)));
  }
});
