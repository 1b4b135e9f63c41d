import test from 'ava';
import { StoreWrites } from '../../actors/sinks/store-writes.ts';
import type { OutputWriter, TickOutputs } from '../../actors/sinks/tick-outputs.ts';
import { topicNames } from '../../connectors/kafka/topics.ts';
import { createLogger } from '../../platform/logger.ts';
import { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import { Partition, type PartitionDeps } from '../partition/partition.ts';
import type { PartitionWriter, TopicMessages } from '../partition/partition-writer.ts';
import { start, stopSystem } from '../typed-actors.ts';
import { CommitCycle, takeMessages } from './commit-cycle.ts';

const quiet = createLogger({}, () => undefined);
/** A store with nothing stored (a variable, not a literal: it may offer more than the port asks). */
const noHistory = { loadBefore: async () => ({ ticks: [], tickCount: 0 }), loadFrom: async () => [], loadShadowScores: async () => [] };
const topics = topicNames('t');

const deps = (): PartitionDeps => ({
  topic: topics.prices, windowSize: 50, zScoreThreshold: 4, maxMessageBytes: 1024, poisonMaxTries: 3, log: quiet, poison: undefined,
  history: { loadBefore: async () => ({ ticks: [], tickCount: 0 }), loadFrom: async () => [], loadShadowScores: async () => [] },
  forecasters: { servingFor: () => undefined, ensureLoaded: async () => undefined, release: () => undefined },
  decisions: { promote: () => undefined, retrain: () => undefined },
});

const outputs = (offset: number): TickOutputs => ({
  tick: { commodity: 'WTI', tsMs: offset, price: 1, unit: '', source: '' },
  features: { tsMs: offset } as TickOutputs['features'],
  predictions: [Prediction.fromPartial({ commodity: 'WTI', tickTsMs: offset, horizonTicks: 1 })],
  alert: undefined,
  shadowScores: [],
});

interface Commit {
  readonly partition: number;
  readonly offset: number | undefined;
  readonly predictions: number;
  readonly dlq: number;
}

/** A writer that records its commits; `fail` makes the next commit reject, `delayMs` slows commits down. */
function recordingWriter(partition: number, log: Commit[], options: { fail?: () => boolean; beforeCommit?: (offset: number | undefined) => void } = {}): PartitionWriter {
  return {
    startOffset: 0,
    async commit(messages: readonly TopicMessages[], offset) {
      options.beforeCommit?.(offset);
      if (options.fail?.()) throw new Error('fenced');
      const count = (topic: string) => messages.find((m) => m.topic === topic)?.messages.length ?? 0;
      log.push({ partition, offset, predictions: count(topics.predictions), dlq: count(`${topics.prices}.dlq`) });
    },
    close: async () => undefined,
  };
}

function settled(p: Partition, from: number, to: number): void {
  for (let off = from; off < to; off++) {
    p.inFlight.begin({ offset: off, fetchedAtMs: 0, delivery: { offset: off, tick: outputs(off).tick, fetchedAtMs: 0 }, fetched: { key: null, value: null }, settled: undefined, crashes: 0 });
    p.settle(off, { kind: 'outputs', outputs: outputs(off) });
  }
}

test('a partition commits only what its stores hold, in the order taken, even when a later cycle\'s write finishes first', async (t) => {
  const system = start();
  t.teardown(() => stopSystem(system));
  const written: number[] = [];
  const commits: Commit[] = [];
  // The first write is slow and the second fast: cycles overlap, commits must not.
  const store: OutputWriter = {
    name: 'store',
    concurrent: true,
    async write(batch) {
      await new Promise((r) => setTimeout(r, batch[0]?.tick.tsMs === 0 ? 80 : 1));
      written.push(...batch.map((o) => o.tick.tsMs));
    },
  };
  const p = new Partition(0, system, deps());
  const unwrittenAtCommit: number[] = [];
  p.open(recordingWriter(0, commits, {
    beforeCommit: (offset) => {
      for (let off = 0; off < (offset ?? 0); off++) if (!written.includes(off)) unwrittenAtCommit.push(off);
    },
  }));
  const cycle = new CommitCycle({
    stores: new StoreWrites({ writers: [store], giveUpAfterMs: 1_000, log: quiet }),
    topics, maxDlqValueBytes: 1024, intervalMs: 1_000, maxRows: 3, maxConcurrent: 2,
    partitions: () => [p], onCommitFailed: () => t.fail(), onFatal: () => t.fail(), log: quiet,
  });
  settled(p, 0, 6);
  cycle.flushNow();
  await p.inFlight.whenCommitted();
  await cycle.stop();
  t.deepEqual(commits.map((c) => c.offset), [3, 6], 'the first take (0..2) is committed before the second (3..5)');
  t.deepEqual(commits.map((c) => c.predictions), [3, 3]);
  t.deepEqual(written.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5]);
  t.deepEqual(unwrittenAtCommit, [], 'no offset is committed before its outputs are in the store');
});

