/**
 * The alerts of a running Prometheus, for the live alert tests: what /api/v1/alerts holds now (pending and
 * firing), a watch that polls it throughout a scenario, and the ALERTS series that Prometheus wrote at every
 * evaluation (which no gap between polls can hide).
 */
import { instantQuery } from '../deploy/tools/live-queries.ts';

export interface ActiveAlert {
  readonly name: string;
  readonly state: 'pending' | 'firing';
  readonly labels: Readonly<Record<string, string>>;
  readonly activeAt: string;
  readonly value: string;
}

interface AlertsResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { alerts: { labels: Record<string, string>; state: 'pending' | 'firing'; activeAt: string; value: string }[] };
}

export async function activeAlerts(prometheusUrl: string): Promise<ActiveAlert[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(10_000) });
  const answer = (await res.json()) as AlertsResponse;
  if (answer.status !== 'success' || answer.data === undefined) throw new Error(`/api/v1/alerts: ${answer.error ?? `HTTP ${res.status}`}`);
  return answer.data.alerts.map((a) => ({ name: a.labels.alertname ?? '', state: a.state, labels: a.labels, activeAt: a.activeAt, value: a.value }));
}

export const describeAlert = (a: ActiveAlert): string =>
  `${a.name} ${a.state} since ${a.activeAt} (value ${a.value}) ${JSON.stringify(a.labels)}`;

export interface AlertWatch {
  /** Polls done so far. */
  polls(): number;
  /** Every alert seen so far, each alert and state once, with when it was first seen (ms since the watch began). */
  seen(): readonly { readonly alert: ActiveAlert; readonly atMs: number }[];
  /** Ends the polling; rejects if a poll failed (the watch would have a gap). */
  stop(): Promise<void>;
}

/** Polls /api/v1/alerts every `intervalMs` until stopped. */
export function watchAlerts(prometheusUrl: string, intervalMs = 1_000): AlertWatch {
  const startedMs = Date.now();
  const seen = new Map<string, { alert: ActiveAlert; atMs: number }>();
  let polls = 0;
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      for (const a of await activeAlerts(prometheusUrl)) {
        const key = `${a.state} ${JSON.stringify(a.labels)}`;
        if (!seen.has(key)) seen.set(key, { alert: a, atMs: Date.now() - startedMs });
      }
      polls++;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  // Kept for stop(): a failed poll ends the loop, and is reported there rather than as an unhandled rejection.
  const outcome = running.then(() => undefined, (err: unknown) => err);
  return {
    polls: () => polls,
    seen: () => [...seen.values()],
    async stop() {
      stopped = true;
      const err = await outcome;
      if (err !== undefined) throw err;
    },
  };
}

/**
 * Every alert (name and state) that Prometheus recorded as pending or firing at any evaluation in the last
 * `sinceS` seconds: the ALERTS series.
 */
export async function alertsRecorded(prometheusUrl: string, sinceS: number): Promise<string[]> {
  const answer = await instantQuery(prometheusUrl, `max_over_time(ALERTS[${Math.ceil(sinceS)}s])`);
  if (answer.error !== undefined) throw new Error(`ALERTS: ${answer.error}`);
  return answer.series.map((s) => `${s.labels.alertname} ${s.labels.alertstate} ${JSON.stringify(s.labels)}`);
}

/**
 * How often the alert tests' Prometheus scrapes and evaluates, and its scrape timeout: above the 2 s that the
 * cluster primary's /metrics waits for a slow worker (metrics-aggregation.ts), as the deployed timeout (10 s,
 * deploy/k8s/base/service-monitor.yaml) is. At 2 s, a worker slow to answer on a loaded node fails the scrape, and
 * up == 0 puts CarbonWorkerDown into pending on a healthy cluster.
 */
export const ALERT_TEST_INTERVAL_S = 5;
