import test from 'ava';
import { OffsetTracker } from './offset-tracker.ts';

test('the committable offset is the oldest unfinished one, then the next after the last begun', (t) => {
  const o = new OffsetTracker();
  t.is(o.committable(), undefined);
  for (const off of [10, 11, 12, 13]) o.begin(off);
  t.is(o.committable(), 10);
  o.finish(12);
  o.finish(11);
  t.is(o.committable(), 10, 'later messages finishing first do not move the commit point');
  o.finish(10);
  t.is(o.committable(), 13);
  o.finish(13);
  t.is(o.committable(), 14);
  t.is(o.outstanding(), 0);
});

test('idle resolves once every begun message is finished', async (t) => {
  const o = new OffsetTracker();
  o.begin(1);
  o.begin(2);
  let resolved = false;
  const idle = o.idle().then(() => {
    resolved = true;
  });
  o.finish(2);
  await Promise.resolve();
  t.false(resolved);
  o.finish(1);
  await idle;
  t.true(resolved);
});

test('many offsets finished in random order always leave the commit point at the oldest unfinished', (t) => {
  const o = new OffsetTracker();
  const n = 20_000;
  for (let i = 0; i < n; i++) o.begin(i);
  const order = Array.from({ length: n }, (_, i) => i);
  let seed = 7;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const done = new Set<number>();
  let expected = 0;
  for (const off of order) {
    o.finish(off);
    done.add(off);
    while (done.has(expected)) expected++;
    if (o.committable() !== expected) return t.fail(`after finishing ${off}: ${o.committable()} != ${expected}`);
  }
  t.is(o.committable(), n);
});
