/**
 * The commodity actor: keeps the rolling window of one commodity, turns each tick of its ledger into features,
 * a prediction (when a model is in service) and maybe an alert, and hands them to the sink. State changes come
 * from the pure `applyTick`; I/O leaves only through the ports (history store, sink, replica).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../platform/logger.ts';
import type { TypedRef } from '../../supervisors/typed-actors.ts';
import type { HistoryStore } from '../../connectors/postgres/history-store.ts';
import { alertsTotal, inferenceSeconds, liveCoverage, liveHitRate, predictionsSkipped, predictionsTotal, tickProcessingSeconds, ticksProcessed, ticksSkipped } from '../../platform/metrics.ts';
import { Alert, AlertKind } from '../../proto/gen/carbon/v1/alert.ts';
import type { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import type { FeatureVector } from '../features/compute-features.ts';
import type { SinkPort } from '../sinks/tick-outputs.ts';
import { ChaosError } from './chaos-error.ts';
import { awaitOutcome, realizeOutcomes } from './live-outcomes.ts';
import type { CommodityLedger, PendingTick } from './ledger.ts';
import type { CommodityMsg, CommoditySnapshot, PoisonRules, ReplicaLookup } from './protocol.ts';
import { applyTick, initialState, rebuiltState, type CommodityState } from './state.ts';

/** Reading the stores failed: the actor restarts and retries, but the tick at the head is not to blame. */
export class RebuildError extends Error {
  override readonly name = 'RebuildError';
  readonly code = 'rebuild_failed';
}

export interface CommodityActorDeps {
  readonly commodity: string;
  /** The prices topic's partition the commodity belongs to (a metric label). */
  readonly partition: number;
  readonly windowSize: number;
  readonly zScoreThreshold: number;
  readonly ledger: CommodityLedger;
  readonly sink: SinkPort;
  readonly history: HistoryStore;
  readonly models: ReplicaLookup;
  readonly poison: PoisonRules | undefined;
  /** A tick left the ledger for good: its outputs are durable, or it had none to make. */
  readonly finished: (entry: PendingTick) => void;
  /** A tick cannot be processed: the partition dead-letters it, then finishes it. */
  readonly rejected: (entry: PendingTick, reason: string, detail: string) => void;
  readonly log: Logger;
  /** Replies to a query. */
  readonly reply: (replyTo: TypedRef<CommoditySnapshot | undefined>, value: CommoditySnapshot) => void;
}

export interface CommodityBehaviour {
  initialState(): CommodityState;
  handle(state: CommodityState, msg: CommodityMsg): Promise<CommodityState>;
}

