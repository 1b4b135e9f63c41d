import test from 'ava';
import type { TickOutputs } from '../../actors/sinks/tick-outputs.ts';
import { InFlightLog, type InFlightEntry, type Settled } from './in-flight-log.ts';

const tick = (offset: number, commodity = 'WTI') => ({ offset, tick: { commodity, tsMs: offset, price: 1, unit: '', source: '' }, fetchedAtMs: 0 });
const entry = (offset: number, commodity = 'WTI'): InFlightEntry => ({ offset, fetchedAtMs: 0, delivery: tick(offset, commodity), fetched: { key: null, value: null }, settled: undefined, crashes: 0 });
const nothing: Settled = { kind: 'nothing' };
const outputs = (tsMs: number): TickOutputs => ({ tick: { commodity: 'WTI', tsMs, price: 1, unit: '', source: '' }, features: { tsMs } as TickOutputs['features'], predictions: [], alert: undefined, shadowScores: [] });

test('the commit offset is after the last settled message at the head: later messages settling first do not move it', (t) => {
  const log = new InFlightLog();
  t.is(log.take(100), undefined, 'nothing begun, nothing to commit');
  for (const off of [10, 11, 12, 13]) log.begin(entry(off));
  log.settle(12, nothing);
  log.settle(11, nothing);
  t.is(log.take(100), undefined, 'the head (10) is not settled');
  log.settle(10, nothing);
  const take = log.take(100);
  t.deepEqual(take?.entries.map((e) => e.offset), [10, 11, 12]);
  t.is(take?.commitOffset, 13);
  log.settle(13, nothing);
  t.is(log.take(100)?.commitOffset, 14);
});

test('a take holds at most maxEntries, and the extras (outputs tied to no offset) go with the next take', (t) => {
  const log = new InFlightLog();
  for (let off = 0; off < 5; off++) {
    log.begin(entry(off));
    log.settle(off, nothing);
  }
  log.extra(outputs(99));
  const first = log.take(2);
  t.deepEqual(first?.entries.map((e) => e.offset), [0, 1]);
  t.is(first?.extras.length, 1);
  const second = log.take(10);
  t.is(second?.commitOffset, 5);
  t.is(second?.extras.length, 0);
  log.extra(outputs(100));
  const onlyExtras = log.take(10);
  t.is(onlyExtras?.commitOffset, undefined, 'extras alone commit no offset');
  t.is(onlyExtras?.extras.length, 1);
});

test('a message refused at the gate is settled from the start; a message settles once', (t) => {
  const log = new InFlightLog();
  log.begin({ offset: 1, fetchedAtMs: 0, delivery: undefined, fetched: { key: null, value: null }, settled: { kind: 'dead_letter', letter: { partition: 0, offset: 1, key: null, value: null, reason: 'bad_json', detail: '' } }, crashes: 0 });
  log.begin(entry(2));
  t.true(log.isSettled(1));
  t.false(log.isSettled(2));
  t.is(log.unsettledCount(), 1);
  t.true(log.settle(2, nothing));
  t.false(log.settle(2, nothing), 'a second outcome for the same offset is refused');
  t.false(log.settle(7, nothing), 'so is one for an offset never taken');
});

test('in flight counts what is taken and not committed; the hand-off waits resolve at settled, written and committed', async (t) => {
  const log = new InFlightLog();
  log.begin(entry(1));
  log.begin(entry(2));
  const marks: string[] = [];
  const settled = log.whenSettled().then(() => marks.push('settled'));
  const written = log.whenWritten().then(() => marks.push('written'));
  const committed = log.whenCommitted().then(() => marks.push('committed'));
  log.settle(1, nothing);
  log.settle(2, nothing);
  await settled;
  t.deepEqual(marks, ['settled']);
  const take = log.take(10);
  if (take === undefined) return t.fail('a take');
  t.is(log.inFlight(), 2, 'taken but not committed: still held');
  log.written(take);
  await written;
  t.deepEqual(marks, ['settled', 'written']);
  log.committed(take);
  await committed;
  t.deepEqual(marks, ['settled', 'written', 'committed']);
  t.is(log.inFlight(), 0);
});

test('the unsettled ticks come back by commodity in offset order (what a restarted supervisor hands out again)', (t) => {
  const log = new InFlightLog();
  for (const [off, c] of [[1, 'WTI'], [2, 'BRENT'], [3, 'WTI'], [4, 'WTI']] as const) log.begin(entry(off, c));
  log.settle(3, nothing);
  const again = log.unsettledByCommodity();
  t.deepEqual([...again].map(([c, ds]) => [c, ds.map((d) => d.offset)]), [['WTI', [1, 4]], ['BRENT', [2]]]);
});

test('dropping forgets everything and releases every wait (their callers look at the partition\'s state)', async (t) => {
  const log = new InFlightLog();
  log.begin(entry(1));
  const waits = [log.whenSettled(), log.whenWritten(), log.whenCommitted(), log.nextCommit()];
  log.drop();
  await Promise.all(waits);
  t.is(log.inFlight(), 0);
  t.is(log.take(10), undefined);
  t.pass();
});

test('the next commit is one promise for every caller until it comes', async (t) => {
  const log = new InFlightLog();
  log.begin(entry(1));
  const a = log.nextCommit();
  t.is(log.nextCommit(), a);
  log.settle(1, nothing);
  const take = log.take(10);
  if (take === undefined) return t.fail('a take');
  log.committed(take);
  await a;
  t.not(log.nextCommit(), a, 'a new one after it fired');
});
