import test from 'ava';
import { createLogger } from '../../platform/logger.ts';
import type { OutputWriter, TickOutputs } from './tick-outputs.ts';
import { batchingSink } from './batching-sink.ts';

const quiet = createLogger({}, () => undefined);
const outputs = (tsMs: number): TickOutputs => ({
  tick: { commodity: 'WTI', tsMs, price: 1, unit: '', source: '' },
  features: { tsMs, price: 1 } as TickOutputs['features'],
  prediction: undefined,
  alert: undefined,
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
  const sink = batchingSink({ writers: [writer], maxRows: 10, intervalMs: 1, giveUpAfterMs: 1_000, log: quiet, onFatal: () => t.fail() });
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
  const sink = batchingSink({ writers: [writer], maxRows: 1_000, intervalMs: 1, giveUpAfterMs: 1_000, log: quiet, onFatal: () => t.fail() });
  sink.submit(outputs(0), () => undefined);
  await firstStarted;
  for (let i = 1; i <= 50; i++) sink.submit(outputs(i), () => undefined);
  open();
  await sink.flush();
  t.deepEqual(batches, [1, 50]);
});

test('a failing store is retried, and nothing is acknowledged before it succeeds', async (t) => {
  const writer = recordingWriter(0, 2);
  const sink = batchingSink({ writers: [writer], maxRows: 10, intervalMs: 1, giveUpAfterMs: 5_000, log: quiet, onFatal: () => t.fail() });
  let acked = 0;
  sink.submit(outputs(1), () => acked++);
  await sink.flush();
  t.is(acked, 1);
  t.deepEqual(writer.batches, [[1]]);
});

test('a store down past giveUpAfterMs is reported as fatal once, and its outputs are never acknowledged', async (t) => {
  const writer = recordingWriter(0, Number.POSITIVE_INFINITY);
  let fatal = 0;
  const sink = batchingSink({ writers: [writer], maxRows: 10, intervalMs: 1, giveUpAfterMs: 50, log: quiet, onFatal: () => fatal++ });
  let acked = 0;
  sink.submit(outputs(1), () => acked++);
  await new Promise((r) => setTimeout(r, 400));
  t.is(fatal, 1);
  t.is(acked, 0);
});
