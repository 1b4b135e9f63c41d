/**
 * What a commodity actor produces for one tick, and the writers that put it in a store. The commit cycle writes a
 * batch to every store (store-writes.ts) before it commits the batch's offsets.
 */
import type { ShadowScore } from '../commodity/shadow-scoring.ts';
import type { FeatureVector } from '../features/compute-features.ts';
import type { Alert } from '../../proto/gen/carbon/v1/alert.ts';
import type { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';

export interface TickOutputs {
  readonly tick: PriceTick;
  readonly features: FeatureVector;
  /** One per served horizon whose champion forecast the tick (none while the commodity has no champion). */
  readonly predictions: readonly Prediction[];
  /** Present when the tick is an anomaly. */
  readonly alert: Alert | undefined;
  /** Challenger scores this tick's outcomes changed. */
  readonly shadowScores: readonly ShadowScore[];
}

/** One store's batched writer. `write` resolves when the batch is durable there, and is idempotent on replay. */
export interface OutputWriter {
  readonly name: string;
  /**
   * Whether batches may be written side by side (idempotent upserts, where order does not matter). Otherwise the
   * sink hands them over one after the other in batch order, as a latest-value store or an ordered stream needs.
   */
  readonly concurrent?: boolean;
  write(batch: readonly TickOutputs[]): Promise<void>;
}
