import test from 'ava';
import { conformalHalfWidth } from './conformal.ts';

test('the half-width is the ceil((n + 1) * level)-th smallest absolute residual', (t) => {
  // n = 9, level 0.8: rank ceil(10 * 0.8) = 8, so the 8th smallest of 0.1 .. 0.9 (given shuffled).
  t.is(conformalHalfWidth([0.5, 0.9, 0.1, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6], 0.8), 0.8);
  // n = 10: rank ceil(11 * 0.8) = 9.
  t.is(conformalHalfWidth([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 0.8), 0.9);
  t.is(conformalHalfWidth([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 0.5), 0.6);
});

test('too few calibration rows for the level give an infinite half-width', (t) => {
  t.is(conformalHalfWidth([0.1, 0.2, 0.3], 0.8), Number.POSITIVE_INFINITY);
  t.is(conformalHalfWidth([0.1, 0.2, 0.3, 0.4], 0.8), 0.4);
});

test('the half-width covers at least the level of exchangeable new residuals', (t) => {
  // Residuals 1..1000 in a fixed pseudo-random order; calibrate on the first 200, check the other 800.
  const values = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) + 1);
  const q = conformalHalfWidth(values.slice(0, 200), 0.8);
  const covered = values.slice(200).filter((v) => v <= q).length / 800;
  t.true(covered > 0.75 && covered < 0.85, `coverage ${covered}`);
});

test('NaN residuals and levels outside (0, 1) are refused', (t) => {
  t.throws(() => conformalHalfWidth([0.1, Number.NaN, 0.2, 0.3, 0.4], 0.8), { instanceOf: RangeError });
  t.throws(() => conformalHalfWidth([0.1], 1), { instanceOf: RangeError });
});
