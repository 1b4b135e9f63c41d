import test from 'ava';
import { partitionOf } from '../../connectors/partitioner.ts';
import { formatAge, pidOfWorkerId, renderStatus, type StatusInputs } from './status-view.ts';

const now = Date.UTC(2026, 11, 2, 12, 0, 0);
const commodities = ['BRENT', 'GOLD', 'HENRY_HUB', 'WTI'];
const owner = (partition: number, pid: number) => ({ partition, epoch: 7, workerId: `vm:${pid}:a1b2c3`, endpoint: '127.0.0.1:50100' });

function inputs(over: Partial<StatusInputs> = {}): StatusInputs {
  return {
    primaryUrl: 'http://127.0.0.1:9464',
    primary: {
      ok: true,
      value: {
        state: 'running', pid: 100, startedAtMs: now - 3_725_000, expectedWorkers: 2,
        workers: [{ slot: 0, pid: 101, startedAtMs: now - 3_725_000, restarts: 0 }, { slot: 1, pid: 102, startedAtMs: now - 65_000, restarts: 1 }],
        recentRestarts: [{ slot: 1, reason: 'sigkill', atMs: now - 66_000 }],
        line: '[carbon 12:00:00] ticks 20.0/s | ...',
      },
    },
    owners: { ok: true, value: [owner(0, 101), owner(1, 102), owner(2, 101), undefined] },
    lag: { ok: true, value: { topic: 'commodity-prices', groupId: 'carbon-analytics', partitions: [{ partition: 0, high: 10, committed: 10, lag: 0 }, { partition: 1, high: 1_500, committed: 300, lag: 1_200 }] } },
    commodities: { ok: true, value: commodities },
    champions: { ok: true, value: [{ commodity: 'WTI', horizonTicks: 1, version: 3, family: 'ewma', trainedAtMs: Date.UTC(2026, 11, 1, 6, 0) }] },
    partitionCount: 4,
    nowMs: now,
    ...over,
  };
}

test('each worker with its partitions and the commodities they hold; champions; lag; restarts', (t) => {
  const text = renderStatus(inputs());
  t.regex(text, /^primary {2}running, up 1h02m \(pid 100\), workers 2\/2, http:\/\/127\.0\.0\.1:9464\n {9}\[carbon 12:00:00\]/);
  const ofPartitions = (ps: number[]) => commodities.filter((c) => ps.includes(partitionOf(c, 4))).join(' ') || '-';
  const row = (...cells: string[]) => new RegExp(`^ +${cells.join(' {2,}')}$`, 'm');
  t.regex(text, row('0', '101', '1h02m', '0', '0 2', ofPartitions([0, 2])));
  t.regex(text, row('1', '102', '1m05s', '1', '1', ofPartitions([1])));
  t.regex(text, /unowned partitions: 3 \(/);
  t.regex(text, row('WTI', '1', 'v3', 'ewma', '2026-12-01 06:00'));
  t.regex(text, /consumer lag {2}1,200 messages \(group carbon-analytics on commodity-prices\); by partition 1:1,200/);
  t.regex(text, /recent restarts\n +worker +reason +when\n +1 +sigkill +1m06s ago/);
});

test('a source that did not answer is named in its section, the others still show', (t) => {
  const text = renderStatus(inputs({
    primary: { ok: false, why: 'fetch failed: connect ECONNREFUSED 127.0.0.1:9464' },
    champions: { ok: false, why: 'DATABASE_URL is not set' },
    commodities: { ok: false, why: 'DATABASE_URL is not set' },
  }));
  t.regex(text, /^primary {2}http:\/\/127\.0\.0\.1:9464: no answer \(fetch failed: connect ECONNREFUSED 127\.0\.0\.1:9464\)/);
  t.regex(text, /champions\n {2}\(unknown: DATABASE_URL is not set\)/);
  // Without the primary, the owners are still listed, by worker id.
  t.regex(text, /vm:101:a1b2c3 +- +- +- +0 2 +-/);
  t.regex(text, /consumer lag {2}1,200/);
});

test('ages and worker ids', (t) => {
  t.is(formatAge(12_400), '12s');
  t.is(formatAge(250_000), '4m10s');
  t.is(formatAge(7_500_000), '2h05m');
  t.is(formatAge(277_200_000), '3d05h');
  t.is(pidOfWorkerId('worker-7f9c:4242:0a1b2c'), 4242);
  t.is(pidOfWorkerId('carbon-status'), undefined);
});
