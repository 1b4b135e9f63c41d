import test from 'ava';
import client from 'prom-client';
import { registry } from '../platform/metrics.ts';
import { p99Between, sampleOf, statusLine, statusMetricNames, type MetricsJson, type StatusSample } from './status-line.ts';

/** A worker's registry as JSON, labelled with its slot as the primary's aggregation does. */
async function workerMetrics(slot: string, fill: (r: client.Registry) => void): Promise<MetricsJson> {
  const r = new client.Registry();
  fill(r);
  const json = await r.getMetricsAsJSON();
  return json.map((m) => ({ ...m, values: m.values.map((v) => ({ ...v, labels: { ...v.labels, worker: slot } })) }));
}

function fill(ticks: number, lag: number, version: number, latencies: readonly number[]) {
  return (r: client.Registry): void => {
    new client.Counter({ name: statusMetricNames.ticks, help: 'h', labelNames: ['partition'], registers: [r] }).inc({ partition: '0' }, ticks);
    new client.Counter({ name: statusMetricNames.predictions, help: 'h', labelNames: ['commodity'], registers: [r] }).inc({ commodity: 'WTI' }, ticks / 2);
    const h = new client.Histogram({ name: statusMetricNames.latency, help: 'h', buckets: [0.01, 0.05, 0.1], registers: [r] });
    for (const s of latencies) h.observe(s);
    new client.Counter({ name: statusMetricNames.actorRestarts, help: 'h', labelNames: ['level', 'reason'], registers: [r] }).inc({ level: 'commodity', reason: 'x' }, 1);
    new client.Gauge({ name: statusMetricNames.lag, help: 'h', labelNames: ['partition'], registers: [r] }).set({ partition: '0' }, lag);
    new client.Gauge({ name: statusMetricNames.partitions, help: 'h', registers: [r] }).set(6);
    new client.Gauge({ name: statusMetricNames.modelVersion, help: 'h', labelNames: ['commodity', 'horizon'], registers: [r] }).set({ commodity: version > 1 ? 'WTI' : 'GOLD', horizon: '1' }, version);
  };
}

async function cluster(ticks: number, latencies: readonly number[]): Promise<MetricsJson> {
  const merged = client.AggregatorRegistry.aggregate([
    await workerMetrics('0', fill(ticks, 10, 3, latencies)),
    await workerMetrics('1', fill(ticks, 5, 1, latencies)),
  ] as object[]);
  return merged.getMetricsAsJSON();
}

test('every metric the line reads is in the platform\'s catalogue', async (t) => {
  const names = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
  for (const name of Object.values(statusMetricNames)) t.true(names.has(name), name);
});

test('a sample of the cluster\'s aggregate sums over workers and lists the models in service', async (t) => {
  const s = sampleOf(await cluster(100, [0.005, 0.02]), 0);
  t.like(s, { ticks: 200, predictions: 100, restarts: 2, lag: 15, partitions: 12 });
  t.deepEqual(s.models, ['GOLD:v1', 'WTI:v3']);
  t.is(s.latencyBuckets.get(Number.POSITIVE_INFINITY), 4);
});

test('the line: rates and p99 over the period, lag, restarts, partitions, workers, models and state', async (t) => {
  const before = sampleOf(await cluster(100, [0.005]), Date.UTC(2026, 0, 1, 15, 22, 28));
  const after = sampleOf(await cluster(150, [0.005, 0.02, 0.07]), Date.UTC(2026, 0, 1, 15, 22, 33));
  t.is(
    statusLine(before, after, { workers: { live: 2, expected: 2 }, state: 'running' }),
    '[carbon 15:22:33] ticks 20.0/s | predictions 10.0/s | p99 <=100 ms | lag 15 | restarts 2 | partitions 12 | workers 2/2 | models GOLD:v1 WTI:v3 | running\n',
  );
});

test('the embedded line has no workers field, and says what is not known yet', (t) => {
  const empty: StatusSample = { atMs: 0, ticks: 0, predictions: 0, latencyBuckets: new Map(), restarts: 0, lag: undefined, partitions: 12, models: [] };
  t.is(statusLine(empty, { ...empty, atMs: 5_000 }, { state: 'bootstrapping' }), '[carbon 00:00:05] ticks 0.0/s | predictions 0.0/s | p99 - | lag - | restarts 0 | partitions 12 | models none yet | bootstrapping\n');
});

test('p99 is the smallest bucket bound holding 99 % of the period\'s observations', (t) => {
  const before = new Map([[0.01, 10], [0.1, 10], [Number.POSITIVE_INFINITY, 10]]);
  t.is(p99Between(before, new Map([[0.01, 110], [0.1, 110], [Number.POSITIVE_INFINITY, 110]])), 0.01);
  t.is(p99Between(before, new Map([[0.01, 20], [0.1, 110], [Number.POSITIVE_INFINITY, 110]])), 0.1);
  t.is(p99Between(before, before), undefined);
});
