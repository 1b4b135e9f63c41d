/**
 * The messages of a commodity actor, and the ports it is given. One actor per commodity, spawned by its
 * partition supervisor on the commodity's first tick and stopped when the partition goes.
 */
import type { FeatureVector } from '../features/compute-features.ts';
import type { FamilyName, Forecaster } from '../forecast/forecaster.ts';
import type { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { HorizonState } from '../../proto/gen/carbon/v1/internal.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import type { TypedRef } from '../../supervisors/typed-actors.ts';

/** What the gateway gets from the owner of a commodity. */
export interface CommoditySnapshot {
  readonly commodity: string;
  readonly features: FeatureVector | undefined;
  /** The latest prediction of each horizon that has one, by horizon ascending. */
  readonly predictions: readonly Prediction[];
  /** Each horizon served: its champion version (0: none) and why the latest tick has no prediction, if it has none. */
  readonly horizons: readonly HorizonState[];
}

export type CommodityMsg =
  /** From the partition supervisor after it appended ticks to the ledger; no reply. Processes every pending tick. */
  | { readonly type: 'drain' }
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
