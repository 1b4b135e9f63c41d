import test from 'ava';
import { momentum } from './momentum.ts';

test('momentum10 is p_t - p_{t-10}', (t) => {
  const ramp = Array.from({ length: 11 }, (_, i) => 10 + i); // 10 .. 20
  t.is(momentum(ramp, 10), 10); // 20 - 10
  t.is(momentum([...ramp, 5], 10), -6); // 5 - 11
});

test('momentum10 goes through negative prices', (t) => {
  const prices = [18.31, ...Array.from({ length: 9 }, () => 20), -36.98];
  t.is(momentum(prices, 10), -36.98 - 18.31);
});

test('momentum10 is undefined with fewer than 11 prices', (t) => {
  t.is(momentum(Array.from({ length: 10 }, (_, i) => i), 10), undefined);
});
