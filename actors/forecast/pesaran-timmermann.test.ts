import test from 'ava';
import { erfc, standardNormalUpperTail } from './normal-distribution.ts';
import { pesaranTimmermann } from './pesaran-timmermann.ts';

test('erfc and the normal upper tail match tabulated values', (t) => {
  // erfc(0) = 1, erfc(1) = 0.157299207, erfc(-1) = 1.842700793; P(Z >= 1.96) = 0.0249979
  t.true(Math.abs(erfc(0) - 1) < 1e-7);
  t.true(Math.abs(erfc(1) - 0.157299207) < 1e-7);
  t.true(Math.abs(erfc(-1) - 1.842700793) < 1e-7);
  t.true(Math.abs(standardNormalUpperTail(1.96) - 0.0249979) < 1e-6);
  t.true(Math.abs(standardNormalUpperTail(-2) - 0.9772499) < 1e-6);
});

test('Pesaran-Timmermann statistic of a hand-computed case', (t) => {
  // 10 rows; outcomes up in 6 (Py = 0.6), calls up in 6 (Px = 0.6), 8 calls right (P = 0.8).
  //   P*      = 0.6 * 0.6 + 0.4 * 0.4                                  = 0.52
  //   Var(P)  = 0.52 * 0.48 / 10                                       = 0.02496
  //   Var(P*) = 0.2^2 * 0.24 / 10 + 0.2^2 * 0.24 / 10 + 4 * 0.36 * 0.16 / 100 = 0.004224
  //   PT      = (0.8 - 0.52) / sqrt(0.02496 - 0.004224) = 0.28 / 0.144    = 1.94444...
  //   p       = P(Z >= 1.94444) = 0.025921 (scipy.stats.norm.sf)
  const actual = [true, true, true, true, true, true, false, false, false, false];
  const called = [true, true, true, true, true, false, false, false, false, true];
  const r = pesaranTimmermann(actual, called);
  t.is(r.n, 10);
  t.true(Math.abs(r.hitRate - 0.8) < 1e-12);
  t.true(Math.abs(r.expectedHitRate - 0.52) < 1e-12);
  t.true(Math.abs(r.statistic! - 0.28 / 0.144) < 1e-9);
  t.true(Math.abs(r.pValue! - 0.025921) < 1e-6);
});

test('calls no better than chance give a statistic near 0; calls against the outcome a negative one', (t) => {
  const actual = [true, false, true, false, true, false, true, false];
  const independent = [true, true, false, false, true, true, false, false];
  const r = pesaranTimmermann(actual, independent);
  t.is(r.hitRate, 0.5);
  t.true(Math.abs(r.statistic!) < 1e-12);
  t.true(Math.abs(r.pValue! - 0.5) < 1e-7);
  const opposite = pesaranTimmermann(actual, actual.map((a) => !a));
  t.true(opposite.statistic! < -2);
  t.true(opposite.pValue! > 0.97);
});

test('one-sided calls leave the test undefined rather than dividing by zero', (t) => {
  const r = pesaranTimmermann([true, false, true, true], [true, true, true, true]);
  t.is(r.hitRate, 0.75);
  t.is(r.statistic, null);
  t.is(r.pValue, null);
});

test('mismatched or empty inputs are refused', (t) => {
  t.throws(() => pesaranTimmermann([true], [true, false]), { instanceOf: RangeError });
  t.throws(() => pesaranTimmermann([], []), { instanceOf: RangeError });
});
