/**
 * The model replicas of one worker, one per commodity it serves: loaded from the registry when a commodity
 * actor (re)builds its state, swapped when `model-updates` announces a promotion or rollback. A swap replaces a
 * reference between two ticks (JavaScript runs one tick at a time), so no tick is dropped or reordered by it.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../platform/logger.ts';
import { modelSwaps, modelTrainedTimestamp, modelVersion } from '../../platform/metrics.ts';
import { Direction, type Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import type { PriceTick } from '../../proto/gen/carbon/v1/price_tick.ts';
import type { ModelUpdate } from '../../proto/gen/carbon/v1/model_update.ts';
import type { PredictingReplica, ReplicaLookup } from '../commodity/protocol.ts';
import type { FeatureVector } from '../features/compute-features.ts';
import type { ModelReplica } from './model-replica.ts';
import { decodeReplica, RegistryError, type ModelRegistry, type StoredModel } from './registry.ts';

/** The wire prediction of a replica's forecast for one tick. */
export function toPrediction(commodity: string, replica: ModelReplica, features: FeatureVector, tick: PriceTick): Prediction | undefined {
  const forecast = replica.predict(features);
  if (!forecast) return undefined;
  const move = (r: number) => tick.price * Math.exp(r);
  return {
    commodity,
    tickTsMs: tick.tsMs,
    tickPrice: tick.price,
    modelVersion: forecast.modelVersion,
    horizonTicks: forecast.horizonTicks,
    predictedReturn: forecast.predictedReturn,
    predictedPrice: move(forecast.predictedReturn),
    direction: forecast.predictedReturn > 0 ? Direction.DIRECTION_UP : Direction.DIRECTION_DOWN,
    probabilityUp: forecast.probabilityUp,
    intervalLowReturn: forecast.interval.lowReturn,
    intervalHighReturn: forecast.interval.highReturn,
    intervalLowPrice: move(forecast.interval.lowReturn),
    intervalHighPrice: move(forecast.interval.highReturn),
    intervalLevel: forecast.interval.level,
    inferenceUs: forecast.inferenceUs,
    predictedAtMs: Date.now(),
  };
}

function predicting(replica: ModelReplica): PredictingReplica {
  return {
    version: replica.version,
    predict: (commodity, features, tick) => toPrediction(commodity, replica, features, tick),
  };
}

export class ReplicaCache implements ReplicaLookup {
  private readonly replicas = new Map<string, PredictingReplica>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Commodities already asked for (with or without a model), so a rebuild does not ask Postgres again. */
  private readonly known = new Set<string>();

  constructor(private readonly registry: ModelRegistry, private readonly log: Logger) {}

  replicaFor(commodity: string): PredictingReplica | undefined {
    return this.replicas.get(commodity);
  }

  /** Loads the commodity's active model once; a corrupt one is logged and leaves the commodity without a model. */
  ensureLoaded(commodity: string): Promise<void> {
    if (this.known.has(commodity)) return Promise.resolve();
    let pending = this.loading.get(commodity);
    if (!pending) {
      const started = performance.now();
      // A failure leaves the commodity unknown, so the actor's next rebuild (after its restart) tries again.
      pending = this.registry
        .activeModel(commodity)
        .then((model) => {
          this.known.add(commodity);
          if (!model) return;
          try {
            this.install(model);
            this.log.info('model_loaded', { commodity, version: model.version, ms: Math.round(performance.now() - started) });
          } catch (err) {
            // An active model that cannot serve must not crash the actor: the commodity goes on without predictions.
            if (!(err instanceof RegistryError)) throw err;
            this.log.error('model_unusable', { commodity, version: model.version, err });
          }
        })
        .finally(() => this.loading.delete(commodity));
      this.loading.set(commodity, pending);
    }
    return pending;
  }

  /** Throws RegistryError (naming the version) when the stored model cannot serve. */
  private install(model: StoredModel): void {
    const replica = decodeReplica(model);
    this.replicas.set(model.commodity, predicting(replica));
    modelVersion.set({ commodity: model.commodity }, model.version);
    modelTrainedTimestamp.set({ commodity: model.commodity }, model.trainedAtMs / 1000);
  }

  /** Applies a promotion or rollback; a model that cannot be loaded leaves the current replica serving. */
  async apply(update: ModelUpdate): Promise<void> {
    const current = this.replicas.get(update.commodity);
    if (current?.version === update.modelVersion) return;
    try {
      this.install(await this.registry.show(update.modelVersion));
    } catch (err) {
      // A model that cannot serve (corrupt, unknown format, missing) leaves the current replica in service.
      if (!(err instanceof RegistryError)) throw err;
      this.log.error('model_swap_refused', { commodity: update.commodity, version: update.modelVersion, keeps: current?.version ?? null, err });
      return;
    }
    this.known.add(update.commodity);
    modelSwaps.inc();
    this.log.info('model_swapped', { commodity: update.commodity, from: current?.version ?? null, to: update.modelVersion });
  }

  /** The partition went elsewhere: forget its commodities so that their gauges do not linger here. */
  release(commodity: string): void {
    this.replicas.delete(commodity);
    this.known.delete(commodity);
    modelVersion.remove({ commodity });
    modelTrainedTimestamp.remove({ commodity });
  }
}
