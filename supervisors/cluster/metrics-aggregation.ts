/**
 * Cluster-wide metrics: the primary asks every worker for its registry (as JSON, over the cluster IPC channel)
 * and merges them with its own through prom-client's AggregatorRegistry (counters and histograms summed).
 */
import type { Worker } from 'node:cluster';
import client, { type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { registry } from '../../platform/metrics.ts';

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
    registry
      .getMetricsAsJSON()
      .then((metrics) => process.send?.({ type: RESPONSE, id, metrics } satisfies MetricsResponse))
      .catch(() => process.send?.({ type: RESPONSE, id, metrics: [] } satisfies MetricsResponse));
  });
}

let nextId = 1;

/** In the primary: the Prometheus text of the whole cluster; a worker that does not answer in time is left out. */
export async function clusterMetricsText(workers: readonly Worker[], timeoutMs = 2_000): Promise<string> {
  const id = nextId++;
  const answers = await Promise.all(workers.map((w) => new Promise<MetricsJson>((resolve) => {
    const timer = setTimeout(() => {
      w.off('message', onMessage);
      resolve([]);
    }, timeoutMs);
    function onMessage(m: unknown): void {
      if (!isResponse(m) || m.id !== id) return;
      clearTimeout(timer);
      w.off('message', onMessage);
      resolve(m.metrics);
    }
    w.on('message', onMessage);
    const giveUp = (): void => {
      clearTimeout(timer);
      w.off('message', onMessage);
      resolve([]);
    };
    // A worker that is exiting cannot be asked: its channel fails (EPIPE), synchronously or in the callback.
    if (!w.isConnected()) giveUp();
    else w.send({ type: REQUEST, id } satisfies MetricsRequest, undefined, {}, (err) => { if (err) giveUp(); });
  })));
  const own = (await registry.getMetricsAsJSON()) as MetricsJson;
  const merged = client.AggregatorRegistry.aggregate([own, ...answers]);
  return merged.metrics();
}
