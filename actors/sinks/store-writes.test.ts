import test from 'ava';
import { createLogger } from '../../platform/logger.ts';
import { registry } from '../../platform/metrics.ts';
import { retryDelayMs, StoreWrites } from './store-writes.ts';
import type { OutputWriter, TickOutputs } from './tick-outputs.ts';

const quiet = createLogger({}, () => undefined);
const outputs = (tsMs: number): TickOutputs => ({
  tick: { commodity: 'WTI', tsMs, price: 1, unit: '', source: '' },
  features: { tsMs, price: 1 } as TickOutputs['features'],
  predictions: [],
  alert: undefined,
  shadowScores: [],
});

async function waiting(dependency: string): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('carbon_dependency_waiting')?.get();
  return metric?.values.find((v) => v.labels.dependency === dependency)?.value;
}

test('a failing store is retried until it answers; the wait shows in carbon_dependency_waiting meanwhile, and not after', async (t) => {
  let failures = 0;
  let during: number | undefined;
  const written: number[][] = [];
  const writer: OutputWriter = {
    name: 'flaky-store',
    async write(batch) {
      if (failures < 2) {
        failures++;
        if (failures === 2) during = await waiting('flaky-store');
        throw new Error('store down');
      }
      written.push(batch.map((o) => o.tick.tsMs));
    },
  };
  await new StoreWrites({ writers: [writer], giveUpAfterMs: 5_000, log: quiet }).write([outputs(1), outputs(2)]);
  t.deepEqual(written, [[1, 2]]);
  t.is(during, 1);
  t.is(await waiting('flaky-store'), 0);
});

test('a store down past giveUpAfterMs makes the write reject', async (t) => {
  const writer: OutputWriter = { name: 'down', write: async () => { throw new Error('store down'); } };
  await t.throwsAsync(new StoreWrites({ writers: [writer], giveUpAfterMs: 60, log: quiet }).write([outputs(1)]), { message: 'store down' });
});

test('an ordered writer takes batches one at a time in call order while a concurrent one takes them side by side', async (t) => {
  let concurrentBusy = 0;
  let concurrentMax = 0;
  const concurrent: OutputWriter = {
    name: 'upserts',
    concurrent: true,
    async write(batch) {
      concurrentMax = Math.max(concurrentMax, ++concurrentBusy);
      // The first batch is the slowest: an ordered writer must still get it first.
      await new Promise((r) => setTimeout(r, batch[0]?.tick.tsMs === 0 ? 60 : 5));
      concurrentBusy--;
    },
  };
  const orderedBatches: number[] = [];
  let orderedBusy = false;
  let overlapped = false;
  const ordered: OutputWriter = {
    name: 'latest',
    async write(batch) {
      if (orderedBusy) overlapped = true;
      orderedBusy = true;
      await new Promise((r) => setTimeout(r, batch[0]?.tick.tsMs === 0 ? 30 : 2));
      orderedBatches.push(batch[0]?.tick.tsMs ?? -1);
      orderedBusy = false;
    },
  };
  const stores = new StoreWrites({ writers: [concurrent, ordered], giveUpAfterMs: 1_000, log: quiet });
  await Promise.all([0, 1, 2].map((i) => stores.write([outputs(i)])));
  t.true(concurrentMax > 1, 'the concurrent writer had batches side by side');
  t.deepEqual(orderedBatches, [0, 1, 2]);
  t.false(overlapped);
});

test('an empty batch writes nothing', async (t) => {
  let calls = 0;
  await new StoreWrites({ writers: [{ name: 'w', write: async () => { calls++; } }], giveUpAfterMs: 10, log: quiet }).write([]);
  t.is(calls, 0);
});

test('retries back off from 25 ms, doubling, to at most 2 s', (t) => {
  t.deepEqual([1, 2, 3, 4, 7, 8, 20].map(retryDelayMs), [25, 50, 100, 200, 1_600, 2_000, 2_000]);
});
