import test from 'ava';
import { computeSeriesFeatures } from './series-features.ts';
import { fitForecaster } from '../forecast/fit-forecaster.ts';
import type { PointRegressor } from '../forecast/forecaster.ts';
import { sequentialForestTrainer } from './forest-trainer.ts';
import { fitAndEvaluate, prepareSets, type CommodityForecasts } from './forecast-training.ts';
import { ar1PriceSeries } from './synthetic-series.ts';
import { resolveTrainParams } from './train-params.ts';
import { buildTrainingSet, rowCount, type TrainingSet } from './training-set.ts';
import { DEFAULT_WALK_FORWARD, evaluateFamilies, NotEnoughRowsError, planFinalFit, planWalkForward } from './walk-forward.ts';
import type { PricePoint } from '../features/window.ts';

const smallForest = { trees: 30, maxDepth: 6, maxFeatures: 0.5, minSamplesLeaf: 20, sampleFraction: 1, seed: 1 };

function syntheticSet(phi: number, seed: number, length = 3000, horizonTicks = 1): TrainingSet {
  const ticks = ar1PriceSeries({ length, phi, seed });
  return buildTrainingSet('SYN', computeSeriesFeatures(ticks), ticks, horizonTicks);
}

/** Every family of one synthetic commodity at horizon 1, through the training job's own path. */
async function evaluate(ticks: readonly PricePoint[], forest = smallForest): Promise<CommodityForecasts> {
  const params = resolveTrainParams({ horizons: [1], forest });
  const { prepared } = prepareSets([{ commodity: 'SYN', features: computeSeriesFeatures(ticks), ticks }], params);
  const [result] = await fitAndEvaluate(prepared, params, sequentialForestTrainer(params.forest));
  return result!;
}

const familyScores = (r: CommodityForecasts, family: string) => r.evaluation.families.find((f) => f.family === family)!;

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

test('never scores a row the model trained on: a forest that memorises its rows gains nothing on the test rows', (t) => {
  const set = syntheticSet(0.3, 2, 800);
  const plans = planWalkForward(set);
  // Predicts the exact (scaled) label of any row it was fitted on, 0 otherwise: a leak would show as a perfect score.
  const memorise = (end: number): PointRegressor => {
    const seen = new Map<string, number>();
    for (let r = 0; r < end; r++) seen.set(set.x.subarray(r * set.nFeatures, (r + 1) * set.nFeatures).join(), 1);
    return { nFeatures: set.nFeatures, predict: (row) => (seen.has(Array.from(row).join()) ? 1 : 0) };
  };
  const e = evaluateFamilies(set, plans, new Map([
    ['no_change', plans.map((p) => fitForecaster('no_change', set, p))],
    ['forest', plans.map((p) => fitForecaster('forest', set, p, memorise(p.fitEnd)))],
  ]));
  const [noChange, forest] = e.families;
  t.is(forest!.scores.mase, 1);
  t.deepEqual(forest!.quantiles, noChange!.quantiles);
});

test('AR(1) returns with phi = 0.5: the forest beats no change with evidence, is champion, and its calls are significant', async (t) => {
  const r = await evaluate(ar1PriceSeries({ length: 3000, phi: 0.5, seed: 7 }));
  t.is(r.decision.champion, 'forest');
  const m = familyScores(r, 'forest').scores;
  // Theory for a Gaussian AR(1): 1/2 + asin(0.5)/pi = 0.667 with the last return known.
  t.true(m.directionalAccuracy > 0.6, `accuracy ${m.directionalAccuracy}`);
  t.true(m.pesaranTimmermann.pValue! < 1e-6, `PT p-value ${m.pesaranTimmermann.pValue}`);
  t.true(m.mase! < 0.95, `MASE ${m.mase}`);
  t.true(m.brier < familyScores(r, 'no_change').scores.brier - 0.01, 'its calibrated probability carries the skill');
  t.is(r.finals.get('forest')!.forecaster.spec.direction!.pesaranTimmermannP, m.pesaranTimmermann.pValue);
});

test('a pure random walk: no family beats no change, which stays champion; the probability stays near a coin flip', async (t) => {
  const r = await evaluate(ar1PriceSeries({ length: 3000, phi: 0, seed: 11 }));
  t.is(r.decision.champion, 'no_change');
  for (const f of r.evaluation.families) {
    t.true(f.scores.brier < 0.2525, `${f.family} brier ${f.scores.brier}`);
    t.true(f.scores.pesaranTimmermann.pValue === null || f.scores.pesaranTimmermann.pValue > 0.01, `${f.family} PT ${f.scores.pesaranTimmermann.pValue}`);
  }
});

test('80 % intervals cover about 80 % of walk-forward outcomes, for every family', async (t) => {
  for (const [phi, seed] of [[0.5, 7], [0, 11]] as const) {
    const r = await evaluate(ar1PriceSeries({ length: 3000, phi, seed }));
    for (const f of r.evaluation.families) {
      t.true(Math.abs(f.scores.intervalCoverage - 0.8) < 0.04, `phi ${phi} ${f.family}: coverage ${f.scores.intervalCoverage}`);
    }
  }
});

test('a seeded run is reproducible; another seed gives other forests', async (t) => {
  const ticks = ar1PriceSeries({ length: 1500, phi: 0.3, seed: 4 });
  const a = await evaluate(ticks);
  const b = await evaluate(ticks);
  const c = await evaluate(ticks, { ...smallForest, seed: 2 });
  t.deepEqual(familyScores(a, 'forest').point, familyScores(b, 'forest').point);
  t.deepEqual(familyScores(a, 'forest').scores, familyScores(b, 'forest').scores);
  t.notDeepEqual(familyScores(a, 'forest').point, familyScores(c, 'forest').point);
});

test('fold scores and pooled scores agree on the rows they count', async (t) => {
  const r = await evaluate(ar1PriceSeries({ length: 1000, phi: 0.2, seed: 9 }));
  for (const f of r.evaluation.families) {
    t.is(f.folds.reduce((n, x) => n + x.scores.rows, 0), f.scores.rows);
    t.is(r.evaluation.test.actual.length, f.scores.rows);
  }
  t.is(r.evaluation.test.tsMs[0], r.evaluation.folds[0]!.testFromMs);
});

test('no look-ahead: changing the ticks after t changes no walk-forward forecast at or before t', async (t) => {
  const ticks = ar1PriceSeries({ length: 900, phi: 0.3, seed: 6 });
  const a = await evaluate(ticks);
  for (const k of [600, 750]) {
    const altered = ticks.map((p, i) => (i > k ? { tsMs: p.tsMs, price: p.price * (1.2 + 0.1 * Math.sin(i)) } : p));
    const b = await evaluate(altered);
    let upTo = 0;
    const ts = a.evaluation.test.tsMs;
    while (upTo < ts.length && ts[upTo]! <= ticks[k]!.tsMs) upTo++;
    t.true(upTo > 50);
    for (const family of ['no_change', 'forest', 'pooled_forest']) {
      const fa = familyScores(a, family);
      const fb = familyScores(b, family);
      t.deepEqual(fb.point.subarray(0, upTo), fa.point.subarray(0, upTo), family);
      t.deepEqual(fb.quantiles.subarray(0, upTo * 7), fa.quantiles.subarray(0, upTo * 7), family);
      t.deepEqual(fb.probabilityUp.subarray(0, upTo), fa.probabilityUp.subarray(0, upTo), family);
    }
    t.notDeepEqual(familyScores(b, 'forest').point.subarray(upTo), familyScores(a, 'forest').point.subarray(upTo));
  }
});
