/**
 * The online store: the latest features and prediction of each commodity, for the gateway's degraded answers.
 * Redis in the cluster (protobuf values under `<prefix>latest:features:<commodity>`), a Map in the embedded mode.
 */
import { Redis } from 'ioredis';
import { Features } from '../../proto/gen/carbon/v1/features.ts';
import { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';

export interface LatestEntry {
  readonly commodity: string;
  readonly features: Features;
  readonly prediction: Prediction | undefined;
}

export interface OnlineStore {
  /** Writes the entries (the last one per commodity wins); resolves when Redis acknowledged them. */
  putLatest(entries: readonly LatestEntry[]): Promise<void>;
  getLatest(commodity: string): Promise<{ features: Features | undefined; prediction: Prediction | undefined }>;
  close(): Promise<void>;
}

export function memoryOnlineStore(): OnlineStore {
  const features = new Map<string, Features>();
  const predictions = new Map<string, Prediction>();
  return {
    async putLatest(entries) {
      for (const e of entries) {
        features.set(e.commodity, e.features);
        if (e.prediction) predictions.set(e.commodity, e.prediction);
      }
    },
    async getLatest(commodity) {
      return { features: features.get(commodity), prediction: predictions.get(commodity) };
    },
    async close() {},
  };
}

export function redisClient(url: string): Redis {
  // Fail fast instead of queueing commands forever while Redis is down: the sink retries whole batches itself.
  return new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
}

export function redisOnlineStore(redis: Redis, prefix: string): OnlineStore {
  const featuresKey = (c: string) => `${prefix}latest:features:${c}`;
  const predictionKey = (c: string) => `${prefix}latest:prediction:${c}`;
  return {
    async putLatest(entries) {
      const last = new Map<string, LatestEntry>();
      for (const e of entries) last.set(e.commodity, e);
      if (last.size === 0) return;
      const pipeline = redis.multi();
      for (const e of last.values()) {
        pipeline.set(featuresKey(e.commodity), Buffer.from(Features.encode(e.features).finish()));
        if (e.prediction) pipeline.set(predictionKey(e.commodity), Buffer.from(Prediction.encode(e.prediction).finish()));
      }
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
    },
    async getLatest(commodity) {
      const [f, p] = await Promise.all([redis.getBuffer(featuresKey(commodity)), redis.getBuffer(predictionKey(commodity))]);
      return { features: f ? Features.decode(f) : undefined, prediction: p ? Prediction.decode(p) : undefined };
    },
    async close() {
      await redis.quit();
    },
  };
}
