/**
 * A feature vector and its wire form (carbon.v1.Features), both ways: to the online store and the gateway, and
 * back from the online store for a degraded answer's local forecast. The fields are those of FEATURE_COLUMNS,
 * which carry the same names on the wire.
 */
import type { Features } from '../../proto/gen/carbon/v1/features.ts';
import type { FeatureVector } from './compute-features.ts';
import { FEATURE_COLUMNS } from './feature-columns.ts';

/** The wire form of a feature vector, for the online store and the gateway. */
export function toFeaturesMessage(commodity: string, f: FeatureVector): Features {
  const message: Record<string, unknown> = { commodity };
  for (const c of FEATURE_COLUMNS) message[c.field] = f[c.field];
  return message as unknown as Features;
}

/** The feature vector of stored features (the inverse of toFeaturesMessage), for a local forecast. */
export function featureVectorOf(f: Features): FeatureVector {
  const vector: Record<string, unknown> = {};
  for (const c of FEATURE_COLUMNS) {
    const value = (f as unknown as Record<string, unknown>)[c.field];
    // A required field absent from a message written by older code: the price is the neutral value (EMAs).
    vector[c.field] = value === undefined && !c.optional ? f.price : value;
  }
  return vector as unknown as FeatureVector;
}
