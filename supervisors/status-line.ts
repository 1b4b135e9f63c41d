/**
 * The live status line, one every few seconds on stdout, the same in the embedded platform (from its own
 * registry) and in the cluster primary (from the workers' registries aggregated):
 *
 *   [carbon 15:22:33] ticks 20.6/s | predictions 18.0/s | p99 <=50 ms | lag 0 | restarts 0 | partitions 12 | workers 2/2 | models WTI:v3 ... | running
 *
 * Rates and the p99 (of a tick's processing, fetch to durable) are over the last period; lag is the messages not
 * yet processed, summed over partitions; restarts count actors and worker processes since the start.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { writeTerminalLine } from '../platform/logger.ts';

/** One sample; a histogram's say which series they are (`..._bucket`, `..._sum`, `..._count`). */
type Sample = MetricValue<string> & { readonly metricName?: string };

/** A registry as JSON (prom-client's getMetricsAsJSON, or the aggregate of the workers' ones). */
export type MetricsJson = ReadonlyArray<MetricObjectWithValues<Sample>>;

/** The metrics the line is made of (platform/metrics.ts). */
export const statusMetricNames = {
  ticks: 'carbon_ticks_processed_total',
  predictions: 'carbon_predictions_total',
  latency: 'carbon_tick_processing_seconds',
  actorRestarts: 'carbon_actor_restarts_total',
  workerRestarts: 'carbon_worker_restarts_total',
  lag: 'carbon_consumer_lag_messages',
  partitions: 'carbon_partitions_owned',
  modelVersion: 'carbon_model_version',
} as const;

/** What one snapshot of the metrics says. */
export interface StatusSample {
  readonly atMs: number;
  readonly ticks: number;
  readonly predictions: number;
  /** Cumulative counts of the latency histogram by upper bound (seconds), summed over its series. */
  readonly latencyBuckets: ReadonlyMap<number, number>;
  readonly restarts: number;
  /** Undefined while no partition reported any. */
  readonly lag: number | undefined;
  readonly partitions: number;
  /** `WTI:v3`, one per commodity in service (its versions joined by `,` when horizons differ), sorted. */
  readonly models: readonly string[];
}

/** What only the caller knows: the worker processes (cluster) and the platform's state. */
export interface StatusExtra {
  readonly workers?: { readonly live: number; readonly expected: number };
  readonly state: string;
}

function valuesOf(metrics: MetricsJson, name: string): readonly Sample[] {
  return metrics.find((m) => m.name === name)?.values ?? [];
}

function sum(metrics: MetricsJson, name: string): number {
  return valuesOf(metrics, name).reduce((total, v) => total + v.value, 0);
}

/** Cumulative bucket counts of a histogram, summed over its label sets, by upper bound. */
function buckets(metrics: MetricsJson, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of valuesOf(metrics, name)) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le);
    out.set(le, (out.get(le) ?? 0) + v.value);
  }
  return out;
}

/** Per commodity, the versions in service (several workers may report one during a move: the highest wins). */
function modelsOf(metrics: MetricsJson): string[] {
  const versions = new Map<string, Map<string, number>>();
  for (const v of valuesOf(metrics, statusMetricNames.modelVersion)) {
    const commodity = String(v.labels.commodity);
    const horizon = String(v.labels.horizon ?? '');
    const byHorizon = versions.get(commodity) ?? new Map<string, number>();
    byHorizon.set(horizon, Math.max(byHorizon.get(horizon) ?? 0, v.value));
    versions.set(commodity, byHorizon);
  }
  return [...versions]
    .map(([commodity, byHorizon]) => `${commodity}:${[...new Set(byHorizon.values())].sort((a, b) => a - b).map((n) => `v${n}`).join(',')}`)
    .sort();
}

