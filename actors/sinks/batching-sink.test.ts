import test from 'ava';
import { createLogger } from '../../platform/logger.ts';
import type { OutputWriter, TickOutputs } from './tick-outputs.ts';
import { batchingSink } from './batching-sink.ts';

const quiet = createLogger({}, () => undefined);
const outputs = (tsMs: number): TickOutputs => ({
  tick: { commodity: 'WTI', tsMs, price: 1, unit: '', source: '' },
  features: { tsMs, price: 1 } as TickOutputs['features'],
  predictions: [],
  alert: undefined,
  shadowScores: [],
});

function recordingWriter(delayMs = 0, failTimes = 0): OutputWriter & { batches: number[][] } {
  const batches: number[][] = [];
  let failures = 0;
  return {
    name: 'recording',
    batches,
    async write(batch) {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      if (failures < failTimes) {
        failures++;
        throw new Error('store down');
      }
      batches.push(batch.map((o) => o.tick.tsMs));
    },
  };
}

test('outputs become durable in submission order, and onDurable runs once each, after the write', async (t) => {
  const writer = recordingWriter(5);
  const sink = batchingSink({ writers: [writer], maxRows: 10, intervalMs: 1, maxConcurrentBatches: 1, giveUpAfterMs: 1_000, log: quiet, onFatal: () => t.fail() });
  const durable: number[] = [];
  for (let i = 0; i < 95; i++) sink.submit(outputs(i), () => durable.push(i));
  t.is(sink.pending(), 95);
  await sink.flush();
  t.deepEqual(durable, Array.from({ length: 95 }, (_, i) => i));
  t.deepEqual(writer.batches.flat(), Array.from({ length: 95 }, (_, i) => i));
  t.true(writer.batches.every((b) => b.length <= 10), 'no batch above maxRows');
  t.is(sink.pending(), 0);
});

test('while a write runs, new outputs gather into the next batch instead of queueing small ones', async (t) => {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const batches: number[] = [];
  let started: () => void = () => undefined;
  const firstStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  const writer: OutputWriter = {
    name: 'gated',
    async write(batch) {
      started();
      await gate;
      batches.push(batch.length);
    },
  };
  const sink = batchingSink({ writers: [writer], maxRows: 1_000, intervalMs: 1, maxConcurrentBatches: 1, giveUpAfterMs: 1_000, log: quiet, onFatal: () => t.fail() });
  sink.submit(outputs(0), () => undefined);
  await firstStarted;
  for (let i = 1; i <= 50; i++) sink.submit(outputs(i), () => undefined);
  open();
  await sink.flush();
  t.deepEqual(batches, [1, 50]);
});

test('a failing store is retried, and nothing is acknowledged before it succeeds', async (t) => {
  const writer = recordingWriter(0, 2);
  const sink = batchingSink({ writers: [writer], maxRows: 10, intervalMs: 1, maxConcurrentBatches: 1, giveUpAfterMs: 5_000, log: quiet, onFatal: () => t.fail() });
  let acked = 0;
  sink.submit(outputs(1), () => acked++);
  await sink.flush();
  t.is(acked, 1);
  t.deepEqual(writer.batches, [[1]]);
});

test('a store down past giveUpAfterMs is reported as fatal once, and its outputs are never acknowledged', async (t) => {
  const writer = recordingWriter(0, Number.POSITIVE_INFINITY);
  let fatal = 0;
  const sink = batchingSink({ writers: [writer], maxRows: 10, intervalMs: 1, maxConcurrentBatches: 1, giveUpAfterMs: 50, log: quiet, onFatal: () => fatal++ });
  let acked = 0;
  sink.submit(outputs(1), () => acked++);
  await new Promise((r) => setTimeout(r, 400));
  t.is(fatal, 1);
  t.is(acked, 0);
});

test('batches written side by side are acknowledged in order, and an ordered writer gets them one at a time in order', async (t) => {
  // The concurrent writer finishes the first batch last; the ordered one records whether its writes overlapped.
  let concurrentWrites = 0;
  const concurrent: OutputWriter = {
    name: 'upserts',
    concurrent: true,
    async write(batch) {
      concurrentWrites++;
      await new Promise((r) => setTimeout(r, batch[0]?.tick.tsMs === 0 ? 60 : 5));
    },
  };
  const orderedBatches: number[][] = [];
  let orderedBusy = false;
  let overlapped = false;
  const ordered: OutputWriter = {
    name: 'latest',
    async write(batch) {
      if (orderedBusy) overlapped = true;
      orderedBusy = true;
      await new Promise((r) => setTimeout(r, 2));
      orderedBatches.push(batch.map((o) => o.tick.tsMs));
      orderedBusy = false;
    },
  };
  const sink = batchingSink({ writers: [concurrent, ordered], maxRows: 5, intervalMs: 1, maxConcurrentBatches: 3, giveUpAfterMs: 1_000, log: quiet, onFatal: () => t.fail() });
  const durable: number[] = [];
  for (let i = 0; i < 15; i++) sink.submit(outputs(i), () => durable.push(i));
  await new Promise((r) => setTimeout(r, 30));
  t.deepEqual(durable, [], 'nothing is acknowledged while the first batch is still being written');
  await sink.flush();
  t.is(concurrentWrites, 3);
  t.deepEqual(durable, Array.from({ length: 15 }, (_, i) => i));
  t.deepEqual(orderedBatches.flat(), Array.from({ length: 15 }, (_, i) => i));
  t.false(overlapped);
});

test('when a batch fails for good, no later batch is acknowledged even if its own writes succeeded', async (t) => {
  const writer: OutputWriter = {
    name: 'flaky',
    concurrent: true,
    async write(batch) {
      if (batch[0]?.tick.tsMs === 0) throw new Error('store down');
    },
  };
  let fatal = 0;
  const sink = batchingSink({ writers: [writer], maxRows: 1, intervalMs: 1, maxConcurrentBatches: 2, giveUpAfterMs: 30, log: quiet, onFatal: () => fatal++ });
  const durable: number[] = [];
  sink.submit(outputs(0), () => durable.push(0));
  sink.submit(outputs(1), () => durable.push(1));
  await new Promise((r) => setTimeout(r, 300));
  t.is(fatal, 1);
  t.deepEqual(durable, []);
});
