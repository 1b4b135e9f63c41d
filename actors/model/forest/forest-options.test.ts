import test from 'ava';
import { ForestOptionsError, resolveForestOptions } from './forest-options.ts';

test('defaults follow scikit-learn: 100 trees, unbounded depth, all features per split, bootstrap', (t) => {
  t.deepEqual(resolveForestOptions({}, 20), {
    nTrees: 100,
    maxDepth: Number.POSITIVE_INFINITY,
    minSamplesLeaf: 1,
    minSamplesSplit: 2,
    featuresPerSplit: 20,
    bootstrap: true,
    maxSamples: 1,
    seed: 0,
  });
});

test('maxFeatures resolves fractions, counts, sqrt and log2 to a feature count', (t) => {
  const per = (maxFeatures: number | 'sqrt' | 'log2', n = 20): number => resolveForestOptions({ maxFeatures }, n).featuresPerSplit;
  t.is(per(1), 20);
  t.is(per(0.5), 10);
  t.is(per(0.01), 1);
  t.is(per(7), 7);
  t.is(per('sqrt'), 4);
  t.is(per('log2'), 4);
});

test('each bad option is named in the error', (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ nTrees: 0 }, 'nTrees'],
    [{ nTrees: 2.5 }, 'nTrees'],
    [{ maxDepth: -1 }, 'maxDepth'],
    [{ minSamplesLeaf: 0 }, 'minSamplesLeaf'],
    [{ minSamplesSplit: 1 }, 'minSamplesSplit'],
    [{ maxFeatures: 0 }, 'maxFeatures'],
    [{ maxFeatures: 21 }, 'maxFeatures'],
    [{ maxFeatures: 1.5 }, 'maxFeatures'],
    [{ maxFeatures: 'all' }, 'maxFeatures'],
    [{ bootstrap: 'yes' }, 'bootstrap'],
    [{ maxSamples: 0 }, 'maxSamples'],
    [{ bootstrap: false, maxSamples: 0.5 }, 'maxSamples'],
    [{ seed: -1 }, 'seed'],
    [{ seed: 2 ** 32 }, 'seed'],
    [{ treeCount: 3 }, 'treeCount'],
  ];
  for (const [options, field] of cases) {
    const error = t.throws(() => resolveForestOptions(options, 20), { instanceOf: ForestOptionsError });
    t.is(error?.field, field, JSON.stringify(options));
    t.regex(error?.message ?? '', new RegExp(`option ${field}:`));
  }
});
