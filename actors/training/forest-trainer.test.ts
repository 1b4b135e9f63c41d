import test from 'ava';
import { sequentialForestTrainer, threadedForestTrainer } from './forest-trainer.ts';
import { seededUniform } from './synthetic-series.ts';

test('worker threads give the same forests as this thread, with the run parameters applied', async (t) => {
  const u = seededUniform(5);
  const nFeatures = 4;
  const jobs = [300, 200].map((rows) => {
    const x = Float64Array.from({ length: rows * nFeatures }, () => u());
    const y = Float64Array.from({ length: rows }, (_, r) => x[r * nFeatures]! - 0.5 + 0.1 * u());
    return { x, y, nFeatures };
  });
  const params = { trees: 7, maxDepth: 3, maxFeatures: 0.5, minSamplesLeaf: 4, sampleFraction: 1, seed: 9 };
  const progress: number[] = [];
  const threaded = await threadedForestTrainer(params, 2)(jobs, (done) => progress.push(done));
  const sequential = await sequentialForestTrainer(params)(jobs);
  t.deepEqual(threaded.map((f) => f.toBuffer()), sequential.map((f) => f.toBuffer()));
  t.deepEqual(progress.sort(), [1, 2]);
  t.is(sequential[0]!.nTrees, 7);
  t.true(sequential[0]!.maxDepth() <= 3);
});
