/**
 * Small real forecasters for tests that need a model in the registry: fitted on a seeded synthetic series with the
 * training job's own code, so a worker loads and serves them exactly as it would a trained one.
 */
import { fitForecaster, forestTargets } from '../actors/forecast/fit-forecaster.ts';
import { usesForest, type FamilyName } from '../actors/forecast/forecaster.ts';
import { trainForest } from '../actors/model/forest/train-forest.ts';
import { FORECASTER_FORMAT, type NewModel } from '../actors/model/registry.ts';
import { computeSeriesFeatures } from '../actors/training/series-features.ts';
import { garchPriceSeries } from '../actors/training/synthetic-series.ts';
import { buildTrainingSet } from '../actors/training/training-set.ts';
import { planFinalFit } from '../actors/training/walk-forward.ts';

export function tinyForecasterModel(commodity: string, seed: number, options: { family?: FamilyName; horizonTicks?: number } = {}): NewModel {
  const family = options.family ?? 'forest';
  const horizonTicks = options.horizonTicks ?? 1;
  const ticks = garchPriceSeries({ length: 700, seed });
  const set = buildTrainingSet(commodity, computeSeriesFeatures(ticks), ticks, horizonTicks);
  const split = planFinalFit(set);
  let forest;
  if (usesForest(family)) {
    const job = forestTargets(set, 0, split.fitEnd);
    forest = trainForest(job.x, job.y, set.nFeatures, { nTrees: 8, maxDepth: 4, minSamplesLeaf: 10, seed });
  }
  const forecaster = fitForecaster(family, set, split, forest);
  return {
    commodity,
    family,
    params: { forecaster: { ...forecaster.spec, direction: { pesaranTimmermannP: 0.5 } } },
    metrics: { note: 'test forecaster' },
    format: FORECASTER_FORMAT,
    blob: forest?.toBuffer() ?? new Uint8Array(0),
    horizonTicks,
    trainFromMs: ticks[0]!.tsMs,
    trainToMs: ticks[ticks.length - 1]!.tsMs,
    trainRows: split.fitEnd,
  };
}
