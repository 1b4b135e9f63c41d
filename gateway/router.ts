/**
 * Routing a question about a commodity to its owner: the worker holding partitionOf(commodity) (the frozen
 * partitioner of the producers). Local partition: the actor; remote: a forwarded call to the owner's internal
 * endpoint; owner unknown, or silent within the call's budget: the online store with this worker's model
 * replica, marked degraded. The owner gets at most `ownerTimeoutMs` and at most 60 % of what remains, so
 * that a degraded answer still fits in the deadline.
 */
import { predictionOf } from '../actors/commodity/prediction-message.ts';
import type { ForecasterLookup } from '../actors/commodity/protocol.ts';
import { featureVectorOf } from '../actors/features/features-message.ts';
import { partitionOf } from '../connectors/partitioner.ts';
import type { OnlineStore } from '../connectors/redis/online-store.ts';
import type { Logger } from '../platform/logger.ts';
import { degradedAnswers } from '../platform/metrics.ts';
import type { Features } from '../proto/gen/carbon/v1/features.ts';
import type { HorizonState } from '../proto/gen/carbon/v1/internal.ts';
import type { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import { GatewayError } from './errors.ts';
import { localState, type LocalPipeline, type LocalState } from './local-owner.ts';
import { degradedCauses, remainingMs, TIGHT_BUDGET_MS, type Budget, type Degradation, type OwnerAnswer } from './owner-answer.ts';
import type { OwnerClients } from './owner-client.ts';
import type { OwnershipView } from './ownership-view.ts';
import { SingleFlight } from './single-flight.ts';
import { TimeoutError, withTimeout } from './with-timeout.ts';

export interface RouterDeps {
  readonly partitionCount: number;
  readonly pipeline: LocalPipeline;
  readonly online: OnlineStore;
  readonly forecasters: Pick<ForecasterLookup, 'servingFor'>;
  readonly view: OwnershipView;
  readonly peers: OwnerClients;
  /** This worker's identity in the ownership table. */
  readonly workerId: string;
  readonly ownerTimeoutMs: number;
  readonly log: Logger;
}

/** Share of the remaining budget the owner may use before the gateway falls back to the degraded answer. */
const OWNER_SHARE = 0.6;

export class Router {
  private readonly partitions = new Map<string, number>();
  private readonly localReads = new SingleFlight<LocalState>();

  constructor(private readonly deps: RouterDeps) {
    // Every cause at 0 from the start, so that a panel shows none rather than nothing, and rate() its first.
    for (const cause of degradedCauses) degradedAnswers.inc({ cause }, 0);
  }

  /** Cached: the partitioner hashes the key, and the same few commodities are asked again and again. */
  partitionOf(commodity: string): number {
    let p = this.partitions.get(commodity);
    if (p === undefined) {
      p = partitionOf(commodity, this.deps.partitionCount);
      if (this.partitions.size > 100_000) this.partitions.clear();
      this.partitions.set(commodity, p);
    }
    return p;
  }

  /** The champions this worker holds for a commodity (it may not own it), as horizon states. */
  horizonsOf(commodity: string): HorizonState[] {
    return (this.deps.forecasters.servingFor(commodity)?.champions ?? []).map((c) => ({ horizonTicks: c.forecaster.horizonTicks, modelVersion: c.version, noForecastReason: '' }));
  }

  /**
   * The state of a commodity of a local partition (its actor's, or the online store's when no actor holds it),
   * within `timeoutMs`; concurrent asks of the same commodity share one actor query (single-flight.ts). Serves
   * this worker's own calls and its peers' forwarded ones.
   */
  localState(partition: number, commodity: string, timeoutMs: number): Promise<LocalState> {
    return this.localReads.run(`${partition}|${commodity}`, Date.now() + timeoutMs, () =>
      localState(this.deps.pipeline, this.deps.online, (c) => this.horizonsOf(c), partition, commodity, timeoutMs));
  }

  async resolve(commodity: string, budget: Budget): Promise<OwnerAnswer> {
    const partition = this.partitionOf(commodity);
    const ownerBudgetMs = Math.min(this.deps.ownerTimeoutMs, remainingMs(budget) * OWNER_SHARE);
    if (ownerBudgetMs < 1) throw new GatewayError('DEADLINE_EXCEEDED', `the call's deadline leaves no time to ask the owner of ${commodity}`);
    if (this.deps.view.isLocal(partition)) {
      try {
        const s = await this.localState(partition, commodity, ownerBudgetMs);
        return { path: 'local', partition, owner: this.deps.workerId, ...s };
      } catch (err) {
        this.deps.log.debug('gateway_local_owner_failed', { commodity, partition, err });
        return this.degraded(commodity, partition, budget, { cause: 'local_failed', reason: `this worker owns it and could not answer: ${(err as Error).message}` });
      }
    }
    const owner = this.deps.view.ownerOf(partition);
    if (owner === undefined || owner.workerId === this.deps.workerId) {
      return this.degraded(commodity, partition, budget, { cause: 'owner_unknown', reason: `no worker holds partition ${partition} now (a rebalance is under way)` });
    }
    const forwarded = await this.deps.peers.forward(owner.endpoint, commodity, partition, ownerBudgetMs);
    if (!forwarded.ok) {
      this.deps.log.debug('gateway_forward_failed', { commodity, partition, cause: forwarded.cause, reason: forwarded.reason });
      // Silence within a budget that the call's own deadline made tight is no sign of a failing owner.
      if (forwarded.cause === 'silent' && ownerBudgetMs < TIGHT_BUDGET_MS) {
        return this.degraded(commodity, partition, budget, { cause: 'caller_deadline', reason: `the call's deadline left owner ${owner.workerId} ${Math.floor(ownerBudgetMs)} ms, and it did not answer within them` });
      }
      this.deps.view.refresh();
      return this.degraded(commodity, partition, budget, { cause: `owner_${forwarded.cause}`, reason: `owner ${owner.workerId} at ${forwarded.reason}` });
    }
    const r = forwarded.response;
    // An owner older than horizons answers with its one prediction and version only.
    const horizons = r.horizons.length > 0 ? r.horizons : [{ horizonTicks: r.prediction?.horizonTicks ?? 1, modelVersion: r.modelVersion, noForecastReason: '' }];
    const predictions = r.predictions.length > 0 ? r.predictions : r.prediction === undefined ? [] : [r.prediction];
    return { path: 'forwarded', partition, fromActor: r.fromActor, features: r.features, predictions, horizons, owner: r.owner };
  }

  /**
   * The last durable outputs, with a forecast from this worker's champion of a horizon when it holds one for the
   * commodity and the stored prediction is not that champion's for the latest tick. Forecasters are not loaded
   * here: a degraded answer must not wait for Postgres, and the stored prediction is the owner's own.
   */
  private async degraded(commodity: string, partition: number, budget: Budget, degradation: Degradation): Promise<OwnerAnswer> {
    degradedAnswers.inc({ cause: degradation.cause });
    let latest: { features: Features | undefined; predictions: readonly Prediction[] };
    try {
      latest = await withTimeout(this.deps.online.getLatest(commodity), remainingMs(budget), 'the online store');
    } catch (err) {
      if (err instanceof TimeoutError) throw new GatewayError('DEADLINE_EXCEEDED', `neither the owner of ${commodity} (partition ${partition}) nor the online store answered within the deadline (${degradation.reason})`);
      throw new GatewayError('STORE_UNAVAILABLE', `the owner of ${commodity} (partition ${partition}) could not answer (${degradation.reason}) and the online store failed: ${(err as Error).message}; retry`);
    }
    const f = latest.features;
    const byHorizon = new Map(latest.predictions.map((p) => [p.horizonTicks, p]));
    const horizons: HorizonState[] = [];
    for (const champion of this.deps.forecasters.servingFor(commodity)?.champions ?? []) {
      const h = champion.forecaster.horizonTicks;
      const stored = byHorizon.get(h);
      const current = stored !== undefined && f !== undefined && stored.tickTsMs === f.tsMs && stored.modelVersion === champion.version;
      let noForecastReason = '';
      if (f !== undefined && !current) {
        const result = champion.forecaster.forecast(featureVectorOf(f));
        if (result.ok) byHorizon.set(h, predictionOf(commodity, champion, result.distribution, f, 0, Date.now()));
        else noForecastReason = result.reason;
      }
      horizons.push({ horizonTicks: h, modelVersion: champion.version, noForecastReason });
    }
    for (const p of byHorizon.values()) {
      if (!horizons.some((h) => h.horizonTicks === p.horizonTicks)) horizons.push({ horizonTicks: p.horizonTicks, modelVersion: p.modelVersion, noForecastReason: '' });
    }
    const predictions = [...byHorizon.values()].sort((a, b) => a.horizonTicks - b.horizonTicks);
    return { path: 'degraded', partition, fromActor: false, features: f, predictions, horizons: horizons.sort((a, b) => a.horizonTicks - b.horizonTicks), owner: '', degradation };
  }
}

