/**
 * The messages of a commodity actor, and the ports it is given. One actor per commodity, spawned by its
 * partition supervisor on the commodity's first tick and stopped when the partition goes.
 */
import type { FeatureVector } from '../features/compute-features.ts';
import type { FamilyName, Forecaster } from '../forecast/forecaster.ts';
import type { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { HorizonState } from '../../proto/gen/carbon/v1/internal.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import type { TypedRef } from '../typed-ref.ts';
import type { TickOutputs } from '../sinks/tick-outputs.ts';

/** What the gateway gets from the owner of a commodity. */
export interface CommoditySnapshot {
  readonly commodity: string;
  readonly features: FeatureVector | undefined;
  /** The latest prediction of each horizon that has one, by horizon ascending. */
  readonly predictions: readonly Prediction[];
  /** Each horizon served: its champion version (0: none) and why the latest tick has no prediction, if it has none. */
  readonly horizons: readonly HorizonState[];
}

/** A fetched tick handed to its commodity's actor, with the offset it came from in its partition. */
export interface TickDelivery {
  readonly offset: number;
  readonly tick: PriceTick;
  /** When the message was fetched, performance.now() of the worker (for the latency metric). */
  readonly fetchedAtMs: number;
}

/** What the actor made of one delivered tick. Every delivered tick gets exactly one. */
export type TickOutcome =
  /** Features, forecasts, maybe an alert: to the stores and topics with the tick's offset. */
  | { readonly kind: 'outputs'; readonly outputs: TickOutputs }
  /** A past tick with another price than the stored one, or at a time with none stored (past-ticks.ts): to the DLQ. */
  | { readonly kind: 'rejected'; readonly reason: string; readonly detail: string }
  /** The same tick again, however old (a producer's retry, a replayed file): nothing to write. */
  | { readonly kind: 'duplicate' };

/**
 * Where an actor's results go: its partition, which commits them in offset order (stores, topics and the offset
 * in one step). Data only flows this way; nothing comes back to the actor.
 */
export interface TickOutcomes {
  settle(offset: number, outcome: TickOutcome): void;
  /** A delivery can arrive twice (replayed after a restart): one whose tick is settled is passed over. */
  isSettled(offset: number): boolean;
  /** Outputs that are not a tick's own (a new champion forecasting the latest tick): committed with the next batch. */
  extra(outputs: TickOutputs): void;
}

export type CommodityMsg =
  /** From the partition supervisor: this commodity's ticks of a fetched batch, in offset order; no reply. */
  | { readonly type: 'ticks'; readonly ticks: readonly TickDelivery[] }
  /** From the partition supervisor after a restart with no tick to retry: rebuild the window now if it can be done without the stores. */
  | { readonly type: 'rebuild' }
  /** From the gateway (with a timeout); replies with a CommoditySnapshot. */
  | { readonly type: 'getSnapshot'; readonly replyTo: TypedRef<CommoditySnapshot | undefined> }
  /** From the worker after the commodity's forecasters changed; no reply. Forecasts the latest tick at once. */
  | { readonly type: 'forecastersChanged' }
  /** From the chaos control; the actor throws, so that supervision is exercised on a running stream. */
  | { readonly type: 'crash'; readonly reason: string };

/** A forecaster loaded from the registry, with the registry facts that go into its predictions. */
export interface ServedForecaster {
  readonly version: number;
  readonly status: 'active' | 'shadow';
  readonly trainedAtMs: number;
  readonly forecaster: Forecaster;
}

/** A commodity's forecasters: a champion per horizon (ascending) and the challengers in the shadow. */
export interface ServingSet {
  readonly champions: readonly ServedForecaster[];
  readonly shadows: readonly ServedForecaster[];
}

/** The forecasters in service for a commodity; swapped by the worker on `model-updates`, read on every tick. */
export interface ForecasterLookup {
  servingFor(commodity: string): ServingSet | undefined;
  /** Loads the commodity's forecasters if not yet known; the actor awaits it when it (re)builds. */
  ensureLoaded(commodity: string): Promise<void>;
  /** The commodity moved to another worker: drop its forecasters here. */
  release(commodity: string): void;
}

/** A challenger that beat its champion in the shadow, with the numbers. */
export interface PromotionRequest {
  readonly commodity: string;
  readonly horizonTicks: number;
  readonly family: FamilyName;
  readonly version: number;
  readonly championVersion: number;
  readonly evidence: {
    readonly outcomes: number;
    readonly meanIntervalScore: number;
    readonly championMeanIntervalScore: number;
    readonly dieboldMarianoStatistic: number;
    readonly dieboldMarianoP: number;
  };
}

/**
 * Where an actor hands decisions that need the registry: they run off the tick path and report their own
 * failures (a refused promotion is logged; the actor asks again after its next restart if the evidence holds).
 */
export interface ModelDecisions {
  promote(request: PromotionRequest): void;
  /** The live distribution moved away from the training rows: retrain the commodity (rate-limited by the worker). */
  retrain(commodity: string, reason: string): void;
}

/** Ticks that make the actor crash every time, set through the chaos control (poison-message drills). */
export interface PoisonRules {
  isPoison(tick: PriceTick): boolean;
}
