import test from 'ava';
import { RandomForestRegression } from 'ml-random-forest';
import { friedman1 } from '../../../test/friedman-data.ts';
import { ForestOptionsError } from './forest-options.ts';
import { trainForest } from './train-forest.ts';
import { threshold } from './tree-builder.ts';

function meanAbsoluteError(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(predicted[i]! - actual[i]!);
  return sum / actual.length;
}

function rowsOf(x: Float64Array, nFeatures: number): number[][] {
  return Array.from({ length: x.length / nFeatures }, (_, r) => Array.from(x.subarray(r * nFeatures, (r + 1) * nFeatures)));
}

/** Features used by each tree's splits. */
function featuresPerTree(forest: ReturnType<typeof trainForest>): Set<number>[] {
  const { treeStart, feature } = forest.toArrays();
  return Array.from(treeStart, (start, t) => {
    const end = t + 1 < treeStart.length ? treeStart[t + 1]! : feature.length;
    return new Set(Array.from(feature.subarray(start, end)).filter((f) => f >= 0));
  });
}

test('a one-split tree on hand-made data cuts halfway between the two groups on the informative feature', (t) => {
  // Feature 1 is shuffled noise; feature 0 separates y = 0 (x <= 4) from y = 5 (x >= 10).
  const x = [
    [1, 7],
    [2, 3],
    [3, 8],
    [4, 1],
    [10, 2],
    [11, 6],
    [12, 4],
    [13, 5],
  ];
  const y = [0, 0, 0, 0, 5, 5, 5, 5];
  const forest = trainForest(x, y, 2, { nTrees: 1, maxDepth: 1, bootstrap: false });
  const a = forest.toArrays();
  t.deepEqual(Array.from(a.feature), [0, -1, -1]);
  t.deepEqual(Array.from(a.value), [7, 0, 5]);
  t.is(forest.predict([4.5, 0]), 0);
  t.is(forest.predict([7, 0]), 5, 'x == threshold goes right, as in ml-cart');
});

test('the split maximises variance reduction, not the count balance', (t) => {
  // y jumps between x = 2 and x = 3 (a big step) and wiggles a little elsewhere.
  const x = [[0], [1], [2], [3], [4], [5], [6], [7]];
  const y = [0, 0.1, 0, 10, 10.1, 10, 10.1, 10];
  const forest = trainForest(x, y, 1, { nTrees: 1, maxDepth: 1, bootstrap: false });
  t.is(forest.toArrays().value[0], 2.5);
});

test('thresholds lie strictly above the left value and at most at the right value, also for adjacent float32s', (t) => {
  t.is(threshold(1, 2), 1.5);
  const a = Math.fround(1.1);
  const next = Math.fround(a + 2 ** -23); // the float32 right after a
  t.true(next > a);
  const tNext = threshold(a, next);
  t.true(tNext > a && tNext <= next);
  t.is(threshold(-3, -1), -2);
});

test('a pure node is a leaf and a constant target gives one-leaf trees', (t) => {
  const forest = trainForest([[1], [2], [3], [4]], [7, 7, 7, 7], 1, { nTrees: 3 });
  t.is(forest.nodeCount, 3);
  t.is(forest.predict([2]), 7);
});

test('maxDepth and minSamplesLeaf bound the trees', (t) => {
  const d = friedman1(400, 6, 1, 11);
  const shallow = trainForest(d.x, d.y, 6, { nTrees: 5, maxDepth: 3, seed: 1 });
  t.is(shallow.maxDepth(), 3);
  t.true(shallow.nodeCount <= 5 * 15);
  const unbounded = trainForest(d.x, d.y, 6, { nTrees: 2, seed: 1, bootstrap: false, minSamplesLeaf: 20 });
  // Without bootstrap a leaf's weight is its row count: >= 20 rows each, so at most 400 / 20 leaves per tree.
  const leaves = Array.from(unbounded.toArrays().feature).filter((f) => f < 0).length;
  t.true(leaves <= 2 * 20, `${leaves} leaves`);
  t.true(leaves > 2 * 5);
});

