/**
 * A feature vector and its wire form (carbon.v1.Features), both ways: to the online store and the gateway, and
 * back from the online store for a degraded answer's local prediction.
 */
import type { Features } from '../../proto/gen/carbon/v1/features.ts';
import type { FeatureVector } from './compute-features.ts';

/** The wire form of a feature vector, for the online store and the gateway. */
export function toFeaturesMessage(commodity: string, f: FeatureVector): Features {
  return {
    commodity,
    tsMs: f.tsMs,
    price: f.price,
    simpleReturn: f.simpleReturn,
    logReturn: f.logReturn,
    nonPositivePrice: f.nonPositivePrice,
    sma5: f.sma5,
    sma20: f.sma20,
    ema5: f.ema5,
    ema20: f.ema20,
    volatility20: f.volatility20,
    zScore: f.zScore,
    rsi14: f.rsi14,
    momentum10: f.momentum10,
    windowMin: f.windowMin,
    windowMax: f.windowMax,
    tickCount: f.tickCount,
  };
}

/** The feature vector of stored features (the inverse of toFeaturesMessage), for a local replica. */
export function featureVectorOf(f: Features): FeatureVector {
  return {
    tsMs: f.tsMs,
    price: f.price,
    simpleReturn: f.simpleReturn,
    logReturn: f.logReturn,
    nonPositivePrice: f.nonPositivePrice,
    sma5: f.sma5,
    sma20: f.sma20,
    ema5: f.ema5 ?? f.price,
    ema20: f.ema20 ?? f.price,
    volatility20: f.volatility20,
    zScore: f.zScore,
    rsi14: f.rsi14,
    momentum10: f.momentum10,
    windowMin: f.windowMin,
    windowMax: f.windowMax,
    tickCount: f.tickCount,
  };
}
