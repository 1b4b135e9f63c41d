import test from 'ava';
import type { Regressor } from '../model/model-replica.ts';
import { sequentialForestTrainer } from './forest-trainer.ts';
import { computeSeriesFeatures } from './series-features.ts';
import { ar1PriceSeries } from './synthetic-series.ts';
import { buildTrainingSet, rowCount, type TrainingSet } from './training-set.ts';
import {
  DEFAULT_WALK_FORWARD,
  evaluateWalkForward,
  fitJob,
  NotEnoughRowsError,
  planFinalFit,
  planWalkForward,
  runWalkForward,
  type TrainRegressors,
} from './walk-forward.ts';

const smallForest = { trees: 30, maxDepth: 6, maxFeatures: 0.5, minSamplesLeaf: 5, seed: 1 };

function syntheticSet(phi: number, seed: number, length = 3000, horizonTicks = 1): TrainingSet {
  const ticks = ar1PriceSeries({ length, phi, seed });
  return buildTrainingSet('SYN', computeSeriesFeatures(ticks), ticks, horizonTicks);
}

test('folds: contiguous test blocks after the first half, each fitted and calibrated only before its block', (t) => {
  for (const h of [1, 5]) {
    const set = syntheticSet(0, 1, 600, h);
    const plans = planWalkForward(set);
    t.is(plans.length, 5);
    t.is(plans[0]!.testStart, Math.floor(rowCount(set) / 2));
    t.is(plans[4]!.testEnd, rowCount(set));
    for (const [k, p] of plans.entries()) {
      if (k > 0) t.is(p.testStart, plans[k - 1]!.testEnd);
      t.true(p.fitEnd < p.calibrationStart && p.calibrationStart < p.calibrationEnd && p.calibrationEnd <= p.testStart);
      t.true(set.labelTsMs[p.fitEnd - 1]! < set.tsMs[p.calibrationStart]!, 'a fit label reaches the calibration rows');
      t.true(set.labelTsMs[p.calibrationEnd - 1]! < set.tsMs[p.testStart]!, 'a calibration label reaches the test block');
      // The embargo: h rows between the training window and the block on a gapless series.
      t.is(p.testStart - p.calibrationEnd, h);
    }
  }
});

test('the final fit uses every labelled row, the latest held out for calibration', (t) => {
  const set = syntheticSet(0, 1, 600);
  const plan = planFinalFit(set);
  t.is(plan.calibrationEnd, rowCount(set));
  t.is(plan.calibrationEnd - plan.calibrationStart, Math.round(rowCount(set) * DEFAULT_WALK_FORWARD.calibrationFraction));
});

test('too short a series is refused with a message that says so', (t) => {
  const set = syntheticSet(0, 1, 120);
  t.throws(() => planWalkForward(set), { instanceOf: NotEnoughRowsError, message: /at least 50/ });
});

test('never scores a row the model trained on: a model that memorises its rows gains nothing on the test rows', async (t) => {
  const set = syntheticSet(0.3, 2, 800);
  // Predicts the exact label of any row it was fitted on, 0 otherwise: a leak would show as a perfect score.
  const memorise: TrainRegressors = async (jobs) =>
    jobs.map((job): Regressor => {
      const seen = new Map<string, number>();
      for (let r = 0; r < job.y.length; r++) seen.set(job.x.subarray(r * job.nFeatures, (r + 1) * job.nFeatures).join(), job.y[r]!);
      return {
        nTrees: 1,
        nFeatures: job.nFeatures,
        predictTrees(row, out) {
          const v = seen.get(Array.from(row).join()) ?? 0;
          out[0] = v;
          return v;
        },
      };
    });
  const { metrics } = await runWalkForward(set, memorise);
  t.is(metrics.pooled.model.mase, 1);
  t.is(metrics.pooled.model.intervalCoverage, metrics.pooled.noChange.intervalCoverage);
});

