import test from 'ava';
import { SingleFlight } from './single-flight.ts';

function deferred<T>() {
  let resolve: (v: T) => void = () => undefined;
  let reject: (e: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('callers of one key share the running read; another key or a settled read starts a new one', async (t) => {
  const flight = new SingleFlight<number>();
  let reads = 0;
  const d = deferred<number>();
  const read = () => {
    reads++;
    return d.promise;
  };
  const a = flight.run('WTI', 100, read);
  const b = flight.run('WTI', 200, read);
  const other = flight.run('BRENT', 100, () => Promise.resolve(7));
  t.is(reads, 1, 'the second caller of WTI joined');
  d.resolve(42);
  t.deepEqual(await Promise.all([a, b, other]), [42, 42, 7]);
  t.is(flight.size, 0, 'settled reads are forgotten');
  await flight.run('WTI', 100, () => {
    reads++;
    return Promise.resolve(1);
  });
  t.is(reads, 2);
});

test('a caller that may not wait as long as the running read starts its own', async (t) => {
  const flight = new SingleFlight<string>();
  const slow = deferred<string>();
  const first = flight.run('WTI', 1_000, () => slow.promise);
  const hurried = flight.run('WTI', 500, () => Promise.resolve('own'));
  t.is(await hurried, 'own');
  slow.resolve('shared');
  t.is(await first, 'shared');
});

test('a failed read fails every caller that joined it, and is forgotten', async (t) => {
  const flight = new SingleFlight<number>();
  const d = deferred<number>();
  const a = flight.run('WTI', 100, () => d.promise);
  const b = flight.run('WTI', 100, () => Promise.resolve(0));
  d.reject(new Error('actor timeout'));
  await t.throwsAsync(a, { message: 'actor timeout' });
  await t.throwsAsync(b, { message: 'actor timeout' });
  t.is(flight.size, 0);
});
