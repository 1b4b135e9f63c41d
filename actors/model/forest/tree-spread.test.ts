import test from 'ava';
import { quantilesInto, shareAbove } from './tree-spread.ts';

test('shareAbove counts the values strictly above the level', (t) => {
  const v = Float64Array.of(-1, 0, 0.5, 2, 3);
  t.is(shareAbove(v), 3 / 5);
  t.is(shareAbove(v, 5, 1), 2 / 5);
  t.is(shareAbove(v, 2), 0);
  t.throws(() => shareAbove(v, 6), { message: /count 6/ });
});

test('quantiles interpolate between order statistics like numpy', (t) => {
  // numpy.quantile([4, 1, 3, 2, 10], [0, 0.1, 0.5, 0.9, 1]) = [1, 1.4, 3, 7.6, 10]
  const v = Float64Array.of(4, 1, 3, 2, 10);
  const out = new Float64Array(5);
  quantilesInto(v, 5, [0, 0.1, 0.5, 0.9, 1], new Float64Array(5), out);
  const expected = [1, 1.4, 3, 7.6, 10];
  out.forEach((q, k) => t.true(Math.abs(q - expected[k]!) < 1e-12, `${q} vs ${expected[k]}`));
  t.deepEqual(Array.from(v), [4, 1, 3, 2, 10], 'input untouched');
});

test('quantiles use only the first count values and reject bad probabilities', (t) => {
  const out = new Float64Array(1);
  quantilesInto(Float64Array.of(5, 1, 100), 2, [1], new Float64Array(3), out);
  t.is(out[0], 5);
  t.throws(() => quantilesInto(Float64Array.of(1), 1, [1.5], new Float64Array(1), out), { message: /probabilities\[0\]/ });
  t.throws(() => quantilesInto(Float64Array.of(1, 2), 2, [0.5], new Float64Array(1), out), { message: /scratch/ });
});