test('AR(1) returns with phi = 0.5: direction well above 50 %, significant Pesaran-Timmermann, beats both baselines', async (t) => {
  const { metrics } = await runWalkForward(syntheticSet(0.5, 7), sequentialForestTrainer(smallForest));
  const m = metrics.pooled.model;
  // Theory for a Gaussian AR(1): 1/2 + asin(0.5)/pi = 0.667 with the last return known.
  t.true(m.directionalAccuracy > 0.6, `accuracy ${m.directionalAccuracy}`);
  t.true(m.pesaranTimmermann.pValue! < 1e-6, `PT p-value ${m.pesaranTimmermann.pValue}`);
  t.true(m.mase! < 0.95, `MASE ${m.mase}`);
  t.true(m.directionalAccuracy > metrics.pooled.majority.directionalAccuracy + 0.05);
});

test('a pure random walk: direction about 50 %, no significant skill, no gain over no-change', async (t) => {
  const { metrics } = await runWalkForward(syntheticSet(0, 11), sequentialForestTrainer(smallForest));
  const m = metrics.pooled.model;
  t.true(Math.abs(m.directionalAccuracy - 0.5) < 0.04, `accuracy ${m.directionalAccuracy}`);
  t.true(m.pesaranTimmermann.pValue === null || m.pesaranTimmermann.pValue > 0.05, `PT p-value ${m.pesaranTimmermann.pValue}`);
  t.true(m.mase! > 0.98, `MASE ${m.mase}`);
});

test('conformal 80 % intervals cover about 80 % of walk-forward outcomes', async (t) => {
  for (const [phi, seed] of [[0.5, 7], [0, 11], [0.2, 5]] as const) {
    const { metrics, series } = await runWalkForward(syntheticSet(phi, seed), sequentialForestTrainer(smallForest));
    const c = metrics.pooled.model.intervalCoverage;
    t.true(Math.abs(c - 0.8) < 0.04, `phi ${phi}: coverage ${c}`);
    t.true(series.low.every((lo, i) => lo < series.high[i]!));
  }
});

test('a seeded run is reproducible; another seed gives other forests', async (t) => {
  const set = syntheticSet(0.3, 4, 1500);
  const a = await runWalkForward(set, sequentialForestTrainer(smallForest));
  const b = await runWalkForward(set, sequentialForestTrainer(smallForest));
  const c = await runWalkForward(set, sequentialForestTrainer({ ...smallForest, seed: 2 }));
  t.deepEqual(a.series.predicted, b.series.predicted);
  t.deepEqual(a.metrics, b.metrics);
  t.notDeepEqual(a.series.predicted, c.series.predicted);
});

test('fold scores and pooled scores agree on the rows they count', async (t) => {
  const set = syntheticSet(0.2, 9, 1000);
  const plans = planWalkForward(set);
  const regressors = await sequentialForestTrainer(smallForest)(plans.map((p) => fitJob(set, p)));
  const { metrics, series } = evaluateWalkForward(set, plans, regressors);
  const foldRows = metrics.folds.reduce((n, f) => n + f.model.rows, 0);
  t.is(foldRows, metrics.pooled.model.rows);
  t.is(series.actual.length, foldRows);
  t.is(series.tsMs[0], metrics.folds[0]!.testFromMs);
});

test('no look-ahead: changing the ticks after t changes no walk-forward prediction at or before t', async (t) => {
  const ticks = ar1PriceSeries({ length: 900, phi: 0.3, seed: 6 });
  const base = buildTrainingSet('SYN', computeSeriesFeatures(ticks), ticks, 1);
  const a = await runWalkForward(base, sequentialForestTrainer(smallForest));
  for (const k of [600, 750]) {
    const altered = ticks.map((p, i) => (i > k ? { tsMs: p.tsMs, price: p.price * (1.2 + 0.1 * Math.sin(i)) } : p));
    const set = buildTrainingSet('SYN', computeSeriesFeatures(altered), altered, 1);
    const b = await runWalkForward(set, sequentialForestTrainer(smallForest));
    let upTo = 0;
    while (upTo < a.series.tsMs.length && a.series.tsMs[upTo]! <= ticks[k]!.tsMs) upTo++;
    t.true(upTo > 50);
    t.deepEqual(b.series.predicted.subarray(0, upTo), a.series.predicted.subarray(0, upTo));
    t.deepEqual(b.series.low.subarray(0, upTo), a.series.low.subarray(0, upTo));
    t.notDeepEqual(b.series.predicted.subarray(upTo), a.series.predicted.subarray(upTo));
  }
});
