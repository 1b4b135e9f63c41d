/**
 * computeFeatures against the independent naive reference in test/reference-features.ts, which integration tests
 * also use to check the pipeline's stored features: the two must agree on the real series and on random ones.
 */
import test from 'ava';
import { referenceFeatures } from '../../test/reference-features.ts';
import { computeFeatures } from './compute-features.ts';
import type { FeatureVector } from './compute-features.ts';
import { readDailyPrices } from '../../test/daily-price-csv.ts';
import { randomSeries, seededRandom } from './random-series.ts';
import { appendTick, emptyWindow } from './window.ts';
import type { PricePoint } from './window.ts';

const RELATIVE_TOLERANCE = 1e-9;

function run(ticks: readonly PricePoint[], windowSize: number): FeatureVector[] {
  let window = emptyWindow(windowSize);
  return ticks.map((tick, i) => {
    window = appendTick(window, tick);
    return computeFeatures(window, i + 1);
  });
}

/** The first disagreement, as a message; undefined when every field agrees to RELATIVE_TOLERANCE. */
function firstDifference(actual: readonly FeatureVector[], expected: readonly FeatureVector[]): string | undefined {
  if (actual.length !== expected.length) return `${actual.length} vectors against ${expected.length}`;
  for (const [i, a] of actual.entries()) {
    const e = expected[i] as FeatureVector;
    const names = new Set([...Object.keys(a), ...Object.keys(e)]) as Set<keyof FeatureVector>;
    for (const name of names) {
      const x = a[name];
      const y = e[name];
      const agree =
        x === y ||
        (typeof x === 'number' &&
          typeof y === 'number' &&
          Math.abs(x - y) <= RELATIVE_TOLERANCE * Math.max(Math.abs(x), Math.abs(y)));
      if (!agree) return `tick ${i} (tsMs ${e.tsMs}): ${name} is ${x}, the reference says ${y}`;
    }
  }
  return undefined;
}

for (const file of ['wti-daily.csv', 'brent-daily.csv', 'henry-hub-daily.csv']) {
  test(`computeFeatures agrees with the naive reference on ${file} (W = 50 and 22)`, (t) => {
    const ticks = readDailyPrices(file);
    t.true(ticks.length > 7_000);
    for (const windowSize of [50, 22]) {
      t.is(firstDifference(run(ticks, windowSize), referenceFeatures(ticks, windowSize)), undefined);
    }
  });
}

test('computeFeatures agrees with the naive reference on random series with zero and negative prices', (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = seededRandom(seed);
    const ticks = randomSeries(random, 300);
    const windowSize = 22 + Math.floor(random() * 40);
    t.is(firstDifference(run(ticks, windowSize), referenceFeatures(ticks, windowSize)), undefined, `seed ${seed}`);
  }
});

test('the comparison notices a feature that is off by more than the tolerance', (t) => {
  const ticks = readDailyPrices('brent-daily.csv').slice(0, 100);
  const expected = referenceFeatures(ticks, 50);
  const shifted = expected.map((f, i) => (i === 60 ? { ...f, ema20: f.ema20 * (1 + 1e-8) } : f));
  t.regex(firstDifference(shifted, expected) ?? '', /^tick 60 .*ema20/);
  t.is(firstDifference(expected, expected), undefined);
});
