/**
 * Trains independent forests (one per commodity, say) in parallel on a pool of worker threads. Each job is
 * trained whole on one thread, so a forest is identical to what trainForest gives on the main thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CompactForest } from './compact-forest.ts';
import { resolveForestOptions, type ForestOptions } from './forest-options.ts';
import type { FeatureRows } from './training-data.ts';
import type { TrainReply, TrainRequest } from './train-worker-protocol.ts';

/** One forest to train; the arguments of trainForest. */
export interface TrainJob {
  /** Names the job in progress reports and errors (e.g. the commodity). */
  readonly label?: string;
  readonly x: FeatureRows;
  readonly y: ArrayLike<number>;
  readonly nFeatures: number;
  readonly options?: ForestOptions;
}

/** Reported after each finished job. */
export interface TrainProgress {
  readonly done: number;
  readonly total: number;
  readonly jobIndex: number;
  readonly label: string | undefined;
}

export interface TrainManyOptions {
  /** Worker threads; default: one per core minus one (at least 1), never more than there are jobs. */
  readonly threads?: number;
  readonly onProgress?: (progress: TrainProgress) => void;
  /** Stops the workers and rejects with the signal's reason (a process shutting down). */
  readonly signal?: AbortSignal;
}

/** Thrown when a job fails; the other workers are stopped and no forest is returned. */
export class TrainJobError extends Error {
  constructor(
    readonly jobIndex: number,
    readonly label: string | undefined,
    message: string,
  ) {
    super(`training job ${jobIndex}${label === undefined ? '' : ` (${label})`} failed: ${message}`);
    this.name = 'TrainJobError';
  }
}

// The worker is TypeScript. On Node 20, `execArgv: ['--import', 'tsx']` does not reach a worker's entry module
// (it fails with ERR_UNKNOWN_FILE_EXTENSION), so the entry is a line of JavaScript that registers tsx's loader,
// then imports the worker module; both resolved from this file, not from the working directory.
const workerBootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./train-worker.ts', import.meta.url).href)}); });`;

/** Forests in job order. */
export async function trainMany(jobs: readonly TrainJob[], options: TrainManyOptions = {}): Promise<CompactForest[]> {
  // Bad options fail here, naming the job, before any thread starts.
  jobs.forEach((job, i) => {
    try {
      resolveForestOptions(job.options ?? {}, job.nFeatures);
    } catch (err) {
      throw new TrainJobError(i, job.label, (err as Error).message);
    }
  });
  if (jobs.length === 0) return [];
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be an integer >= 1, got ${threads}`);

  const workers: Worker[] = [];
  try {
    return await new Promise<CompactForest[]>((resolve, reject) => {
      const forests: (CompactForest | undefined)[] = new Array(jobs.length);
      let nextJob = 0;
      let done = 0;
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const feed = (worker: Worker): void => {
        if (nextJob >= jobs.length) return;
        const jobIndex = nextJob++;
        const job = jobs[jobIndex]!;
        const request: TrainRequest = {
          type: 'train',
          jobIndex,
          x: job.x,
          y: job.y,
          nFeatures: job.nFeatures,
          options: job.options ?? {},
        };
        worker.postMessage(request);
      };
      if (options.signal?.aborted) return fail(new Error('training aborted', { cause: options.signal.reason }));
      options.signal?.addEventListener('abort', () => fail(new Error('training aborted', { cause: options.signal?.reason })), { once: true });
      for (let w = 0; w < Math.min(threads, jobs.length); w++) {
        const worker = new Worker(workerBootstrap, { eval: true, execArgv: [] });
        workers.push(worker);
        worker.on('message', (reply: TrainReply) => {
          if (settled) return;
          const job = jobs[reply.jobIndex]!;
          if (reply.type === 'failed') {
            fail(new TrainJobError(reply.jobIndex, job.label, `${reply.error.name}: ${reply.error.message}`));
            return;
          }
          try {
            forests[reply.jobIndex] = CompactForest.fromBuffer(reply.forest);
          } catch (err) {
            fail(new TrainJobError(reply.jobIndex, job.label, (err as Error).message));
            return;
          }
          done++;
          options.onProgress?.({ done, total: jobs.length, jobIndex: reply.jobIndex, label: job.label });
          if (done === jobs.length) {
            settled = true;
            resolve(forests as CompactForest[]);
          } else {
            feed(worker);
          }
        });
        worker.on('error', (err) => fail(new Error(`training worker crashed: ${err.message}`, { cause: err })));
        worker.on('exit', (code) => fail(new Error(`training worker exited (code ${code}) before the jobs were done`)));
        feed(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
