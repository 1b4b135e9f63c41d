/**
 * Random forest regression: training (fast, seeded, features drawn per split), a compact serving model, and
 * export to ml-random-forest's format (the reference implementation, whose own trainer is O(n^2) per node).
 *
 *   const forest = trainForest(x, y, nFeatures, { nTrees: 100, maxDepth: 10, seed: 1 });
 *   const out = new Float64Array(forest.nTrees);
 *   const mean = forest.predictTrees(row, out);      // per-tree predictions in `out`, no allocation
 *   const bytes = forest.toBuffer();                  // ~1 MB for 100 trees of depth 10
 *   const again = CompactForest.fromBuffer(bytes);    // validated: magic, version, sizes, CRC, tree shapes
 *   const json = forest.toMlRandomForestJSON();       // RandomForestRegression.load(json) predicts the same
 *   const forests = await trainMany(jobs, { threads: 2, onProgress });  // one forest per job, worker threads
 */
export { CompactForest, CorruptForestError, type ForestArrays } from './compact-forest.ts';
export { ForestOptionsError, type ForestOptions } from './forest-options.ts';
export type { MlRandomForestRegressionJson } from './ml-random-forest-json.ts';
export { trainForest } from './train-forest.ts';
export { TrainJobError, trainMany, type TrainJob, type TrainManyOptions, type TrainProgress } from './train-many.ts';
export type { FeatureRows } from './training-data.ts';
