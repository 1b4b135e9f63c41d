import test from 'ava';
import { computeFeatures } from './compute-features.ts';
import type { FeatureVector } from './compute-features.ts';
import { readDailyPrices } from '../../test/daily-price-csv.ts';
import { randomSeries, seededRandom } from './random-series.ts';
import { appendTick, emptyWindow, fromTicks, MAX_ABS_PRICE } from './window.ts';
import type { PricePoint, TickWindow } from './window.ts';

const near = (actual: number | undefined, expected: number): boolean =>
  actual !== undefined && Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected));

const ticksOf = (prices: number[]): PricePoint[] => prices.map((price, i) => ({ tsMs: 86_400_000 * i, price }));

/** Features at every tick of an uninterrupted run. */
function run(ticks: readonly PricePoint[], windowSize = 50): FeatureVector[] {
  let window = emptyWindow(windowSize);
  return ticks.map((tick, i) => {
    window = appendTick(window, tick);
    return computeFeatures(window, i + 1);
  });
}

/** Every number of a feature vector is finite or undefined; returns the name of the first that is not. */
function firstNonFinite(f: FeatureVector): string | undefined {
  for (const [name, value] of Object.entries(f)) {
    if (typeof value === 'number' && !Number.isFinite(value)) return name;
  }
  return undefined;
}

test('the first tick: only price, EMAs, range and count exist', (t) => {
  t.deepEqual(computeFeatures(fromTicks(ticksOf([10])), 7), {
    tsMs: 0,
    price: 10,
    simpleReturn: undefined,
    logReturn: undefined,
    nonPositivePrice: false,
    sma5: undefined,
    sma20: undefined,
    ema5: 10,
    ema20: 10,
    volatility20: undefined,
    ewmaVolatility: undefined,
    zScore: undefined,
    rsi14: undefined,
    momentum10: undefined,
    windowMin: 10,
    windowMax: 10,
    tickCount: 7,
  });
});

test('prices 10, 11, 12, 11, 13, by hand', (t) => {
  const f = computeFeatures(fromTicks(ticksOf([10, 11, 12, 11, 13])), 5);
  t.is(f.price, 13);
  t.is(f.simpleReturn, 2 / 11); // (13 - 11) / 11
  t.is(f.logReturn, Math.log(13 / 11));
  t.is(f.nonPositivePrice, false);
  t.is(f.sma5, 11.4); // 57 / 5
  t.is(f.sma20, undefined);
  t.true(near(f.ema5, 941 / 81)); // 10 -> 31/3 -> 98/9 -> 295/27 -> 941/81 (alpha 1/3)
  t.true(near(f.ema20, 2_061_176 / 194_481)); // 10.598341 (alpha 2/21)
  t.is(f.volatility20, undefined);
  t.is(f.zScore, undefined);
  t.is(f.rsi14, undefined);
  t.is(f.momentum10, undefined);
  t.is(f.windowMin, 10);
  t.is(f.windowMax, 13);
});

test('a ramp 100, 101, ..., 121 (22 ticks): every feature defined, by hand', (t) => {
  const f = computeFeatures(fromTicks(ticksOf(Array.from({ length: 22 }, (_, i) => 100 + i))), 22);
  t.is(f.simpleReturn, 1 / 120);
  t.is(f.logReturn, Math.log(121 / 120));
  t.is(f.sma5, 119); // mean of 117..121
  t.is(f.sma20, 111.5); // mean of 102..121
  t.true(near(f.ema5, 121 - 2 * (1 - (2 / 3) ** 21))); // an EMA lags a ramp by ((1-a)/a)(1-(1-a)^k)
  t.true(near(f.ema20, 121 - 9.5 * (1 - (19 / 21) ** 21)));
  t.true(f.volatility20 !== undefined && f.volatility20 > 0); // returns 1/101 .. 1/120 differ
  t.true(f.zScore !== undefined && f.zScore < 0); // 1/120 is the smallest return of the ramp
  t.is(f.rsi14, 100); // only rises
  t.is(f.momentum10, 10); // 121 - 111
  t.is(f.windowMin, 100);
  t.is(f.windowMax, 121);

  t.true(f.ewmaVolatility !== undefined && Math.abs(f.ewmaVolatility - Math.log(121 / 120)) < 0.002);
});

