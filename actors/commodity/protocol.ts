/**
 * The messages of a commodity actor, and the ports it is given. One actor per commodity, spawned by its
 * partition supervisor on the commodity's first tick and stopped when the partition goes.
 */
import type { FeatureVector } from '../features/compute-features.ts';
import type { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import type { TypedRef } from '../../supervisors/typed-actors.ts';

/** What the gateway gets from the owner of a commodity. */
export interface CommoditySnapshot {
  readonly commodity: string;
  readonly features: FeatureVector | undefined;
  readonly prediction: Prediction | undefined;
  /** Model version in service for the commodity, 0 when none. */
  readonly modelVersion: number;
}

export type CommodityMsg =
  /** From the partition supervisor after it appended ticks to the ledger; no reply. Processes every pending tick. */
  | { readonly type: 'drain' }
  /** From the gateway (with a timeout); replies with a CommoditySnapshot. */
  | { readonly type: 'getSnapshot'; readonly replyTo: TypedRef<CommoditySnapshot | undefined> }
  /** From the chaos control; the actor throws, so that supervision is exercised on a running stream. */
  | { readonly type: 'crash'; readonly reason: string };

/** A model ready to predict, as the actor sees it (actors/model holds the implementations). */
export interface PredictingReplica {
  readonly version: number;
  /** Undefined when the features do not yet hold every model input (the first ticks of a series). */
  predict(commodity: string, features: FeatureVector, tick: PriceTick): Prediction | undefined;
}

/** The replica in service for a commodity; swapped by the worker on `model-updates`, read on every tick. */
export interface ReplicaLookup {
  replicaFor(commodity: string): PredictingReplica | undefined;
  /** Loads the commodity's model in service if not yet known; the actor awaits it when it (re)builds. */
  ensureLoaded(commodity: string): Promise<void>;
  /** The commodity moved to another worker: drop its replica here. */
  release(commodity: string): void;
}

/** Ticks that make the actor crash every time, set through the chaos control (poison-message drills). */
export interface PoisonRules {
  isPoison(tick: PriceTick): boolean;
}
