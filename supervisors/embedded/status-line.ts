/**
 * The embedded platform's live status, one line every few seconds on stdout: ticks/s, predictions/s, p99 of a
 * tick's processing (fetch to durable) over the last period, actor restarts, and the model version per commodity.
 */
import client from 'prom-client';
import { actorRestarts, modelVersion, predictionsTotal, tickProcessingSeconds, ticksProcessed } from '../../platform/metrics.ts';

async function total(metric: client.Metric): Promise<number> {
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

/** Cumulative bucket counts of a histogram, summed over its label sets, by upper bound. */
async function buckets(metric: client.Histogram): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const v of (await metric.get()).values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le);
    out.set(le, (out.get(le) ?? 0) + v.value);
  }
  return out;
}

/** The smallest bucket bound holding 99 % of the observations made between two snapshots. */
export function p99Between(before: Map<number, number>, after: Map<number, number>): number | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const last = bounds[bounds.length - 1];
  const count = (after.get(last as number) ?? 0) - (before.get(last as number) ?? 0);
  if (count <= 0) return undefined;
  for (const le of bounds) {
    if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= 0.99 * count) return le;
  }
  return undefined;
}

export interface StatusLine {
  stop(): void;
}

export function startStatusLine(periodMs: number, extra: () => string, write: (line: string) => void = (l) => process.stdout.write(l)): StatusLine {
  let previous = { at: performance.now(), ticks: 0, predictions: 0, buckets: new Map<number, number>() };
  const report = async (): Promise<void> => {
    const now = { at: performance.now(), ticks: await total(ticksProcessed), predictions: await total(predictionsTotal), buckets: await buckets(tickProcessingSeconds) };
    const seconds = Math.max(0.001, (now.at - previous.at) / 1000);
    const p99 = p99Between(previous.buckets, now.buckets);
    const ticksPerS = (now.ticks - previous.ticks) / seconds;
    const predictionsPerS = (now.predictions - previous.predictions) / seconds;
    previous = now;
    const versions = (await modelVersion.get()).values.map((v) => `${v.labels.commodity}:v${v.value}`).sort();
    const models = versions.length === 0 ? 'none yet' : versions.length > 4 ? `${versions.slice(0, 4).join(' ')} +${versions.length - 4} more` : versions.join(' ');
    const p99Text = p99 === undefined ? '-' : p99 === Number.POSITIVE_INFINITY ? '>5 s' : `<=${p99 < 0.001 ? (p99 * 1000).toFixed(2) : Math.round(p99 * 1000)} ms`;
    write(`[carbon ${new Date().toISOString().slice(11, 19)}] ticks ${ticksPerS.toFixed(1)}/s | predictions ${predictionsPerS.toFixed(1)}/s | ` +
      `p99 ${p99Text} | restarts ${await total(actorRestarts)} | models ${models}${extra()}\n`);
  };
  const timer = setInterval(() => {
    report().catch((err: unknown) => write(`[carbon] status unavailable: ${err instanceof Error ? err.message : String(err)}\n`));
  }, periodMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
