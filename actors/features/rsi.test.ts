import test from 'ava';
import { randomSeries, seededRandom } from './random-series.ts';
import { relativeStrengthIndex } from './rsi.ts';

/** Prices from a start and the changes between them. */
const fromChanges = (start: number, changes: number[]): number[] =>
  changes.reduce((prices, change) => [...prices, (prices.at(-1) as number) + change], [start]);

test('RSI over 4 changes, by hand', (t) => {
  // 10, 11, 12, 11, 13: changes +1 +1 -1 +2; avgGain 4/4 = 1, avgLoss 1/4; RS = 4; RSI = 100 - 100 / 5 = 80
  t.is(relativeStrengthIndex([10, 11, 12, 11, 13], 4), 80);
});

test('RSI14 with 10 rises and 4 falls of 1 is 500/7', (t) => {
  // avgGain 10/14, avgLoss 4/14, RS = 2.5, RSI = 100 - 100 / 3.5 = 71.428571
  const prices = fromChanges(50, [1, 1, -1, 1, 1, 1, -1, 1, 1, -1, 1, 1, -1, 1]);
  const rsi = relativeStrengthIndex(prices, 14) as number;
  t.true(Math.abs(rsi - 500 / 7) < 1e-12, `${rsi}`);
});

test('RSI14 only looks at the last 14 changes', (t) => {
  const prices = fromChanges(50, [-5, ...Array.from({ length: 14 }, () => 1)]);
  t.is(relativeStrengthIndex(prices, 14), 100);
});

test('RSI14 edge cases: only rises 100, only falls 0, flat 50, 13 changes undefined', (t) => {
  t.is(relativeStrengthIndex(fromChanges(-10, Array.from({ length: 14 }, () => 2)), 14), 100);
  t.is(relativeStrengthIndex(fromChanges(-10, Array.from({ length: 14 }, () => -2)), 14), 0);
  t.is(relativeStrengthIndex(Array.from({ length: 15 }, () => 3), 14), 50);
  t.is(relativeStrengthIndex(Array.from({ length: 14 }, (_, i) => i), 14), undefined);
});

test('RSI is within [0, 100] on random windows (negative and zero prices included)', (t) => {
  let defined = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const prices = randomSeries(seededRandom(seed), 1 + (seed % 40)).map((tick) => tick.price);
    const rsi = relativeStrengthIndex(prices, 14);
    if (rsi === undefined) continue;
    defined++;
    if (!(rsi >= 0 && rsi <= 100)) t.fail(`seed ${seed}: RSI ${rsi}`);
  }
  t.true(defined > 100, `only ${defined} random windows had an RSI`);
});
