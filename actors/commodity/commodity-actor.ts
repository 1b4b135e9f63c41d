/**
 * The commodity actor: keeps the rolling window of one commodity and turns each tick delivered to it into features,
 * a forecast per served horizon from its champion, the challengers' shadow forecasts and scores, and maybe an
 * alert, and settles the tick with them at its partition. State changes come from pure functions (`applyTick`, the
 * shadow scoring); I/O leaves only through the ports (history store, outcomes, forecaster lookup, model decisions).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../platform/logger.ts';
import type { TypedRef } from '../typed-ref.ts';
import {
  alertsTotal,
  distributionShift,
  inferenceSeconds,
  liveCoverage,
  liveHitRate,
  predictionsSkipped,
  predictionsTotal,
  shadowIntervalScoreRatio,
  shadowOutcomes,
  ticksProcessed,
  ticksSkipped,
} from '../../platform/metrics.ts';
import { Alert, AlertKind } from '../../proto/gen/carbon/v1/alert.ts';
import type { HorizonState } from '../../proto/gen/carbon/v1/internal.ts';
import type { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import type { FeatureVector } from '../features/compute-features.ts';
import type { PricePoint } from '../features/window.ts';
import { MODEL_INPUT_NAMES, modelInputs } from '../forecast/model-inputs.ts';
import { SHIFT_ALARM_PSI } from '../forecast/distribution-shift.ts';
import { ChaosError } from './chaos-error.ts';
import { readStores } from './store-reads.ts';
import type { HistoryStore, StoredHistory } from './history-port.ts';
import type { CommodityLedger } from './ledger.ts';
import { awaitOutcome, realizeOutcomes } from './live-outcomes.ts';
import { predictionOf } from './prediction-message.ts';
import type { CommodityMsg, CommoditySnapshot, ForecasterLookup, ModelDecisions, PoisonRules, ServingSet, TickDelivery, TickOutcomes } from './protocol.ts';
import { catchUp, judgePastTick, StoredPrices, type PastTickVerdict } from './past-ticks.ts';
import type { ShadowBook } from './shadow-book.ts';
import { awaitOutcomes, duePromotions, keepServed, settleOutcomes, type AwaitingOutcome, type ShadowScore } from './shadow-scoring.ts';
import { applyTick, initialState, rebuiltState, type CommodityState } from './state.ts';

/** Reading the stores failed (a rebuild, a replay's stored prices): the actor restarts and retries, but the tick at the head is not to blame. */
export class RebuildError extends Error {
  override readonly name = 'RebuildError';
  readonly code = 'rebuild_failed';
}

/** Ticks between two looks at the distribution shift. */
const SHIFT_CHECK_EVERY = 25;

export interface CommodityActorDeps {
  readonly commodity: string;
  /** The prices topic's partition the commodity belongs to (a metric label). */
  readonly partition: number;
  readonly windowSize: number;
  readonly zScoreThreshold: number;
  readonly ledger: CommodityLedger;
  readonly book: ShadowBook;
  readonly outcomes: TickOutcomes;
  readonly history: HistoryStore;
  readonly forecasters: ForecasterLookup;
  readonly decisions: ModelDecisions;
  readonly poison: PoisonRules | undefined;
  readonly log: Logger;
  /** Replies to a query. */
  readonly reply: (replyTo: TypedRef<CommoditySnapshot | undefined>, value: CommoditySnapshot) => void;
}

export interface CommodityBehaviour {
  initialState(): CommodityState;
  handle(state: CommodityState, msg: CommodityMsg): Promise<CommodityState>;
}

/** What the champions and challengers make of one tick. */
interface TickForecasts {
  readonly predictions: Prediction[];
  readonly noForecast: Map<number, string>;
  readonly awaiting: AwaitingOutcome[];
}

/** Forecasts of every champion (predictions) and challenger (shadow) at the tick of `features`. Pure but for the clock. */
function forecastTick(commodity: string, serving: ServingSet | undefined, features: FeatureVector, tick: { tsMs: number; price: number }): TickForecasts {
  const out: TickForecasts = { predictions: [], noForecast: new Map(), awaiting: [] };
  if (serving === undefined) return out;
  const started = performance.now();
  const now = Date.now();
  for (const champion of serving.champions) {
    const h = champion.forecaster.horizonTicks;
    const result = champion.forecaster.forecast(features);
    if (!result.ok) {
      out.noForecast.set(h, result.reason);
      continue;
    }
    out.predictions.push(predictionOf(commodity, champion, result.distribution, tick, (performance.now() - started) * 1_000, now));
    const challengers = [];
    for (const shadow of serving.shadows) {
      if (shadow.forecaster.horizonTicks !== h) continue;
      const r = shadow.forecaster.forecast(features);
      if (r.ok) challengers.push({ family: shadow.forecaster.family, modelVersion: shadow.version, quantiles: r.distribution.quantiles });
    }
    out.awaiting.push({
      horizonTicks: h,
      dueTickCount: features.tickCount + h,
      tickPrice: tick.price,
      champion: { family: champion.forecaster.family, modelVersion: champion.version, quantiles: result.distribution.quantiles },
      challengers,
    });
  }
  return out;
}

