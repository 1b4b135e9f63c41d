import test from 'ava';
import { fitResiduals, MIN_RESIDUALS, shareAbove } from './residuals.ts';

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37) % n) + 1);

test('offsets are conservative conformal ranks: floor((n+1) tau) below the median, ceil((n+1) tau) above', (t) => {
  const r = fitResiduals(oneToN(99), [0.1, 0.5, 0.9]);
  t.deepEqual(r.offsets, [10, 50, 90]);
  const s = fitResiduals(oneToN(98), [0.1, 0.9]);
  // (98 + 1) * 0.1 = 9.9 -> 9th smallest; (98 + 1) * 0.9 = 89.1 -> 90th.
  t.deepEqual(s.offsets, [9, 90]);
});

test('the share above a value reads the percentiles, bounded away from 0 and 1', (t) => {
  const r = fitResiduals(oneToN(1000));
  t.true(Math.abs(shareAbove(r, 500.5) - 0.5) < 0.01);
  t.true(Math.abs(shareAbove(r, 900.5) - 0.1) < 0.01);
  t.is(shareAbove(r, -5), 0.995);
  t.is(shareAbove(r, 5000), 0.005);
});

test('too few or non-finite residuals are refused', (t) => {
  t.throws(() => fitResiduals(oneToN(MIN_RESIDUALS - 1)), { message: /at least/ });
  t.throws(() => fitResiduals([...oneToN(50), Number.NaN]), { message: /not finite/ });
});
