import test from 'ava';
import { computeFeatures } from '../features/compute-features.ts';
import { fromTicks } from '../features/window.ts';
import { trainForest } from '../model/forest/train-forest.ts';
import { computeSeriesFeatures } from '../training/series-features.ts';
import { garchPriceSeries } from '../training/synthetic-series.ts';
import { buildTrainingSet, type TrainingSet } from '../training/training-set.ts';
import { planFinalFit, planWalkForward, evaluateFamilies } from '../training/walk-forward.ts';
import { INTERVAL, QUANTILE_LEVELS } from './distribution.ts';
import { fitForecaster, forestTargets, rowInputs } from './fit-forecaster.ts';
import type { FamilyName, Forecaster } from './forecaster.ts';
import { forestTargetScale } from './model-inputs.ts';

function garchSet(seed: number, length = 5000, horizonTicks = 1, drift = 0): TrainingSet {
  const ticks = garchPriceSeries({ length, seed, drift });
  return buildTrainingSet('SYN', computeSeriesFeatures(ticks), ticks, horizonTicks);
}

test('no_change: point 0, quantiles = scale x the residual offsets, ascending, wider when volatility is higher', (t) => {
  const set = garchSet(1);
  const f = fitForecaster('no_change', set, planFinalFit(set));
  const calm = f.forecastRow(0.005, undefined);
  const wild = f.forecastRow(0.03, undefined);
  t.is(calm.point, 0);
  for (let i = 0; i < QUANTILE_LEVELS.length; i++) {
    t.true(Math.abs(calm.quantiles[i]! - calm.scale * f.spec.residuals.offsets[i]!) < 1e-15);
    if (i > 0) t.true(calm.quantiles[i]! >= calm.quantiles[i - 1]!);
  }
  const width = (d: typeof calm) => d.quantiles[INTERVAL.highIndex]! - d.quantiles[INTERVAL.lowIndex]!;
  t.true(width(wild) > 2 * width(calm), `GARCH volatility is forecastable: ${width(calm)} vs ${width(wild)}`);
  t.true(f.spec.scale.weight > 0.5, `weight ${f.spec.scale.weight}`);
  t.true(calm.probabilityUp > 0.4 && calm.probabilityUp < 0.6);
});

test('walk-forward on clustered volatility: every family covers about 80 %, in calm and wild thirds alike', (t) => {
  const set = garchSet(2, 6000);
  const plans = planWalkForward(set);
  const families: FamilyName[] = ['no_change', 'drift'];
  const e = evaluateFamilies(set, plans, new Map(families.map((f) => [f, plans.map((p) => fitForecaster(f, set, p))])));
  for (const fam of e.families) {
    t.true(Math.abs(fam.scores.intervalCoverage - 0.8) < 0.03, `${fam.family}: ${fam.scores.intervalCoverage}`);
    for (const c of fam.scores.coverageByVolatilityTercile) t.true(c > 0.72 && c < 0.88, `${fam.family} tercile ${c}`);
    t.true(fam.scores.intervalScore < e.fixedInterval.intervalScore, 'sharper and better calibrated than a fixed width');
    t.true(fam.scores.brier < 0.255, `brier ${fam.scores.brier}`);
  }
  const fixedTerciles = e.fixedInterval.coverageByVolatilityTercile;
  t.true(fixedTerciles[0] - fixedTerciles[2] > 0.1, `a fixed width over-covers calm rows and under-covers wild ones: ${fixedTerciles}`);
});

test('drift forecasts the mean return of its fit rows; its probability leans with it', (t) => {
  const set = garchSet(3, 5000, 1, 0.002);
  const split = planFinalFit(set);
  const f = fitForecaster('drift', set, split);
  const mean = set.y.subarray(0, split.fitEnd).reduce((a, b) => a + b, 0) / split.fitEnd;
  t.true(Math.abs(f.spec.drift - mean) < 1e-12);
  t.true(f.forecastRow(0.01, undefined).probabilityUp > 0.5);
});

test('forest: the point is the forest on the scaled inputs times the volatility over the horizon', (t) => {
  const set = garchSet(4, 3000, 5);
  const split = planFinalFit(set);
  const job = forestTargets(set, 0, split.fitEnd);
  const forest = trainForest(job.x, job.y, set.nFeatures, { nTrees: 10, maxDepth: 4, minSamplesLeaf: 20, seed: 1 });
  const f: Forecaster = fitForecaster('forest', set, split, forest);
  const i = split.calibrationEnd - 1;
  const d = f.forecastRow(set.ewmaVolatility[i]!, rowInputs(set, i));
  t.true(Math.abs(d.point - forestTargetScale(set.ewmaVolatility[i]!, 5) * forest.predict(rowInputs(set, i))) < 1e-12);
  t.throws(() => fitForecaster('forest', set, split), { message: /needs its forest/ });
});

test('a non-positive price gets no forecast, with the reason, never an inverted interval', (t) => {
  const set = garchSet(5, 2000);
  const f = fitForecaster('no_change', set, planFinalFit(set));
  const ticks = garchPriceSeries({ length: 60, seed: 6 });
  const negative = [...ticks.slice(0, 59), { tsMs: ticks[59]!.tsMs, price: -36.98 }];
  const result = f.forecast(computeFeatures(fromTicks(negative, 50), 60));
  t.false(result.ok);
  if (!result.ok) t.regex(result.reason, /non-positive price/);
  const fine = f.forecast(computeFeatures(fromTicks(ticks, 50), 60));
  t.true(fine.ok);
  if (fine.ok) t.true(fine.distribution.quantiles[INTERVAL.lowIndex]! < fine.distribution.quantiles[INTERVAL.highIndex]!);
});
