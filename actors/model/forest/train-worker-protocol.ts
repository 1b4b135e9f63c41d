/** Messages between trainMany (train-many.ts) and its worker threads (train-worker.ts). */
import type { ForestOptions } from './forest-options.ts';
import type { FeatureRows } from './training-data.ts';

/** To a worker: train one forest; the worker answers with TrainReply. */
export interface TrainRequest {
  type: 'train';
  jobIndex: number;
  x: FeatureRows;
  y: ArrayLike<number>;
  nFeatures: number;
  options: ForestOptions;
}

/** From a worker: the forest in its binary form (CompactForest.toBuffer), or the error that training threw. */
export type TrainReply =
  | { type: 'trained'; jobIndex: number; forest: Uint8Array }
  | { type: 'failed'; jobIndex: number; error: { name: string; message: string } };
