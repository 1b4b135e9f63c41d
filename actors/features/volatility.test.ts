import test from 'ava';
import { randomSeries, seededRandom } from './random-series.ts';
import { EWMA_DECAY, ewmaLogReturnVolatility, returnVolatility, returnZScore } from './volatility.ts';

const near = (actual: number | undefined, expected: number): boolean =>
  actual !== undefined && Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected));

/** 100, 110, 99, 108.9, ...: simple returns +0.1, -0.1, +0.1, ... */
function alternating(length: number): number[] {
  const prices = [100];
  for (let i = 1; i < length; i++) prices.push((prices[i - 1] as number) * (i % 2 === 1 ? 1.1 : 0.9));
  return prices;
}

test('returnVolatility over 2 returns, by hand', (t) => {
  // returns of 10, 11, 12, 11: 1/10, 1/11, -1/12; the last two have mean 1/264 and deviations +-23/264,
  // so the sample std is sqrt(2 (23/264)^2 / 1) = 23 sqrt(2) / 264 = 0.12321
  t.true(near(returnVolatility([10, 11, 12, 11], 2), (23 * Math.SQRT2) / 264));
});

test('returnVolatility of 20 alternating +-10 % returns is sqrt(20 * 0.01 / 19)', (t) => {
  t.true(near(returnVolatility(alternating(21), 20), Math.sqrt(0.2 / 19))); // 0.102598
});

test('returnVolatility is 0 for a flat series and undefined with too few prices or a zero price', (t) => {
  t.is(returnVolatility(Array.from({ length: 21 }, () => 7), 20), 0);
  t.is(returnVolatility(alternating(20), 20), undefined); // 19 returns
  const withZero = alternating(30);
  withZero[15] = 0; // the return out of a zero price does not exist, so neither does the std
  t.is(returnVolatility(withZero, 20), undefined);
});

test('returnVolatility is defined through negative prices', (t) => {
  const prices = alternating(21);
  prices[10] = -36.98;
  const volatility = returnVolatility(prices, 20);
  t.true(volatility !== undefined && volatility > 0 && Number.isFinite(volatility));
});

test('returnZScore over 2 returns, by hand', (t) => {
  // 10, 11, 12, 11: r_t = -1/12; the two before, 1/10 and 1/11, have mean 21/220 and deviations +-1/220,
  // so std = sqrt(2) / 220 and z = (-1/12 - 21/220) / (sqrt(2) / 220) = -118 / (3 sqrt(2)) = -27.8129
  t.true(near(returnZScore([10, 11, 12, 11], 2), -118 / (3 * Math.SQRT2)));
});

test('returnZScore scores the latest return against the 20 before it', (t) => {
  // 21st return +0.1 against 20 returns of mean 0 and std sqrt(0.2 / 19): z = 0.1 / 0.102598 = sqrt(0.95)
  t.true(near(returnZScore(alternating(22), 20), Math.sqrt(0.95)));
  t.is(returnZScore(alternating(21), 20), undefined); // only 20 returns: nothing before the latest one
});

test('returnZScore is undefined when the returns before have no spread or a zero price is involved', (t) => {
  const flatThenJump = [...Array.from({ length: 21 }, () => 7), 8];
  t.is(returnZScore(flatThenJump, 20), undefined);
  t.is(returnZScore([...alternating(21), 0, 5], 20), undefined); // latest return is out of 0
});

test('volatility is >= 0 and z-scores are finite on random windows (negative and zero prices included)', (t) => {
  let defined = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const prices = randomSeries(seededRandom(seed), 22 + (seed % 40)).map((tick) => tick.price);
    const volatility = returnVolatility(prices, 20);
    const z = returnZScore(prices, 20);
    if (volatility !== undefined && !(volatility >= 0 && Number.isFinite(volatility))) {
      t.fail(`seed ${seed}: volatility ${volatility}`);
    }
    if (z !== undefined && !Number.isFinite(z)) t.fail(`seed ${seed}: z-score ${z}`);
    if (volatility !== undefined && z !== undefined) defined++;
  }
  t.true(defined > 50, `only ${defined} random windows had both defined: the property checked too little`);
});

test('EWMA volatility: seeded with the mean square of the window\'s log returns, then decayed oldest first', (t) => {
  // 21 prices alternating 100 and 110: every log return is +-ln(1.1), so the variance stays ln(1.1)^2.
  const flat = Array.from({ length: 21 }, (_, i) => (i % 2 === 0 ? 100 : 110));
  t.true(Math.abs(ewmaLogReturnVolatility(flat)! - Math.log(1.1)) < 1e-15);
  // One big move last: the EWMA gives it weight 1 - 0.94, more than its 1/20 share of the seed.
  const shock = [...Array.from({ length: 20 }, (_, i) => 100 * 1.01 ** i), 100 * 1.01 ** 19 * 1.2];
  const r = Array.from({ length: 20 }, (_, i) => Math.log(shock[i + 1]! / shock[i]!));
  let v = r.reduce((a, b) => a + b * b, 0) / 20;
  for (const x of r) v = EWMA_DECAY * v + (1 - EWMA_DECAY) * x * x;
  t.true(Math.abs(ewmaLogReturnVolatility(shock)! - Math.sqrt(v)) < 1e-15);
});

test('EWMA volatility skips returns across a non-positive price and needs 20 of them', (t) => {
  const twenty = Array.from({ length: 21 }, (_, i) => 50 + i);
  t.true(ewmaLogReturnVolatility(twenty)! > 0);
  t.is(ewmaLogReturnVolatility(twenty.slice(1)), undefined, 'only 19 returns');
  const negative = [...twenty.slice(0, 10), -36.98, ...twenty.slice(10)];
  t.is(ewmaLogReturnVolatility(negative), undefined, 'the two returns around the negative price do not exist');
  t.true(ewmaLogReturnVolatility([...negative, 80, 81]) !== undefined);
});