export function commodityBehaviour(deps: CommodityActorDeps): CommodityBehaviour {
  const { commodity, ledger } = deps;
  // Labelled series resolved once per actor, not hashed again on every tick.
  const processedHere = ticksProcessed.labels({ partition: String(deps.partition) });
  const predicted = predictionsTotal.labels({ commodity });
  const skippedNoModel = predictionsSkipped.labels({ commodity, reason: 'no_model' });
  const skippedIncomplete = predictionsSkipped.labels({ commodity, reason: 'inputs_incomplete' });
  let warnedNoModel = false;

  /**
   * The window before the first tick to process: from the ledger's memory after a restart (no I/O on the
   * recovery path), from Postgres plus the ledger's undurable ticks the first time (a new assignment, a worker
   * restart), which also seeds the ledger's memory.
   */
  async function rebuild(state: CommodityState, firstTsMs: number): Promise<CommodityState> {
    // Snapshot the ledger first: whatever becomes durable while Postgres is read is then in one of the two.
    const undurable = ledger.undurable().filter((p) => p.tsMs < firstTsMs);
    const cached = ledger.durableHistory();
    if (cached) {
      const ticks = [...cached.filter((p) => p.tsMs < firstTsMs), ...undurable];
      return rebuiltState(state, { ticks, tickCount: ticks[ticks.length - 1]?.tickCount ?? 0 });
    }
    let stored;
    try {
      // The model in service is part of what an actor rebuilds: a restart must not skip predictions.
      [stored] = await Promise.all([deps.history.loadBefore(commodity, firstTsMs, deps.windowSize), deps.models.ensureLoaded(commodity)]);
    } catch (err) {
      throw new RebuildError(`cannot rebuild the window of ${commodity}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const newest = undurable[undurable.length - 1];
    const storedNewest = stored.ticks[stored.ticks.length - 1];
    const tickCount = newest && (!storedNewest || newest.tsMs >= storedNewest.tsMs) ? newest.tickCount : stored.tickCount;
    const next = rebuiltState(state, { ticks: [...stored.ticks, ...undurable], tickCount });
    ledger.seedHistory(next.window.ticks, next.tickCount);
    return next;
  }

  function predict(features: FeatureVector, tick: PriceTick): Prediction | undefined {
    const replica = deps.models.replicaFor(commodity);
    if (!replica) {
      skippedNoModel.inc();
      if (!warnedNoModel) deps.log.info('no_model_in_service', { commodity, note: 'ticks get features but no prediction until a model is promoted' });
      warnedNoModel = true;
      return undefined;
    }
    warnedNoModel = false;
    const started = performance.now();
    const prediction = replica.predict(commodity, features, tick);
    inferenceSeconds.observe((performance.now() - started) / 1000);
    if (prediction) predicted.inc();
    else skippedIncomplete.inc();
    return prediction;
  }

  function alertFor(features: FeatureVector, tick: PriceTick): Alert | undefined {
    const z = features.zScore;
    if (z === undefined || Math.abs(z) <= deps.zScoreThreshold) return undefined;
    alertsTotal.inc({ kind: 'return_zscore' });
    return {
      commodity,
      tsMs: tick.tsMs,
      kind: AlertKind.ALERT_KIND_RETURN_ZSCORE,
      price: tick.price,
      simpleReturn: features.simpleReturn ?? 0,
      zScore: z,
      threshold: deps.zScoreThreshold,
      message: `${commodity} moved ${((features.simpleReturn ?? 0) * 100).toFixed(2)} % (z = ${z.toFixed(1)}, threshold ${deps.zScoreThreshold})`,
    };
  }

  async function drain(state: CommodityState): Promise<CommodityState> {
    const first = ledger.head();
    // With nothing pending (a restart between two ticks), rebuild anyway: the actor is ready again before the
    // next tick arrives, and the recovery time measures the rebuild, not the wait for that tick.
    if (!first) return state.rebuilt ? state : rebuild(state, Number.MAX_SAFE_INTEGER);
    let s = state.rebuilt ? state : await rebuild(state, first.tick.tsMs);
    for (let entry = ledger.head(); entry; entry = ledger.head()) {
      const { tick } = entry;
      if (deps.poison?.isPoison(tick)) throw new ChaosError(`poison tick ${commodity} at ${tick.tsMs}`);
      const result = applyTick(s, tick);
      if (result.kind === 'duplicate') {
        ledger.shift();
        ticksSkipped.inc({ reason: 'duplicate' });
        deps.finished(entry);
        continue;
      }
      if (result.kind === 'outOfOrder') {
        ledger.shift();
        deps.rejected(entry, 'out_of_order', `tick at ${tick.tsMs} is older than the latest (${result.latestTsMs}) with another price`);
        continue;
      }
      const { features } = result;
      const prediction = predict(features, tick);
      const alert = alertFor(features, tick);
      const realized = realizeOutcomes(result.state.outcomes, features.tickCount, tick.price);
      // Everything that can throw is done: the tick leaves the ledger's pending side only now.
      ledger.shift();
      s = {
        ...result.state,
        latestPrediction: prediction ?? result.state.latestPrediction,
        outcomes: prediction ? awaitOutcome(realized, prediction, features.tickCount) : realized,
      };
      if (realized.realized > result.state.outcomes.realized) {
        liveHitRate.set({ commodity }, realized.hits / realized.realized);
        liveCoverage.set({ commodity }, realized.covered / realized.realized);
      }
      ledger.processedAwaitingDurability({ tsMs: tick.tsMs, price: tick.price, tickCount: features.tickCount });
      processedHere.inc();
      const done = entry;
      deps.sink.submit({ tick, features, prediction, alert }, () => {
        tickProcessingSeconds.observe((performance.now() - done.fetchedAtMs) / 1000);
        ledger.durable();
        deps.finished(done);
      });
    }
    return s;
  }

  return {
    initialState: () => initialState(commodity, deps.windowSize),
    async handle(state, msg) {
      switch (msg.type) {
        case 'drain':
          return drain(state);
        case 'getSnapshot': {
          const snapshot: CommoditySnapshot = {
            commodity,
            features: state.latestFeatures,
            prediction: state.latestPrediction,
            modelVersion: deps.models.replicaFor(commodity)?.version ?? 0,
          };
          deps.reply(msg.replyTo, snapshot);
          return state;
        }
        case 'crash':
          throw new ChaosError(msg.reason);
        default: {
          const unknown: never = msg;
          throw new Error(`commodity actor got an unknown message ${JSON.stringify(unknown)}`);
        }
      }
    },
  };
}