test('same seed gives the identical forest, a different seed a different one', (t) => {
  const d = friedman1(300, 6, 1, 5);
  const options = { nTrees: 10, maxDepth: 6, maxFeatures: 0.5 };
  const a = trainForest(d.x, d.y, 6, { ...options, seed: 42 }).toBuffer();
  const b = trainForest(d.x, d.y, 6, { ...options, seed: 42 }).toBuffer();
  const c = trainForest(d.x, d.y, 6, { ...options, seed: 43 }).toBuffer();
  t.true(a.equals(b));
  t.false(a.equals(c));
});

test('features are drawn per split: every tree still splits on the strongest feature somewhere', (t) => {
  // Only feature 3 carries signal among 10; with 2 features per tree (ml-random-forest's per-tree draw),
  // 8 trees in 10 would never see it. Drawn per split, each tree meets it at some node.
  const nFeatures = 10;
  const d = friedman1(500, nFeatures, 0.1, 8);
  const y = Float64Array.from({ length: d.rows }, (_, r) => 10 * d.x[r * nFeatures + 3]!);
  const forest = trainForest(d.x, y, nFeatures, { nTrees: 30, maxDepth: 6, maxFeatures: 0.2, seed: 3 });
  const perTree = featuresPerTree(forest);
  t.true(perTree.every((used) => used.has(3)));
  // ...and the per-split draw does vary the features: the trees use others too.
  t.true(perTree.every((used) => used.size > 1));
});

test('on Friedman #1 our forest is as accurate as ml-random-forest and far better than the mean', (t) => {
  const nFeatures = 5;
  const train = friedman1(300, nFeatures, 1, 21);
  const fresh = friedman1(300, nFeatures, 1, 22);
  const theirs = new RandomForestRegression({
    nEstimators: 20,
    maxFeatures: 1.0,
    replacement: false,
    useSampleBagging: true,
    noOOB: true,
    seed: 3,
    treeOptions: { maxDepth: 6 },
  });
  theirs.train(rowsOf(train.x, nFeatures), Array.from(train.y));
  const ours = trainForest(train.x, train.y, nFeatures, { nTrees: 20, maxDepth: 6, seed: 3 });

  const theirMae = meanAbsoluteError(theirs.predict(rowsOf(fresh.x, nFeatures)), fresh.y);
  const ourMae = meanAbsoluteError(ours.predictMany(fresh.x), fresh.y);
  const mean = train.y.reduce((s, v) => s + v, 0) / train.rows;
  const meanMae = meanAbsoluteError(new Float64Array(fresh.rows).fill(mean), fresh.y);
  t.log(`MAE ours ${ourMae.toFixed(3)}, ml-random-forest ${theirMae.toFixed(3)}, mean ${meanMae.toFixed(3)}`);
  t.true(ourMae <= 1.1 * theirMae);
  t.true(ourMae < 0.5 * meanMae);
  t.true(theirMae < 0.5 * meanMae);
});

test('bad inputs are rejected with the place of the problem', (t) => {
  t.throws(() => trainForest([[1, Number.NaN]], [1], 2), { message: /x\[0\]\[1\] is NaN/ });
  t.throws(() => trainForest([[1, 1e39]], [1], 2), { message: /x\[0\]\[1\]/ });
  t.throws(() => trainForest([[1, 2]], [Number.POSITIVE_INFINITY], 2), { message: /y\[0\]/ });
  t.throws(() => trainForest([[1, 2], [3]], [1, 2], 2), { message: /x\[1\] has 1 values/ });
  t.throws(() => trainForest(new Float64Array(5), [1, 2], 2), { message: /x holds 5 values/ });
  t.throws(() => trainForest([], [], 2), { message: /no training rows/ });
  const error = t.throws(() => trainForest([[1]], [1], 1, { minSamplesLeaf: 0 }), { instanceOf: ForestOptionsError });
  t.is(error?.field, 'minSamplesLeaf');
});
