import test from 'ava';
import { friedman1 } from '../../../test/friedman-data.ts';
import { trainForest } from './train-forest.ts';
import { TrainJobError, trainMany, type TrainProgress } from './train-many.ts';

const nFeatures = 6;
const jobs = ['WTI', 'BRENT', 'NG'].map((label, i) => {
  const d = friedman1(400, nFeatures, 1, 100 + i);
  return { label, x: d.x, y: d.y, nFeatures, options: { nTrees: 15, maxDepth: 6, seed: i } };
});

test('forests trained on worker threads are byte-identical to trainForest, in job order, with progress', async (t) => {
  const progress: TrainProgress[] = [];
  const forests = await trainMany(jobs, { threads: 2, onProgress: (p) => progress.push(p) });
  t.is(forests.length, jobs.length);
  forests.forEach((forest, i) => {
    const job = jobs[i]!;
    t.true(forest.toBuffer().equals(trainForest(job.x, job.y, job.nFeatures, job.options).toBuffer()), job.label);
  });
  t.deepEqual(progress.map((p) => p.done), [1, 2, 3]);
  t.true(progress.every((p) => p.total === 3));
  t.deepEqual(progress.map((p) => p.label).sort(), ['BRENT', 'NG', 'WTI']);
});

test('a job that fails in its worker rejects with an error naming the job', async (t) => {
  const broken = { ...jobs[1]!, y: new Float64Array(3) };
  const error = await t.throwsAsync(trainMany([jobs[0]!, broken], { threads: 2 }), { instanceOf: TrainJobError });
  t.is(error?.jobIndex, 1);
  t.regex(error?.message ?? '', /job 1 \(BRENT\) failed: RangeError: x holds 2400 values/);
});

test('bad options fail before any thread starts, and no jobs means no forests', async (t) => {
  await t.throwsAsync(trainMany([{ ...jobs[0]!, options: { maxFeatures: 0 } }]), { message: /job 0 \(WTI\).*maxFeatures/ });
  t.deepEqual(await trainMany([]), []);
});