export function sampleOf(metrics: MetricsJson, atMs: number): StatusSample {
  const lagValues = valuesOf(metrics, statusMetricNames.lag);
  return {
    atMs,
    ticks: sum(metrics, statusMetricNames.ticks),
    predictions: sum(metrics, statusMetricNames.predictions),
    latencyBuckets: buckets(metrics, statusMetricNames.latency),
    restarts: sum(metrics, statusMetricNames.actorRestarts) + sum(metrics, statusMetricNames.workerRestarts),
    lag: lagValues.length === 0 ? undefined : lagValues.reduce((total, v) => total + v.value, 0),
    partitions: sum(metrics, statusMetricNames.partitions),
    models: modelsOf(metrics),
  };
}

/** The smallest bucket bound holding 99 % of the observations made between two snapshots. */
export function p99Between(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const last = bounds[bounds.length - 1];
  if (last === undefined) return undefined;
  const count = (after.get(last) ?? 0) - (before.get(last) ?? 0);
  if (count <= 0) return undefined;
  for (const le of bounds) {
    if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= 0.99 * count) return le;
  }
  return undefined;
}

function p99Text(p99: number | undefined): string {
  if (p99 === undefined) return '-';
  if (p99 === Number.POSITIVE_INFINITY) return '>5 s';
  return `<=${p99 < 0.001 ? (p99 * 1000).toFixed(2) : Math.round(p99 * 1000)} ms`;
}

function modelsText(models: readonly string[]): string {
  if (models.length === 0) return 'none yet';
  return models.length > 4 ? `${models.slice(0, 4).join(' ')} +${models.length - 4} more` : models.join(' ');
}

/** The line for the period from `previous` to `now`, with a newline. */
export function statusLine(previous: StatusSample, now: StatusSample, extra: StatusExtra): string {
  const seconds = Math.max(0.001, (now.atMs - previous.atMs) / 1000);
  const parts = [
    `ticks ${((now.ticks - previous.ticks) / seconds).toFixed(1)}/s`,
    `predictions ${((now.predictions - previous.predictions) / seconds).toFixed(1)}/s`,
    `p99 ${p99Text(p99Between(previous.latencyBuckets, now.latencyBuckets))}`,
    `lag ${now.lag === undefined ? '-' : Math.round(now.lag).toLocaleString('en-US')}`,
    `restarts ${now.restarts}`,
    `partitions ${now.partitions}`,
    ...(extra.workers ? [`workers ${extra.workers.live}/${extra.workers.expected}`] : []),
    `models ${modelsText(now.models)}`,
    extra.state,
  ];
  return `[carbon ${new Date(now.atMs).toISOString().slice(11, 19)}] ${parts.join(' | ')}\n`;
}

export interface StatusLineOptions {
  readonly periodMs: number;
  /** The metrics to read, at each period. */
  read(): Promise<MetricsJson>;
  extra(): StatusExtra;
  write?: (line: string) => void;
  /** Wall clock (ms); injected by tests. */
  now?: () => number;
}

export interface StatusLine {
  /** The line of the last period, once there was one (the operators' endpoint serves it). */
  latest(): string | undefined;
  stop(): void;
}

export function startStatusLine(options: StatusLineOptions): StatusLine {
  const write = options.write ?? writeTerminalLine;
  const now = options.now ?? Date.now;
  let previous: StatusSample | undefined;
  let latest: string | undefined;
  const report = async (): Promise<void> => {
    const sample = sampleOf(await options.read(), now());
    if (previous !== undefined) {
      latest = statusLine(previous, sample, options.extra());
      write(latest);
    }
    previous = sample;
  };
  const tick = (): void => {
    report().catch((err: unknown) => write(`[carbon] status unavailable: ${err instanceof Error ? err.message : String(err)}\n`));
  };
  // The first sample at once, so that the first line covers a full period.
  tick();
  const timer = setInterval(tick, options.periodMs);
  timer.unref();
  return { latest: () => latest, stop: () => clearInterval(timer) };
}
