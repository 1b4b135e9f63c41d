/**
 * Cluster-wide metrics: the primary asks every worker for its registry (as JSON, over the cluster IPC channel)
 * and merges them with its own through prom-client's AggregatorRegistry (counters and histograms summed).
 */
import type { Worker } from 'node:cluster';
import client, { type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { logger } from '../../platform/logger.ts';
import { registry } from '../../platform/metrics.ts';

const log = logger.child({ component: 'metrics-aggregation' });

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

const REQUEST = 'carbon:metrics-request';
const RESPONSE = 'carbon:metrics-response';

interface MetricsRequest {
  readonly type: typeof REQUEST;
  readonly id: number;
}
interface MetricsResponse {
  readonly type: typeof RESPONSE;
  readonly id: number;
  readonly metrics: MetricsJson;
}

const isResponse = (m: unknown): m is MetricsResponse =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === RESPONSE;

/** In a worker: answer the primary's metric requests. */
export function serveMetricsToPrimary(): void {
  process.on('message', (m: unknown) => {
    if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== REQUEST) return;
    const { id } = m as MetricsRequest;
    // The primary may be gone by the time the answer is ready (killed): the channel then fails with EPIPE, which
    // without a callback is an uncaught 'error' on the process. The worker's 'disconnect' handler shuts it down.
    const reply = (metrics: MetricsJson): void => {
      process.send?.({ type: RESPONSE, id, metrics } satisfies MetricsResponse, undefined, {}, (err) => {
        if (err) log.debug('metrics_reply_failed', { err });
      });
    };
    registry
      .getMetricsAsJSON()
      .then(reply)
      .catch((err: unknown) => {
        log.warn('metrics_collect_failed', { err });
        reply([]);
      });
  });
}

let nextId = 1;

/** Every sample of `metrics` with the label worker="<slot>" added. */
function labelled(metrics: MetricsJson, worker: string): MetricsJson {
  return metrics.map((m) => ({ ...m, values: m.values.map((v) => ({ ...v, labels: { ...v.labels, worker } })) }));
}

/** Asks one worker for its registry; a worker that is exiting or does not answer in time gives nothing. */
function askWorker(w: Worker, id: number, timeoutMs: number): Promise<MetricsJson> {
  return new Promise<MetricsJson>((resolve) => {
    const done = (metrics: MetricsJson): void => {
      clearTimeout(timer);
      w.off('message', onMessage);
      resolve(metrics);
    };
    const timer = setTimeout(() => done([]), timeoutMs);
    function onMessage(m: unknown): void {
      if (isResponse(m) && m.id === id) done(m.metrics);
    }
    w.on('message', onMessage);
    // A worker that is exiting cannot be asked: its channel fails (EPIPE), synchronously or in the callback.
    if (w.isDead() || !w.isConnected()) done([]);
    else w.send({ type: REQUEST, id } satisfies MetricsRequest, undefined, {}, (err) => { if (err) done([]); });
  });
}

/**
 * In the primary: the registry of the whole cluster (its `metrics()` is the Prometheus text, its
 * `getMetricsAsJSON()` feeds the status line). Each worker's samples carry worker="<slot>" (the slot survives
 * the worker's restarts): summed over live workers instead, a worker's death would make every counter drop,
 * which Prometheus takes for a reset and counts the survivors' totals again. `carried` adds, per slot, what the
 * slot's earlier workers counted (supervision-reports.ts).
 */
export async function clusterMetrics(workers: ReadonlyMap<number, Worker>, primaryMetrics: readonly string[], carried: readonly client.Registry[] = [], timeoutMs = 2_000): Promise<client.Registry> {
  const id = nextId++;
  const answers = await Promise.all([...workers].map(async ([slot, w]) => labelled(await askWorker(w, id, timeoutMs), String(slot))));
  const own = ((await registry.getMetricsAsJSON()) as MetricsJson).filter((m) => primaryMetrics.includes(m.name));
  // What earlier workers of a slot counted (labelled worker="<slot>" already): summed with the slot's live worker.
  const kept = await Promise.all(carried.map(async (r) => (await r.getMetricsAsJSON()) as MetricsJson));
  return client.AggregatorRegistry.aggregate([own, ...kept, ...answers]);
}
