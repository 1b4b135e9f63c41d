import test from 'ava';
import { createLogger } from '../../platform/logger.ts';
import { start, stopSystem, type SystemRef } from '../typed-actors.ts';
import { handOff, type HandOffDeps } from './hand-off.ts';
import { Partition, type PartitionDeps } from './partition.ts';
import type { PartitionWriter } from './partition-writer.ts';

const quiet = createLogger({}, () => undefined);
/** A store with nothing stored (a variable, not a literal: it may offer more than the port asks). */
const noHistory = { loadBefore: async () => ({ ticks: [], tickCount: 0 }), loadFrom: async () => [], loadShadowScores: async () => [] };
const deps: PartitionDeps = {
  topic: 'prices', windowSize: 50, zScoreThreshold: 4, maxMessageBytes: 1024, poisonMaxTries: 3, log: quiet, poison: undefined,
  history: { loadBefore: async () => ({ ticks: [], tickCount: 0 }), loadFrom: async () => [], loadShadowScores: async () => [] },
  forecasters: { servingFor: () => undefined, ensureLoaded: async () => undefined, release: () => undefined },
  decisions: { promote: () => undefined, retrain: () => undefined },
};
const writer: PartitionWriter = { startOffset: 0, commit: async () => undefined, close: async () => undefined };
const tick = (offset: number) => ({ offset, tick: { commodity: 'WTI', tsMs: offset, price: 1, unit: '', source: '' }, fetchedAtMs: 0 });

function openPartition(system: SystemRef, inFlight: number): Partition {
  const p = new Partition(0, system, deps);
  p.open(writer);
  for (let off = 0; off < inFlight; off++) p.inFlight.begin({ offset: off, fetchedAtMs: 0, delivery: tick(off), fetched: { key: null, value: null }, settled: undefined, crashes: 0 });
  return p;
}

/** Plays the actors and the commit cycle step by step, recording the partition's state at each. */
function recorder(p: Partition): HandOffDeps & { readonly events: string[] } {
  const events: string[] = [];
  return {
    events,
    flushNow: () => {
      events.push(`flush asked in state ${p.state}`);
      const take = p.inFlight.take(100);
      if (take === undefined) return;
      setTimeout(() => {
        events.push('written');
        p.inFlight.written(take);
        setTimeout(() => {
          events.push('committed');
          p.inFlight.committed(take);
        }, 5);
      }, 5);
    },
    finish: async (partition, state, reason) => {
      events.push(`finish ${state} (${reason})`);
      partition.end(state);
    },
  };
}

test('a hand-off stops taking, waits for the actors, the stores and the commit, then releases, and says how long each step took', async (t) => {
  const system = start();
  t.teardown(() => stopSystem(system));
  const p = openPartition(system, 2);
  const d = recorder(p);
  const handing = handOff(p, d, 1_000);
  t.is(p.state, 'handing_off', 'it stops taking at once');
  p.accept([{ offset: 2, key: null, value: Buffer.from('x'), contentType: undefined, headers: {} }]);
  t.is(p.inFlight.inFlight(), 2, 'a batch arriving now is refused');
  setTimeout(() => {
    d.events.push('actors settled');
    p.inFlight.settle(0, { kind: 'nothing' });
    p.inFlight.settle(1, { kind: 'nothing' });
  }, 10);
  const result = await handing;
  t.is(result.state, 'released');
  t.deepEqual(d.events, ['actors settled', 'flush asked in state handing_off', 'written', 'committed', 'finish released (handed_off)']);
  t.deepEqual(Object.keys(result.stepsMs), ['stop_taking', 'drain', 'flush', 'commit', 'release']);
  t.is(p.state, 'released');
});

test('a hand-off past its timeout drops what was not committed and says in which step it was', async (t) => {
  const system = start();
  t.teardown(() => stopSystem(system));
  const p = openPartition(system, 1);
  const d = recorder(p);
  const result = await handOff(p, d, 30);
  t.is(result.state, 'lost');
  t.regex(result.reason ?? '', /timed out in step drain after 30 ms/);
  t.is(p.state, 'lost');
  t.is(p.inFlight.inFlight(), 0, 'its uncommitted work is gone, never to be published');
});

test('a partition lost while handing off (its writer fenced) ends the hand-off there', async (t) => {
  const system = start();
  t.teardown(() => stopSystem(system));
  const p = openPartition(system, 1);
  const d = recorder(p);
  const handing = handOff(p, d, 1_000);
  setTimeout(() => p.end('lost'), 5);
  const result = await handing;
  t.is(result.state, 'lost');
  t.regex(result.reason ?? '', /lost during step drain/);
  t.false(d.events.some((e) => e.startsWith('flush')), 'nothing of it is flushed or committed after it was lost');
});
