/**
 * Fits the platform's forests for a list of jobs: the fast CART forest of actors/model/forest, with the run's
 * parameters mapped onto its options.
 */
import type { CompactForest } from '../model/forest/compact-forest.ts';
import type { ForestOptions } from '../model/forest/forest-options.ts';
import { trainForest } from '../model/forest/train-forest.ts';
import { trainMany } from '../model/forest/train-many.ts';
import type { ForestParams } from './train-params.ts';
import type { TrainRegressors } from './walk-forward.ts';

export function forestOptions(p: ForestParams): ForestOptions {
  return {
    nTrees: p.trees,
    maxDepth: p.maxDepth,
    maxFeatures: p.maxFeatures,
    minSamplesLeaf: p.minSamplesLeaf,
    maxSamples: p.sampleFraction,
    seed: p.seed,
  };
}

/** One job after the other on this thread (tests, small runs). */
export function sequentialForestTrainer(params: ForestParams): TrainRegressors<CompactForest> {
  const options = forestOptions(params);
  return async (jobs, onJobDone) => {
    const out: CompactForest[] = [];
    for (const job of jobs) {
      out.push(trainForest(job.x, job.y, job.nFeatures, options));
      onJobDone?.(out.length, jobs.length);
    }
    return out;
  };
}

/**
 * Jobs spread over worker threads (one whole forest per thread at a time); identical forests to the above. An
 * aborted `signal` stops the threads and fails the run.
 */
export function threadedForestTrainer(params: ForestParams, threads?: number, signal?: AbortSignal): TrainRegressors<CompactForest> {
  const options = forestOptions(params);
  return (jobs, onJobDone) =>
    trainMany(
      jobs.map((job) => ({ x: job.x, y: job.y, nFeatures: job.nFeatures, options })),
      { ...(threads === undefined ? {} : { threads }), ...(signal === undefined ? {} : { signal }), onProgress: (p) => onJobDone?.(p.done, p.total) },
    );
}