test('a failed commit is reported once and what that partition takes next is not committed once it is lost', async (t) => {
  const system = start();
  t.teardown(() => stopSystem(system));
  const commits: Commit[] = [];
  const failed: number[] = [];
  const p0 = new Partition(0, system, deps());
  const p1 = new Partition(1, system, deps());
  p0.open(recordingWriter(0, commits, { fail: () => true }));
  p1.open(recordingWriter(1, commits));
  const cycle = new CommitCycle({
    stores: new StoreWrites({ writers: [], giveUpAfterMs: 1_000, log: quiet }),
    topics, maxDlqValueBytes: 1024, intervalMs: 1_000, maxRows: 100, maxConcurrent: 1,
    partitions: () => [p0, p1],
    onCommitFailed: (partition) => {
      failed.push(partition.partition);
      partition.end('lost');
    },
    onFatal: () => t.fail(), log: quiet,
  });
  settled(p0, 0, 2);
  settled(p1, 10, 12);
  cycle.flushNow();
  await p1.inFlight.whenCommitted();
  await cycle.stop();
  t.deepEqual(failed, [0]);
  t.deepEqual(commits.map((c) => [c.partition, c.offset]), [[1, 12]], 'the other partition commits regardless');
  settled(p0, 2, 4);
  cycle.flushNow();
  await cycle.stop();
  t.deepEqual(commits.length, 1, 'a lost partition publishes nothing more');
});

test('a store down past its give-up time is fatal once, and nothing of that cycle is committed', async (t) => {
  const system = start();
  t.teardown(() => stopSystem(system));
  const commits: Commit[] = [];
  let fatal = 0;
  const p = new Partition(0, system, deps());
  p.open(recordingWriter(0, commits));
  const cycle = new CommitCycle({
    stores: new StoreWrites({ writers: [{ name: 'down', write: async () => { throw new Error('down'); } }], giveUpAfterMs: 30, log: quiet }),
    topics, maxDlqValueBytes: 1024, intervalMs: 1_000, maxRows: 100, maxConcurrent: 2,
    partitions: () => [p], onCommitFailed: () => t.fail(), onFatal: () => fatal++, log: quiet,
  });
  settled(p, 0, 2);
  cycle.flushNow();
  await cycle.stop();
  settled(p, 2, 3);
  cycle.flushNow();
  await cycle.stop();
  t.is(fatal, 1);
  t.deepEqual(commits, []);
});

test('a take\'s messages: a prediction per horizon, the alerts, and the dead letters to the prices DLQ with their reason', (t) => {
  const dead = { offset: 3, fetchedAtMs: 0, delivery: undefined, fetched: { key: null, value: null }, crashes: 0, settled: { kind: 'dead_letter' as const, letter: { partition: 2, offset: 3, key: Buffer.from('WTI'), value: Buffer.from('x'), reason: 'bad_json', detail: 'no' } } };
  const ok = { offset: 4, fetchedAtMs: 0, delivery: undefined, fetched: { key: null, value: null }, crashes: 0, settled: { kind: 'outputs' as const, outputs: outputs(4) } };
  const skipped = { offset: 5, fetchedAtMs: 0, delivery: undefined, fetched: { key: null, value: null }, crashes: 0, settled: { kind: 'nothing' as const } };
  const messages = takeMessages({ entries: [dead, ok, skipped], extras: [outputs(9)], commitOffset: 6 }, topics, 1024);
  const byTopic = new Map(messages.map((m) => [m.topic, m.messages]));
  t.is(byTopic.get(topics.predictions)?.length, 2, 'the tick\'s and the extra\'s');
  t.is(byTopic.get(topics.alerts)?.length, 0);
  const [letter] = byTopic.get(`${topics.prices}.dlq`) ?? [];
  t.is(letter?.headers?.['x-dlq-reason'], 'bad_json');
  t.is(letter?.headers?.['x-dlq-source-offset'], '3');
  t.is(letter?.key, 'WTI');
});
