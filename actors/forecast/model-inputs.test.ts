import test from 'ava';
import { computeFeatures, type FeatureVector } from '../features/compute-features.ts';
import { randomSeries, seededRandom } from '../features/random-series.ts';
import { appendTick, emptyWindow, fromTicks, MAX_ABS_PRICE, type PricePoint } from '../features/window.ts';
import { boundedRatio, forestTargetScale, MODEL_INPUT_NAMES, modelInputs, RATIO_LIMIT, relativeGap } from './model-inputs.ts';

const near = (actual: number | undefined, expected: number): boolean =>
  actual !== undefined && Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected));

const ticksOf = (prices: number[]): PricePoint[] => prices.map((price, i) => ({ tsMs: 86_400_000 * i, price }));

function run(ticks: readonly PricePoint[], windowSize = 50): FeatureVector[] {
  let window = emptyWindow(windowSize);
  return ticks.map((tick, i) => {
    window = appendTick(window, tick);
    return computeFeatures(window, i + 1);
  });
}

const at = (name: (typeof MODEL_INPUT_NAMES)[number]) => MODEL_INPUT_NAMES.indexOf(name);

test('a ramp 100, 101, ..., 121: each input is its feature relative to price, in EWMA volatilities', (t) => {
  const f = computeFeatures(fromTicks(ticksOf(Array.from({ length: 22 }, (_, i) => 100 + i))), 22);
  const inputs = modelInputs(f);
  if (inputs === undefined) return t.fail('inputs undefined with 22 ticks');
  t.is(inputs.length, MODEL_INPUT_NAMES.length);
  const v = f.ewmaVolatility!;
  t.true(near(inputs[at('returnInVolatilities')], 1 / 120 / v));
  t.true(near(inputs[at('logReturnInVolatilities')], Math.log(121 / 120) / v));
  t.true(near(inputs[at('priceToSma5InVolatilities')], 2 / 119 / v));
  t.true(near(inputs[at('priceToSma20InVolatilities')], 9.5 / 111.5 / v));
  t.true(near(inputs[at('sma5ToSma20InVolatilities')], 7.5 / 111.5 / v));
  t.true(near(inputs[at('volatility20ToEwmaVolatility')], f.volatility20! / v));
  t.is(inputs[at('zScore')], f.zScore);
  t.is(inputs[at('rsi14Fraction')], 1);
  t.true(near(inputs[at('momentum10InVolatilities')], 10 / 121 / v));
  t.is(inputs[at('windowPosition')], 1);
});

test('inputs are undefined until every feature they use exists (the 22nd tick of a positive series)', (t) => {
  const features = run(ticksOf(Array.from({ length: 30 }, (_, i) => 50 + Math.sin(i) * 5)));
  t.deepEqual(features.map((f) => modelInputs(f) !== undefined), features.map((_, i) => i + 1 >= 22));
});

test('the log-return slot falls back to the simple return at a negative price', (t) => {
  const f = run(ticksOf([...Array.from({ length: 25 }, (_, i) => 20 - (i % 3)), -36.98])).at(-1)!;
  t.is(f.logReturn, undefined);
  t.is(modelInputs(f)![at('logReturnInVolatilities')], modelInputs(f)![at('returnInVolatilities')]);
});

test('a flat window has no z-score, hence no inputs; a range of zero puts the price in the middle', (t) => {
  const flat = computeFeatures(fromTicks(ticksOf(Array.from({ length: 22 }, () => 10))), 22);
  t.is(flat.zScore, undefined);
  t.is(modelInputs(flat), undefined);
  const stored: FeatureVector = { ...computeFeatures(fromTicks(ticksOf(Array.from({ length: 22 }, (_, i) => 10 + (i % 2)))), 22), price: 10, windowMin: 10, windowMax: 10 };
  t.is(modelInputs(stored)?.[at('windowPosition')], 0.5);
});

test('random and extreme prices never give a NaN, an Infinity or an input beyond its bound', (t) => {
  let checked = 0;
  const extremes = [MAX_ABS_PRICE, -MAX_ABS_PRICE, 1e-300, -5e-324, 0, 1, -1];
  for (let seed = 1; seed <= 40; seed++) {
    const random = seededRandom(seed);
    const prices = seed % 2 === 0 ? randomSeries(random, 200) : ticksOf(Array.from({ length: 120 }, () => extremes[Math.floor(random() * extremes.length)]!));
    for (const [i, f] of run(prices, 22 + Math.floor(random() * 40)).entries()) {
      const inputs = modelInputs(f);
      if (inputs === undefined) continue;
      checked++;
      const bad = MODEL_INPUT_NAMES.find((_, k) => !(Number.isFinite(inputs[k]) && Math.abs(inputs[k]!) <= 50));
      if (bad !== undefined) return t.fail(`seed ${seed} tick ${i}: input ${bad} = ${inputs[at(bad)]}`);
    }
  }
  t.true(checked > 1_000, `only ${checked} ticks had inputs: the property checked too little`);
});

test('a forest learns returns in volatilities over the horizon', (t) => {
  t.true(near(forestTargetScale(0.02, 4), 0.04));
  t.true(forestTargetScale(0, 1) > 0, 'a flat window is floored');
});

const ratioCases: [numerator: number, denominator: number, expected: number][] = [
  [1, 4, 0.25],
  [1, -4, 0.25], // the sign is the numerator's, whatever the denominator's
  [-1, 4, -0.25],
  [0, 0, 0],
  [5, 0, RATIO_LIMIT],
  [-5, 0, -RATIO_LIMIT],
  [100, 1, RATIO_LIMIT],
  [-100, 1, -RATIO_LIMIT],
];
for (const [numerator, denominator, expected] of ratioCases) {
  test(`boundedRatio(${numerator}, ${denominator}) is ${expected}`, (t) => {
    t.is(boundedRatio(numerator, denominator), expected);
  });
}

test('relativeGap is value / reference - 1, measured from |reference|', (t) => {
  t.true(near(relativeGap(110, 100), 0.1));
  t.true(near(relativeGap(8.91, -2), 5.455)); // (8.91 + 2) / 2: above a negative average is positive
  t.true(near(relativeGap(-36.98, 8.2), (-36.98 - 8.2) / 8.2));
});

