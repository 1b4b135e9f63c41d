import test from 'ava';
import { TokenBucket } from './token-bucket.ts';

test('a full bucket grants `burst` calls at once, then refuses with the wait until the next token', (t) => {
  const b = new TokenBucket(10, 3, 0);
  t.deepEqual([b.take(0), b.take(0), b.take(0)], [0, 0, 0]);
  t.is(b.take(0), 100, 'at 10/s the next token comes in 100 ms');
  t.is(b.take(50), 50);
  t.is(b.take(100), 0);
});

test('tokens refill at the rate and never beyond the burst', (t) => {
  const b = new TokenBucket(1_000, 5, 0);
  for (let i = 0; i < 5; i++) b.take(0);
  let granted = 0;
  for (let i = 0; i < 10; i++) if (b.take(10_000) === 0) granted++;
  t.is(granted, 5, 'after a long pause only `burst` calls pass at once');
});

test('a clock going backwards grants nothing extra', (t) => {
  const b = new TokenBucket(1, 1, 1_000);
  t.is(b.take(1_000), 0);
  t.true(b.take(500) > 0);
});

test('nonsense rates are refused', (t) => {
  t.throws(() => new TokenBucket(0, 1, 0), { instanceOf: RangeError });
  t.throws(() => new TokenBucket(1, 0, 0), { instanceOf: RangeError });
});
