/**
 * What a PromQL query of ours may name: the series that platform/metrics.ts exports (histograms as _bucket, _sum and
 * _count), their labels, the labels Prometheus adds when it scrapes, and the additions asked of the platform that
 * are not in the catalogue yet (`requested`, each with the alert or panel that needs it).
 */
import { collectProcessMetrics, registry } from '../../platform/metrics.ts';

export interface CatalogueSeries {
  readonly metric: string;
  readonly type: string;
  readonly labels: readonly string[];
}

/**
 * Added by the scrape (Kubernetes service discovery through the ServiceMonitor, or a static target), and `worker`,
 * which the cluster primary adds to every sample of its workers (supervisors/cluster/metrics-aggregation.ts).
 */
export const addedLabels: readonly string[] = ['namespace', 'pod', 'instance', 'job', 'service', 'endpoint', 'container', 'worker'];

/** Metrics of Prometheus itself that rules may use. */
export const prometheusSeries: readonly string[] = ['up'];

/**
 * Asked of the platform (platform/metrics.ts), with the reason. A rule or panel may use these before they exist;
 * once the catalogue has them, the entry is redundant and can go. Empty: everything asked so far (the trained time
 * of the model in service, the commodity and partition labels) is in the catalogue.
 */
export const requested: ReadonlyMap<string, { readonly labels: readonly string[]; readonly why: string }> = new Map();

/** Every series name of the catalogue with its labels (histogram buckets also carry `le`). */
export async function catalogueSeries(): Promise<Map<string, CatalogueSeries>> {
  const series = new Map<string, CatalogueSeries>();
  // The workers' process series (RSS, GC) are part of what they export.
  collectProcessMetrics();
  for (const metric of registry.getMetricsAsArray()) {
    // prom-client keeps each metric's configuration on the object; its typings expose only part of it.
    const { name, labelNames, get } = metric as unknown as {
      name: string;
      labelNames: readonly string[];
      get(this: unknown): Promise<{ type: string }>;
    };
    const { type } = await get.call(metric);
    if (type === 'histogram') {
      series.set(`${name}_bucket`, { metric: name, type, labels: [...labelNames, 'le'] });
      series.set(`${name}_sum`, { metric: name, type, labels: labelNames });
      series.set(`${name}_count`, { metric: name, type, labels: labelNames });
    } else if (type === 'summary') {
      series.set(name, { metric: name, type, labels: [...labelNames, 'quantile'] });
      series.set(`${name}_sum`, { metric: name, type, labels: labelNames });
      series.set(`${name}_count`, { metric: name, type, labels: labelNames });
    } else {
      series.set(name, { metric: name, type, labels: labelNames });
    }
  }
  return series;
}
