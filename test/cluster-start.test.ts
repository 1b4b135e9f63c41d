/**
 * `carbon start` as an operator meets it: a missing variable or a service that does not answer stops the primary
 * before any worker is forked, naming it; a running cluster prints its status line and `carbon status` shows
 * its workers, their partitions and commodities, the group's lag and the restarts.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { partitionOf } from '../connectors/partitioner.ts';
import type { StatusInputs } from '../cli/commands/status-view.ts';
import { startCluster, testEnvironment, tickPublisher } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { freePort } from './free-port.ts';
import { KAFKA_BROKERS, REDIS_URL } from './services.ts';

const root = join(import.meta.dirname, '..');

function carbon(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CARBON_LOG_FORMAT: 'json', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'cli', 'bin.js'), ...args], { cwd: root, env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('a start without DATABASE_URL stops before forking, with exit status 2 and the variable named', async (t) => {
  const r = await carbon(['start'], { KAFKA_BROKERS: KAFKA_BROKERS.join(','), REDIS_URL, DATABASE_URL: undefined, CARBON_METRICS_PORT: String(await freePort()) });
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /carbon: configuration error: DATABASE_URL is not set: cluster mode needs it/);
  t.false(r.stderr.includes('worker_forked'));
});

test('a start whose Postgres does not answer names it with its address, exit status 69, no worker forked', async (t) => {
  const port = await freePort();
  const r = await carbon(['start'], {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','), REDIS_URL, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
    CARBON_CONNECT_TIMEOUT: '3s', CARBON_METRICS_PORT: String(await freePort()),
  });
  t.is(r.code, 69, r.stderr);
  t.regex(r.stderr, new RegExp(`carbon: Postgres at 127\\.0\\.0\\.1:${port}/test \\(DATABASE_URL\\) did not answer within 3000 ms: .*ECONNREFUSED`));
  t.regex(r.stderr, /"event":"checking_services"/);
  t.false(r.stderr.includes('worker_forked'));
});

test('a running cluster prints its status line, and carbon status shows workers, partitions, commodities, lag and restarts', async (t) => {
  const env = await testEnvironment(t, 4);
  const cluster = await startCluster(t, env);
  const publisher = await tickPublisher(t, env);
  const commodities = ['BRENT', 'GOLD', 'HENRY_HUB', 'WTI'];
  await publisher.publish(commodities.flatMap((commodity) => Array.from({ length: 30 }, (_, i) => ({ commodity, tsMs: Date.UTC(2024, 0, 1 + i), price: 50 + i, unit: '', source: 'test' }))));
  await publisher.flush();

  const status = async (): Promise<StatusInputs> => {
    const r = await carbon(['status', '--json', '--primary', cluster.metricsUrl], env.env);
    t.is(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as StatusInputs;
  };
  let view = await status();
  await eventually(async () => {
    view = await status();
    return view.lag.ok && view.lag.value.partitions.every((p) => p.lag === 0) && view.commodities.ok && view.commodities.value.length === commodities.length;
  }, { what: 'the ticks to be processed', timeoutMs: 60_000, intervalMs: 500 });

  t.true(view.primary.ok);
  const workers = view.primary.ok ? view.primary.value.workers : [];
  t.deepEqual(workers.map((w) => w.slot), [0, 1]);
  t.true(view.owners.ok);
  const owners = view.owners.ok ? view.owners.value : [];
  t.is(owners.length, 4);
  // Every partition is owned by one of the primary's two workers.
  const pids = new Set(workers.map((w) => w.pid));
  t.true(owners.every((o) => o !== undefined && pids.has(Number(o.workerId.split(':').at(-2)))));
  t.deepEqual(view.commodities.ok ? [...view.commodities.value] : [], commodities);
  t.deepEqual(view.champions, { ok: true, value: [] });

  const text = await carbon(['status', '--primary', cluster.metricsUrl], env.env);
  t.is(text.code, 0, text.stderr);
  for (const commodity of commodities) t.true(text.stdout.includes(commodity), commodity);
  t.regex(text.stdout, /consumer lag {2}0 messages/);
  t.regex(text.stdout, /recent restarts {2}none/);
  for (const commodity of commodities) {
    const owner = owners[partitionOf(commodity, 4)];
    const slot = workers.find((w) => String(w.pid) === owner?.workerId.split(':').at(-2))?.slot;
    t.regex(text.stdout, new RegExp(`^ +${slot} .* ${commodity}( |$)`, 'm'), commodity);
  }

  // A worker killed is restarted, and the restart is shown.
  const [victim] = await cluster.workerPids();
  process.kill(victim ?? 0, 'SIGKILL');
  await eventually(async () => {
    const v = await status();
    return v.primary.ok && v.primary.value.recentRestarts.some((r) => r.reason === 'sigkill') && v.primary.value.workers.length === 2;
  }, { what: 'the restart to be shown', timeoutMs: 30_000, intervalMs: 500 });
  // The primary's status line, the same as the embedded one's, with the workers.
  await eventually(() => /\[carbon \d\d:\d\d:\d\d\] ticks [\d.]+\/s \| predictions [\d.]+\/s \| p99 .* \| restarts \d+ \| partitions \d+ \| workers 2\/2 \| models .* \| running/.test(readFileSync(cluster.logFile, 'utf8')),
    { what: 'the primary\'s status line', timeoutMs: 20_000, intervalMs: 500 });
});