test('computeFeatures refuses an empty window and a tick count below the window length', (t) => {
  t.throws(() => computeFeatures(emptyWindow(), 0), { instanceOf: RangeError });
  t.throws(() => computeFeatures(fromTicks(ticksOf([1, 2, 3])), 2), { instanceOf: RangeError });
  t.throws(() => computeFeatures(fromTicks(ticksOf([1, 2, 3])), 3.5), { instanceOf: RangeError });
});

test('random series with zero and negative prices never produce NaN or Infinity', (t) => {
  let withVolatility = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const random = seededRandom(seed);
    const features = run(randomSeries(random, 200), 22 + Math.floor(random() * 40));
    for (const [i, f] of features.entries()) {
      const bad = firstNonFinite(f);
      if (bad !== undefined) return t.fail(`seed ${seed} tick ${i}: ${bad} = ${String(f[bad as keyof FeatureVector])}`);
      if (f.volatility20 !== undefined && f.volatility20 < 0) return t.fail(`seed ${seed} tick ${i}: volatility < 0`);
      if (f.rsi14 !== undefined && !(f.rsi14 >= 0 && f.rsi14 <= 100)) return t.fail(`seed ${seed} tick ${i}: RSI`);
      if (!(f.ema5 >= f.windowMin && f.ema5 <= f.windowMax)) return t.fail(`seed ${seed} tick ${i}: ema5 outside`);
      if (f.ewmaVolatility !== undefined) withVolatility++;
    }
  }
  t.true(withVolatility > 1_000, `only ${withVolatility} ticks had every feature: the property checked too little`);
});

test('prices at the extremes the window admits never produce NaN or Infinity', (t) => {
  const extremes = [MAX_ABS_PRICE, -MAX_ABS_PRICE, 1e-300, -5e-324, 0, 1, -1];
  for (let seed = 1; seed <= 20; seed++) {
    const random = seededRandom(seed);
    const prices = Array.from({ length: 120 }, () => extremes[Math.floor(random() * extremes.length)] as number);
    for (const [i, f] of run(ticksOf(prices), 22).entries()) {
      const bad = firstNonFinite(f);
      if (bad !== undefined) return t.fail(`seed ${seed} tick ${i}: ${bad} is not finite`);
    }
  }
  t.pass();
});

test('the WTI file, negative settlement included, runs through without a throw or a NaN', (t) => {
  const ticks = readDailyPrices('wti-daily.csv');
  const features = run(ticks);
  t.is(features.length, 9_821);
  for (const [i, f] of features.entries()) {
    const bad = firstNonFinite(f);
    if (bad !== undefined) return t.fail(`tick ${i}: ${bad} is not finite`);
  }
  const at = (date: string): FeatureVector => {
    const found = features.find((f) => f.tsMs === Date.parse(`${date}T00:00:00Z`));
    if (found === undefined) throw new Error(`no WTI row on ${date}`);
    return found;
  };

  const negative = at('2020-04-20');
  t.is(negative.price, -36.98);
  t.true(negative.nonPositivePrice);
  t.is(negative.logReturn, undefined);
  t.true(near(negative.simpleReturn, (-36.98 - 18.31) / 18.31)); // from 2020-04-17
  t.is(negative.windowMin, -36.98);
  t.true(near(negative.momentum10, -36.98 - 28.36)); // 2020-04-03, ten rows earlier
  t.true(negative.ewmaVolatility !== undefined, 'the log returns around the negative price are skipped, the others remain');

  const after = at('2020-04-21');
  t.is(after.price, 8.91);
  t.true(after.nonPositivePrice); // the previous price was negative
  t.is(after.logReturn, undefined);
  t.true(near(after.simpleReturn, (8.91 + 36.98) / 36.98));

  const recovered = at('2020-04-22');
  t.false(recovered.nonPositivePrice);
  t.true(near(recovered.logReturn, Math.log(13.64 / 8.91)));
  t.is(recovered.windowMin, -36.98); // still within the last 50 ticks
});

test('a window rebuilt from the last W ticks at random points gives the uninterrupted run exactly', (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = seededRandom(seed);
    const ticks = randomSeries(random, 300);
    const windowSize = 22 + Math.floor(random() * 40);
    const uninterrupted = run(ticks, windowSize);

    let window = emptyWindow(windowSize);
    const restarted = ticks.map((tick, i) => {
      // A restart: the state is gone, and the actor reloads its last W stored ticks.
      if (random() < 0.1) window = fromTicks(ticks.slice(Math.max(0, i - windowSize), i), windowSize);
      window = appendTick(window, tick);
      return computeFeatures(window, i + 1);
    });
    t.deepEqual(restarted, uninterrupted, `seed ${seed}`);
  }
});
