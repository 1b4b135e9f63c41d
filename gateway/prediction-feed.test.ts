import test from 'ava';
import { Prediction } from '../proto/gen/carbon/v1/prediction.ts';
import { isNewer } from './prediction-feed.ts';

const p = (tickTsMs: number, predictedAtMs: number, modelVersion = 1): Prediction => Prediction.create({
  commodity: 'WTI', tickTsMs, tickPrice: 70, modelVersion, horizonTicks: 1, predictedReturn: 0, predictedPrice: 70, direction: 1, probabilityUp: 0.5,
  intervalLowReturn: 0, intervalHighReturn: 0, intervalLowPrice: 70, intervalHighPrice: 70, intervalLevel: 0.8, inferenceUs: 1, predictedAtMs,
});

test('a stream is sent a later tick, or the same tick predicted again later; never the same or an older one', (t) => {
  t.true(isNewer(p(1, 10), undefined), 'the first one');
  t.true(isNewer(p(2, 11), p(1, 10)));
  t.true(isNewer(p(2, 20, 2), p(2, 11, 1)), 'a new model on the same tick');
  t.false(isNewer(p(2, 11), p(2, 11)), 'the same prediction');
  t.false(isNewer(p(1, 30), p(2, 11)), 'an older tick from the online store after a newer one from the owner');
});
