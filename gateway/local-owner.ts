/**
 * Answers for the partitions this worker owns: a query to the commodity's actor with an explicit timeout, or,
 * when the partition holds no actor for it (no tick since the partition came here), the online store, which
 * holds the last durable outputs of the previous owner.
 */
import type { CommoditySnapshot } from '../actors/commodity/protocol.ts';
import { toFeaturesMessage } from '../actors/features/features-message.ts';
import type { OnlineStore } from '../connectors/redis/online-store.ts';
import type { Features } from '../proto/gen/carbon/v1/features.ts';
import type { HorizonState } from '../proto/gen/carbon/v1/internal.ts';
import type { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import { withTimeout } from './with-timeout.ts';

/** The worker's pipeline as the gateway needs it (WorkerPipeline implements it). */
export interface LocalPipeline {
  snapshot(partition: number, commodity: string, timeoutMs: number): Promise<CommoditySnapshot | undefined>;
}

export interface LocalState {
  readonly fromActor: boolean;
  readonly features: Features | undefined;
  readonly predictions: readonly Prediction[];
  readonly horizons: readonly HorizonState[];
}

export async function localState(
  pipeline: LocalPipeline,
  online: OnlineStore,
  horizonsOf: (commodity: string) => HorizonState[],
  partition: number,
  commodity: string,
  timeoutMs: number,
): Promise<LocalState> {
  const started = Date.now();
  const snapshot = await pipeline.snapshot(partition, commodity, timeoutMs);
  if (snapshot !== undefined) {
    return {
      fromActor: true,
      features: snapshot.features === undefined ? undefined : toFeaturesMessage(commodity, snapshot.features),
      predictions: snapshot.predictions,
      horizons: snapshot.horizons,
    };
  }
  const latest = await withTimeout(online.getLatest(commodity), timeoutMs - (Date.now() - started), 'the online store');
  return { fromActor: false, features: latest.features, predictions: latest.predictions, horizons: horizonsOf(commodity) };
}
