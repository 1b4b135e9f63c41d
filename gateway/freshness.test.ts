import test from 'ava';
import { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import { formatAge, freshnessOf, isStale } from './freshness.ts';

const prediction = (tickTsMs: number, predictedAtMs: number): Prediction => Prediction.create({
  commodity: 'WTI', tickTsMs, tickPrice: 70, modelVersion: 3, horizonTicks: 1, predictedReturn: 0.01, predictedPrice: 70.7,
  direction: 1, probabilityUp: 0.6, intervalLowReturn: -0.02, intervalHighReturn: 0.03, intervalLowPrice: 68.6,
  intervalHighPrice: 72.1, intervalLevel: 0.8, inferenceUs: 20, predictedAtMs,
});

test('every age is measured from the same instant: tick (observation), features, prediction (made), model (trained)', (t) => {
  const f = freshnessOf(10_000, { commodity: 'WTI', tsMs: 9_000, price: 70, nonPositivePrice: false, windowMin: 1, windowMax: 2, tickCount: 30 }, prediction(8_000, 9_500), 4_000);
  t.deepEqual(f, { asOfMs: 10_000, tickAgeMs: 2_000, featuresAgeMs: 1_000, predictionAgeMs: 500, modelAgeMs: 6_000 });
});

test('without a prediction the tick age is that of the features, and unknown ages are absent', (t) => {
  const f = freshnessOf(10_000, { commodity: 'WTI', tsMs: 9_000, price: 70, nonPositivePrice: false, windowMin: 1, windowMax: 2, tickCount: 30 }, undefined, undefined);
  t.is(f.tickAgeMs, 1_000);
  t.is(f.predictionAgeMs, undefined);
  t.is(f.modelAgeMs, undefined);
});

test('a clock behind the worker that made the prediction gives age 0, not a negative age', (t) => {
  t.is(freshnessOf(1_000, undefined, prediction(900, 1_200), undefined).predictionAgeMs, 0);
});

test('stale means made longer ago than the bound, whatever the age of the tick', (t) => {
  t.false(isStale(prediction(0, 9_000), 10_000, 1_000), 'a decades-old tick predicted a second ago is current');
  t.true(isStale(prediction(9_999, 8_999), 10_000, 1_000));
});

test('ages read as a person would say them', (t) => {
  t.is(formatAge(12), '12ms');
  t.is(formatAge(1_250), '1.250s');
  t.is(formatAge(125_000), '2m 05s');
  t.is(formatAge(3 * 3_600_000 + 2 * 60_000 + 5_000), '3h 02m 05s');
});
