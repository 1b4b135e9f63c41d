/**
 * Supervision counts that outlive a worker. Each cluster worker tells its primary of every crash, restart,
 * escalation and recovery as it counts it; the primary keeps, per worker slot, the totals of the worker running in
 * it, and when that worker exits (a SIGKILL included) adds them to the slot's carried totals, which the cluster's
 * /metrics adds to the slot's live worker. So carbon_actor_crashes_total and its siblings never go back for a slot:
 * a worker's restart is not a counter reset, and nothing a dead worker counted is lost with it.
 */
import client from 'prom-client';
import { actorCrashes, actorRestarts, escalations, latencyBuckets, recoverySeconds } from '../../platform/metrics.ts';
import type { SupervisionLevel, SupervisionMetrics } from '../supervise.ts';

const TYPE = 'carbon:supervision';

/** From a worker to its primary: one supervision event. */
export type SupervisionReport =
  | { readonly type: typeof TYPE; readonly event: 'crashed' | 'escalated'; readonly level: SupervisionLevel }
  | { readonly type: typeof TYPE; readonly event: 'restarted'; readonly level: SupervisionLevel; readonly reason: string }
  | { readonly type: typeof TYPE; readonly event: 'recovered'; readonly seconds: number };

export const isSupervisionReport = (m: unknown): m is SupervisionReport =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === TYPE;

/** A worker's metrics: counted locally as everywhere, and each event sent to the primary too. */
export function reportingSupervisionMetrics(local: SupervisionMetrics, send: (report: SupervisionReport) => void): SupervisionMetrics {
  return {
    ...local,
    crashed: (level) => {
      local.crashed(level);
      send({ type: TYPE, event: 'crashed', level });
    },
    restarted: (level, reason) => {
      local.restarted(level, reason);
      send({ type: TYPE, event: 'restarted', level, reason });
    },
    escalated: (level) => {
      local.escalated(level);
      send({ type: TYPE, event: 'escalated', level });
    },
    recovered: (seconds) => {
      local.recovered(seconds);
      send({ type: TYPE, event: 'recovered', seconds });
    },
  };
}

/** The primary's side: per slot, the reports of its live worker, and the totals carried from the workers before it. */
export class CarriedSupervisionCounts {
  private readonly live = new Map<number, SupervisionReport[]>();
  readonly registry = new client.Registry();
  private readonly crashes = this.counter(actorCrashes, ['level']);
  private readonly restarts = this.counter(actorRestarts, ['level', 'reason']);
  private readonly escalations = this.counter(escalations, ['level']);
  private readonly recoveries = new client.Histogram({ name: 'carbon_recovery_seconds', help: help(recoverySeconds), labelNames: ['worker'], buckets: latencyBuckets, registers: [this.registry] });

  private counter<L extends string>(like: client.Counter<L>, labelNames: readonly L[]): client.Counter<L | 'worker'> {
    return new client.Counter({ name: (like as unknown as { name: string }).name, help: help(like), labelNames: [...labelNames, 'worker'], registers: [this.registry] });
  }

  record(slot: number, report: SupervisionReport): void {
    let reports = this.live.get(slot);
    if (reports === undefined) this.live.set(slot, (reports = []));
    reports.push(report);
  }

  /** The worker of `slot` exited: what it counted is carried into the slot's totals. */
  retire(slot: number): void {
    const worker = String(slot);
    for (const r of this.live.get(slot) ?? []) {
      switch (r.event) {
        case 'crashed':
          this.crashes.inc({ level: r.level, worker });
          break;
        case 'escalated':
          this.escalations.inc({ level: r.level, worker });
          break;
        case 'restarted':
          this.restarts.inc({ level: r.level, reason: r.reason, worker });
          break;
        case 'recovered':
          this.recoveries.observe({ worker }, r.seconds);
          break;
        default: {
          const unknown: never = r;
          throw new Error(`unknown supervision report ${JSON.stringify(unknown)}`);
        }
      }
    }
    this.live.delete(slot);
  }
}

function help(metric: object): string {
  return (metric as { help: string }).help;
}
