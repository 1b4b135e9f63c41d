import test from 'ava';
import { computeFeatures } from '../features/compute-features.ts';
import { fromTicks } from '../features/window.ts';
import { ar1PriceSeries } from '../training/synthetic-series.ts';
import { forecastReturn, ModelReplica, type Regressor } from './model-replica.ts';

/** Four trees with fixed answers; records the row it was asked about. */
function fixedTrees(values: readonly number[], nFeatures: number): Regressor & { lastRow?: number[] } {
  const r: Regressor & { lastRow?: number[] } = {
    nTrees: values.length,
    nFeatures,
    predictTrees(row, out) {
      r.lastRow = Array.from(row);
      values.forEach((v, i) => (out[i] = v));
      return values.reduce((a, b) => a + b, 0) / values.length;
    },
  };
  return r;
}

const info = { version: 7, commodity: 'WTI', horizonTicks: 1, intervalHalfWidth: 0.02, intervalLevel: 0.8 };
const ticks = ar1PriceSeries({ length: 40, phi: 0.2, seed: 4 });

test('the forecast: mean of the trees, share of trees above 0, mean +- the conformal half-width', (t) => {
  const f = forecastReturn(fixedTrees([0.01, -0.02, 0.03, 0], 1), [0], 0.05, 0.8, new Float64Array(4));
  t.true(Math.abs(f.predictedReturn - 0.005) < 1e-15);
  t.is(f.probabilityUp, 0.5);
  t.is(f.interval.lowReturn, f.predictedReturn - 0.05);
  t.is(f.interval.highReturn, f.predictedReturn + 0.05);
  t.is(f.interval.level, 0.8);
});

test('a replica predicts from the model inputs of a feature vector, and nothing while they are warming up', (t) => {
  const trees = fixedTrees([0.01, 0.02, 0.03, -0.01], 12);
  const replica = new ModelReplica(info, trees);
  t.is(replica.predict(computeFeatures(fromTicks(ticks.slice(0, 10)), 10)), undefined);
  const p = replica.predict(computeFeatures(fromTicks(ticks), 40))!;
  t.is(p.modelVersion, 7);
  t.is(p.probabilityUp, 0.75);
  t.true(Math.abs(p.interval.highReturn - p.interval.lowReturn - 0.04) < 1e-12);
  t.true(p.inferenceUs >= 0);
  t.is(trees.lastRow?.length, 12);
});

test('an older model reads the prefix of the inputs it was trained on; a wider one is refused', (t) => {
  const older = fixedTrees([0.01], 10);
  const features = computeFeatures(fromTicks(ticks), 40);
  new ModelReplica(info, older).predict(features);
  t.is(older.lastRow?.length, 10);
  t.throws(() => new ModelReplica(info, fixedTrees([0.01], 13)).predict(features), { message: /expects 13 inputs/ });
  t.throws(() => new ModelReplica({ ...info, intervalHalfWidth: Number.POSITIVE_INFINITY }, older), { instanceOf: RangeError });
});