export function commodityBehaviour(deps: CommodityActorDeps): CommodityBehaviour {
  const { commodity, ledger, book } = deps;
  // Labelled series resolved once per actor, not hashed again on every tick.
  const processedHere = ticksProcessed.labels({ partition: String(deps.partition) });
  const predicted = predictionsTotal.labels({ commodity });
  const skippedNoModel = predictionsSkipped.labels({ commodity, reason: 'no_model' });
  const skippedNoForecast = predictionsSkipped.labels({ commodity, reason: 'no_forecast' });
  // At 0 from the actor's start: a series that appeared with its first event at 1 would show no increase.
  for (const series of [processedHere, predicted, skippedNoModel, skippedNoForecast]) series.inc(0);
  let warnedNoModel = false;
  let ticksSinceShiftCheck = 0;
  const storedPrices = new StoredPrices(deps.history, commodity);
  /** The window was rebuilt before ticks that are stored already, and has not reached the newest of them. */
  let catchingUp = false;

  /** The window from the ledger's memory, when it has one: after a restart, with no I/O on the recovery path. */
  function rebuildFromMemory(state: CommodityState): CommodityState | undefined {
    const recent = ledger.recent();
    if (recent === undefined || !book.seeded) return undefined;
    return rebuiltState(state, { ticks: recent, tickCount: recent[recent.length - 1]?.tickCount ?? 0 });
  }

  /** Reads the stores for the actor; failing is the stores' fault, not the tick's (RebuildError). */
  async function readForRebuild<T>(what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await readStores(what, read, deps.log);
    } catch (err) {
      throw new RebuildError(`cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** The window of `stored` (the last stored ticks before a time), which also seeds the ledger's memory. */
  function windowFrom(state: CommodityState, stored: StoredHistory): CommodityState {
    const next = rebuiltState(state, stored);
    ledger.seedHistory(next.window.ticks, next.tickCount);
    return next;
  }

  /**
   * The window before the first tick to process: from the ledger's memory after a restart, from Postgres the first
   * time (a new assignment, a worker restart), which also seeds the ledger's memory and the shadow scores. Strictly
   * before that tick: rows a previous owner wrote past its last committed offset are recomputed, not taken as history
   * (the window then catches up with them, see catchUp). But a first tick not stored with its price while newer ones
   * are stored is no redelivery (a late tick, or a correction): the window is then the newest, which judges it.
   */
  async function rebuild(state: CommodityState, first: PricePoint): Promise<CommodityState> {
    const fromMemory = rebuildFromMemory(state);
    if (fromMemory !== undefined) return fromMemory;
    const [stored, scores] = await readForRebuild(`the history of ${commodity}`, async () => {
      const around = await storedPrices.around(first.tsMs);
      const redelivered = around.nextTsMs === undefined || around.price === first.price;
      catchingUp = redelivered && around.nextTsMs !== undefined;
      // The forecasters in service are part of what an actor rebuilds: a restart must not skip predictions.
      return Promise.all([
        deps.history.loadBefore(commodity, redelivered ? first.tsMs : Number.MAX_SAFE_INTEGER, deps.windowSize),
        deps.history.loadShadowScores(commodity),
        deps.forecasters.ensureLoaded(commodity),
      ]);
    });
    book.seed(scores);
    return windowFrom(state, stored);
  }

  /**
   * While catching up, a tick newer than the window: applied in order, judged late, or applied after the window is
   * rebuilt up to it from the stores (what came after a replayed tick was committed, not redelivered).
   */
  async function catchUpTo(state: CommodityState, tick: PricePoint): Promise<{ state: CommodityState; late?: PastTickVerdict }> {
    const last = state.window.ticks[state.window.ticks.length - 1];
    if (last === undefined || tick.tsMs <= last.tsMs) return { state };
    const { nextTsMs } = await readForRebuild(`the stored ticks of ${commodity} after ${last.tsMs}`, () => storedPrices.around(last.tsMs));
    catchingUp = nextTsMs !== undefined;
    switch (catchUp(tick.tsMs, nextTsMs)) {
      case 'apply':
        return { state };
      case 'late':
        return { state, late: judgePastTick(tick, undefined, nextTsMs as number) };
      case 'rebuild':
        catchingUp = false;
        return { state: windowFrom(state, await readForRebuild(`the history of ${commodity}`, () => deps.history.loadBefore(commodity, tick.tsMs, deps.windowSize))) };
    }
  }

  function noteMissingModel(serving: ServingSet | undefined): void {
    if (serving !== undefined && serving.champions.length > 0) {
      warnedNoModel = false;
      return;
    }
    skippedNoModel.inc();
    // Debug: CarbonNoPredictions and Predict's answer say it where someone looks; at start every commodity is here.
    if (!warnedNoModel) deps.log.debug('no_model_in_service', { commodity, note: 'ticks get features but no prediction until a champion is trained (carbon train)' });
    warnedNoModel = true;
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

  /** Shift monitor and scores of a committed tick: metrics, and the decisions they call for. */
  function afterCommit(serving: ServingSet | undefined, features: FeatureVector, championOutcomes: ReturnType<typeof settleOutcomes>['championOutcomes'], changed: readonly ShadowScore[]): void {
    for (const s of changed) {
      const labels = { commodity, horizon: String(s.horizonTicks), family: s.family };
      shadowOutcomes.set(labels, s.realised);
      shadowIntervalScoreRatio.set(labels, s.sumIntervalScore / s.sumChampionIntervalScore);
    }
    const first = serving?.champions[0];
    if (first === undefined) return;
    const monitor = book.monitorFor(first.version, first.forecaster.spec.inputDeciles);
    const inputs = modelInputs(features);
    if (inputs !== undefined) monitor.observeInputs(inputs);
    for (const o of championOutcomes) if (o.horizonTicks === first.forecaster.horizonTicks) monitor.observeOutcome(o.quantiles, o.y);
    if (++ticksSinceShiftCheck < SHIFT_CHECK_EVERY) return;
    ticksSinceShiftCheck = 0;
    const psi = monitor.psi();
    const shifted: string[] = [];
    psi.inputs.forEach((value, i) => {
      if (value === undefined) return;
      distributionShift.set({ commodity, series: MODEL_INPUT_NAMES[i]! }, value);
      if (value > SHIFT_ALARM_PSI) shifted.push(`${MODEL_INPUT_NAMES[i]} (PSI ${value.toFixed(2)})`);
    });
    if (psi.outcomes !== undefined) {
      distributionShift.set({ commodity, series: 'outcomes' }, psi.outcomes);
      if (psi.outcomes > SHIFT_ALARM_PSI) shifted.push(`outcomes among the quantiles (PSI ${psi.outcomes.toFixed(2)})`);
    }
    if (shifted.length > 0) deps.decisions.retrain(commodity, `distribution shift above ${SHIFT_ALARM_PSI}: ${shifted.join(', ')}`);
  }

  async function processTicks(state: CommodityState, ticks: readonly TickDelivery[]): Promise<CommodityState> {
    let s = state;
    for (const delivery of ticks) {
      if (deps.outcomes.isSettled(delivery.offset)) continue;
      const { tick } = delivery;
      if (!s.rebuilt) s = await rebuild(s, tick);
      if (catchingUp) {
        const caught = await catchUpTo(s, tick);
        s = caught.state;
        if (caught.late !== undefined) {
          deps.outcomes.settle(delivery.offset, caught.late);
          continue;
        }
      }
      if (deps.poison?.isPoison(tick)) throw new ChaosError(`poison tick ${commodity} at ${tick.tsMs}`);
      const result = applyTick(s, tick);
      if (result.kind === 'past') {
        const stored = result.beforeWindow ? (await readForRebuild(`the stored price of ${commodity} at ${tick.tsMs}`, () => storedPrices.priceAt(tick.tsMs))) : result.windowPrice;
        const verdict = judgePastTick(tick, stored, result.latestTsMs);
        if (verdict.kind === 'duplicate') ticksSkipped.inc({ reason: 'duplicate' });
        deps.outcomes.settle(delivery.offset, verdict);
        continue;
      }
      const { features } = result;
      const serving = deps.forecasters.servingFor(commodity);
      noteMissingModel(serving);
      const started = performance.now();
      const forecasts = forecastTick(commodity, serving, features, tick);
      const settled = settleOutcomes(book.state, features.tickCount, tick.tsMs, tick.price);
      const promotions = duePromotions(awaitOutcomes(settled.state, forecasts.awaiting), settled.changed);
      if (serving !== undefined) inferenceSeconds.observe((performance.now() - started) / 1000);
      const alert = alertFor(features, tick);
      const realized = realizeOutcomes(result.state.outcomes, features.tickCount, tick.price);
      let outcomes = realized;
      for (const p of forecasts.predictions) outcomes = awaitOutcome(outcomes, p, features.tickCount);
      // Everything that can throw is done: the tick is settled only now (a crash before this retries it).
      deps.outcomes.settle(delivery.offset, { kind: 'outputs', outputs: { tick, features, predictions: forecasts.predictions, alert, shadowScores: settled.changed } });
      ledger.processed({ tsMs: tick.tsMs, price: tick.price, tickCount: features.tickCount });
      book.state = promotions.state;
      for (const { score, test } of promotions.due) {
        deps.decisions.promote({
          commodity,
          horizonTicks: score.horizonTicks,
          family: score.family,
          version: score.modelVersion,
          championVersion: score.championVersion,
          evidence: {
            outcomes: score.realised,
            meanIntervalScore: score.sumIntervalScore / score.realised,
            championMeanIntervalScore: score.sumChampionIntervalScore / score.realised,
            dieboldMarianoStatistic: test.statistic!,
            dieboldMarianoP: test.pValue!,
          },
        });
      }
      s = {
        ...result.state,
        latestTick: tick,
        latestPredictions: new Map([...result.state.latestPredictions, ...forecasts.predictions.map((p) => [p.horizonTicks, p] as const)]),
        noForecast: forecasts.noForecast,
        outcomes,
      };
      if (realized !== result.state.outcomes) {
        for (const [h, live] of realized.byHorizon) {
          liveHitRate.set({ commodity, horizon: String(h) }, live.hits / live.realized);
          liveCoverage.set({ commodity, horizon: String(h) }, live.covered / live.realized);
        }
      }
      predicted.inc(forecasts.predictions.length);
      if (forecasts.noForecast.size > 0) skippedNoForecast.inc(forecasts.noForecast.size);
      afterCommit(serving, features, settled.championOutcomes, settled.changed);
      processedHere.inc();
    }
    return s;
  }

  /** New forecasters: forget what belonged to the old ones, and forecast the latest tick at once. */
  function forecastersChanged(state: CommodityState): CommodityState {
    const serving = deps.forecasters.servingFor(commodity);
    const versions = new Set([...(serving?.champions ?? []), ...(serving?.shadows ?? [])].map((f) => f.version));
    book.state = keepServed(book.state, versions);
    const tick = state.latestTick;
    const features = state.latestFeatures;
    if (tick === undefined || features === undefined) return state;
    const forecasts = forecastTick(commodity, serving, features, tick);
    book.state = awaitOutcomes(book.state, forecasts.awaiting.filter((a) => !book.state.awaiting.some((b) => b.horizonTicks === a.horizonTicks && b.dueTickCount === a.dueTickCount)));
    predicted.inc(forecasts.predictions.length);
    if (forecasts.predictions.length > 0) {
      // The tick and its features were written already; writing them again with the new predictions changes nothing.
      deps.outcomes.extra({ tick, features, predictions: forecasts.predictions, alert: undefined, shadowScores: [] });
    }
    return {
      ...state,
      latestPredictions: new Map([...state.latestPredictions].filter(([h]) => serving?.champions.some((c) => c.forecaster.horizonTicks === h)).concat(forecasts.predictions.map((p) => [p.horizonTicks, p] as const))),
      noForecast: forecasts.noForecast,
    };
  }

  function snapshot(state: CommodityState): CommoditySnapshot {
    const serving = deps.forecasters.servingFor(commodity);
    const horizons: HorizonState[] = (serving?.champions ?? []).map((c) => ({
      horizonTicks: c.forecaster.horizonTicks,
      modelVersion: c.version,
      noForecastReason: state.noForecast.get(c.forecaster.horizonTicks) ?? '',
    }));
    return {
      commodity,
      features: state.latestFeatures,
      predictions: [...state.latestPredictions.values()].sort((a, b) => a.horizonTicks - b.horizonTicks),
      horizons,
    };
  }

  return {
    initialState: () => initialState(commodity, deps.windowSize),
    async handle(state, msg) {
      switch (msg.type) {
        case 'ticks':
          return processTicks(state, msg.ticks);
        case 'rebuild':
          return state.rebuilt ? state : rebuildFromMemory(state) ?? state;
        case 'getSnapshot':
          deps.reply(msg.replyTo, snapshot(state));
          return state;
        case 'forecastersChanged':
          return forecastersChanged(state);
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
