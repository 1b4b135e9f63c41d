import test from 'ava';
import { createRandom } from './random.ts';

function draws(seed: number, stream: number, n: number): number[] {
  const r = createRandom(seed, stream);
  return Array.from({ length: n }, () => r.nextUint32());
}

test('a stream is fixed by its seed and index, and streams differ', (t) => {
  t.deepEqual(draws(7, 3, 50), draws(7, 3, 50));
  t.notDeepEqual(draws(7, 3, 50), draws(7, 4, 50));
  t.notDeepEqual(draws(7, 3, 50), draws(8, 3, 50));
  t.true(draws(0, 0, 50).every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32));
});

test('nextInt covers [0, n) evenly', (t) => {
  const r = createRandom(1, 0);
  const n = 10;
  const counts = new Array<number>(n).fill(0);
  const total = 100_000;
  for (let i = 0; i < total; i++) counts[r.nextInt(n)]! += 1;
  // Chi-square with 9 degrees of freedom: above 27.9 with probability 0.001.
  const expected = total / n;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  t.true(chi2 < 27.9, `chi2 ${chi2}`);
});
