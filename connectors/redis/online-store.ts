/**
 * The online store: the latest features and predictions (one per horizon) of each commodity, for the gateway's
 * degraded answers. Redis in the cluster (protobuf values under `<prefix>latest:features:<commodity>` and a hash
 * `<prefix>latest:predictions:<commodity>` of horizon -> prediction), a Map in the embedded mode.
 */
import { Redis } from 'ioredis';
import { Features } from '../../proto/gen/carbon/v1/features.ts';
import { Prediction } from '../../proto/gen/carbon/v1/prediction.ts';

export interface LatestEntry {
  readonly commodity: string;
  readonly features: Features;
  /** At most one per horizon. */
  readonly predictions: readonly Prediction[];
}

export interface Latest {
  readonly features: Features | undefined;
  /** The latest of each horizon, by horizon ascending. */
  readonly predictions: readonly Prediction[];
}

export interface OnlineStore {
  /** Writes the entries (per commodity the last features and the last prediction of each horizon win); resolves when Redis acknowledged them. */
  putLatest(entries: readonly LatestEntry[]): Promise<void>;
  getLatest(commodity: string): Promise<Latest>;
  close(): Promise<void>;
}

/** Per commodity, its last features and its last prediction of each horizon among the entries. */
function latestPerCommodity(entries: readonly LatestEntry[]): Map<string, { features: Features; predictions: Map<number, Prediction> }> {
  const out = new Map<string, { features: Features; predictions: Map<number, Prediction> }>();
  for (const e of entries) {
    const slot = out.get(e.commodity) ?? { features: e.features, predictions: new Map<number, Prediction>() };
    slot.features = e.features;
    for (const p of e.predictions) slot.predictions.set(p.horizonTicks, p);
    out.set(e.commodity, slot);
  }
  return out;
}

const byHorizon = (predictions: Iterable<Prediction>): Prediction[] => [...predictions].sort((a, b) => a.horizonTicks - b.horizonTicks);

export function memoryOnlineStore(): OnlineStore {
  const features = new Map<string, Features>();
  const predictions = new Map<string, Map<number, Prediction>>();
  return {
    async putLatest(entries) {
      for (const [commodity, latest] of latestPerCommodity(entries)) {
        features.set(commodity, latest.features);
        const mine = predictions.get(commodity) ?? new Map<number, Prediction>();
        for (const [h, p] of latest.predictions) mine.set(h, p);
        predictions.set(commodity, mine);
      }
    },
    async getLatest(commodity) {
      return { features: features.get(commodity), predictions: byHorizon(predictions.get(commodity)?.values() ?? []) };
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
  const predictionsKey = (c: string) => `${prefix}latest:predictions:${c}`;
  return {
    async putLatest(entries) {
      const last = latestPerCommodity(entries);
      if (last.size === 0) return;
      const pipeline = redis.multi();
      for (const [commodity, latest] of last) {
        pipeline.set(featuresKey(commodity), Buffer.from(Features.encode(latest.features).finish()));
        for (const [h, p] of latest.predictions) pipeline.hset(predictionsKey(commodity), String(h), Buffer.from(Prediction.encode(p).finish()));
      }
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (failed?.[0]) throw failed[0];
    },
    async getLatest(commodity) {
      const [f, p] = await Promise.all([redis.getBuffer(featuresKey(commodity)), redis.hgetallBuffer(predictionsKey(commodity))]);
      return { features: f ? Features.decode(f) : undefined, predictions: byHorizon(Object.values(p).map((bytes) => Prediction.decode(bytes))) };
    },
    async close() {
      await redis.quit();
    },
  };
}
