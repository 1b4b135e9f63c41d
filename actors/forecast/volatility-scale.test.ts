import test from 'ava';
import { fitVolatilityScale, scaleOf, SCALE_FLOOR } from './volatility-scale.ts';

/** Returns whose volatility is exactly the given EWMA volatility, times a seeded normal draw. */
function heteroskedastic(n: number, seed: number): { ewma: Float64Array; y: Float64Array } {
  let state = seed >>> 0;
  const uniform = () => ((state = (state * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const ewma = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ewma[i] = i % 400 < 200 ? 0.01 : 0.04;
    const z = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    y[i] = ewma[i]! * z;
  }
  return { ewma, y };
}

test('returns that follow the EWMA volatility get all the weight on it', (t) => {
  const { ewma, y } = heteroskedastic(4000, 1);
  const s = fitVolatilityScale(ewma, y, 1, 0, 4000);
  t.true(s.weight >= 0.9, `weight ${s.weight}`);
  t.true(scaleOf(s, 0.04) > 3 * scaleOf(s, 0.01), 'the scale follows the volatility');
});

test('returns whose volatility the EWMA does not predict get the long-run variance', (t) => {
  const { ewma, y } = heteroskedastic(4000, 2);
  // The same returns against a volatility series shifted by half a regime: no information left in it.
  const misleading = Float64Array.from(ewma, (_, i) => ewma[(i + 200) % ewma.length]!);
  const s = fitVolatilityScale(misleading, y, 1, 0, 4000);
  t.true(s.weight <= 0.2, `weight ${s.weight}`);
  t.true(Math.abs(Math.sqrt(s.longRunVariance) - Math.sqrt((0.01 ** 2 + 0.04 ** 2) / 2)) < 0.003);
});

test('the horizon multiplies the variance; a flat window falls to the floor, never to 0', (t) => {
  const s = { horizonTicks: 4, weight: 1, longRunVariance: 1e-4 };
  t.true(Math.abs(scaleOf(s, 0.02) - 0.04) < 1e-12);
  t.is(scaleOf(s, 0), SCALE_FLOOR);
  t.true(Number.isNaN(scaleOf(s, undefined)));
  t.throws(() => fitVolatilityScale(new Float64Array(10).fill(0.01), new Float64Array(10), 1, 0, 10), { message: /all 0/ });
});
