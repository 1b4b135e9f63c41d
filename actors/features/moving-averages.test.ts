import test from 'ava';
import { emaAlpha, exponentialMovingAverage, simpleMovingAverage } from './moving-averages.ts';
import { randomSeries, seededRandom } from './random-series.ts';

const near = (actual: number | undefined, expected: number): boolean =>
  actual !== undefined && Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected));

const prices = [10, 11, 12, 11, 13];

test('simpleMovingAverage is the mean of the last period prices', (t) => {
  t.is(simpleMovingAverage(prices, 5), 11.4); // 57 / 5
  t.is(simpleMovingAverage(prices, 3), 12); // (12 + 11 + 13) / 3
  t.is(simpleMovingAverage(prices, 1), 13);
  t.true(near(simpleMovingAverage([-36.98, 8.91], 2), -14.035)); // (-36.98 + 8.91) / 2
});

test('simpleMovingAverage is undefined with fewer prices than the period', (t) => {
  t.is(simpleMovingAverage(prices, 6), undefined);
  t.is(simpleMovingAverage([], 1), undefined);
});

test('emaAlpha is 2 / (n + 1)', (t) => {
  t.is(emaAlpha(5), 1 / 3);
  t.is(emaAlpha(20), 2 / 21);
});

test('exponentialMovingAverage is seeded with the first price and smooths every later one', (t) => {
  // alpha = 1/3: 10 -> 10 + 1/3 = 31/3 -> 12/3 + (2/3)(31/3) = 98/9 -> 11/3 + (2/3)(98/9) = 295/27
  //   -> 13/3 + (2/3)(295/27) = 941/81 = 11.61728...
  t.true(near(exponentialMovingAverage(prices, 5), 941 / 81));
  // alpha = 2/21: 10 -> 10.095238 -> 10.276644 -> 10.345535 -> 10.598341 = 2061176/194481
  t.true(near(exponentialMovingAverage(prices, 20), 2_061_176 / 194_481));
});

test('exponentialMovingAverage of one price is that price, of none undefined', (t) => {
  t.is(exponentialMovingAverage([-36.98], 5), -36.98);
  t.is(exponentialMovingAverage([], 5), undefined);
});

test('exponentialMovingAverage of a ramp lags it by ((1 - a) / a)(1 - (1 - a)^k)', (t) => {
  const ramp = Array.from({ length: 22 }, (_, i) => 100 + i);
  t.true(near(exponentialMovingAverage(ramp, 5), 121 - 2 * (1 - (2 / 3) ** 21)));
  t.true(near(exponentialMovingAverage(ramp, 20), 121 - 9.5 * (1 - (19 / 21) ** 21)));
});

test('the EMA of a flat window is exactly its price', (t) => {
  // alpha * p + (1 - alpha) * ema, computed literally, drifts to 91.02000000000001 here: above the window's max.
  for (const price of [91.02, 48.14, 0.1, -36.98]) {
    t.is(exponentialMovingAverage(Array.from({ length: 50 }, () => price), 5), price);
  }
});

test('an EMA stays within its inputs min and max (random windows, negative and zero prices included)', (t) => {
  for (let seed = 1; seed <= 300; seed++) {
    const random = seededRandom(seed);
    const window = randomSeries(random, 1 + Math.floor(random() * 60)).map((tick) => tick.price);
    const min = Math.min(...window);
    const max = Math.max(...window);
    for (const period of [2, 5, 20]) {
      const ema = exponentialMovingAverage(window, period) as number;
      if (!(ema >= min && ema <= max)) t.fail(`seed ${seed} period ${period}: ${ema} outside [${min}, ${max}]`);
    }
  }
  t.pass();
});
