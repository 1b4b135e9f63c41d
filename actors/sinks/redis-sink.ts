/** Latest features and predictions (one per horizon) per commodity to the online store (Redis, or memory when embedded). */
import type { OnlineStore } from '../../connectors/redis/online-store.ts';
import { toFeaturesMessage } from '../features/features-message.ts';
import type { OutputWriter } from './tick-outputs.ts';

export function onlineStoreSink(store: OnlineStore): OutputWriter {
  return {
    name: 'online-store',
    write: (batch) =>
      store.putLatest(batch.map((o) => ({
        commodity: o.tick.commodity,
        features: toFeaturesMessage(o.tick.commodity, o.features),
        predictions: o.predictions,
      }))),
  };
}
