import test from 'ava';
import { Direction, Prediction } from '../../proto/gen/carbon/v1/prediction.ts';
import { awaitOutcome, noOutcomes, realizeOutcomes } from './live-outcomes.ts';

const prediction = (tickPrice: number, up: boolean, low: number, high: number, horizonTicks = 1): Prediction => Prediction.create({
  commodity: 'WTI', tickTsMs: 0, tickPrice, modelVersion: 1, horizonTicks, predictedReturn: up ? 0.01 : -0.01, predictedPrice: 0,
  direction: up ? Direction.DIRECTION_UP : Direction.DIRECTION_DOWN, probabilityUp: 0.5, intervalLowReturn: low,
  intervalHighReturn: high, intervalLowPrice: 0, intervalHighPrice: 0, intervalLevel: 0.8, inferenceUs: 1, predictedAtMs: 0,
});
const counts = (o: ReturnType<typeof realizeOutcomes>, h = 1) => o.byHorizon.get(h) ?? { realized: 0, hits: 0, covered: 0 };

test('a prediction is settled by the tick its horizon names: hit when the direction was right, covered inside the interval', (t) => {
  let o = awaitOutcome(noOutcomes, prediction(100, true, -0.02, 0.02), 10);
  o = realizeOutcomes(o, 10, 101);
  t.is(counts(o).realized, 0, 'not due before tick 11');
  o = realizeOutcomes(o, 11, 101); // ln(1.01) = 0.00995: up, inside
  t.like(counts(o), { realized: 1, hits: 1, covered: 1 });
  o = awaitOutcome(o, prediction(101, true, -0.02, 0.02), 11);
  o = realizeOutcomes(o, 12, 95); // ln(95/101) = -0.0612: down, outside
  t.like(counts(o), { realized: 2, hits: 1, covered: 1 });
  t.is(o.awaiting.length, 0);
});

test('longer horizons wait their turn, and no outcome is scored across a non-positive price', (t) => {
  let o = awaitOutcome(noOutcomes, prediction(10, false, -1, 1, 3), 1);
  o = awaitOutcome(o, prediction(-5, false, -1, 1, 1), 2);
  o = realizeOutcomes(o, 3, 9);
  t.like(counts(o, 3), { realized: 0 });
  t.is(o.awaiting.length, 1, 'the horizon-3 prediction still waits; the one made at a negative price was settled unscored');
  o = realizeOutcomes(o, 4, 9);
  t.like(counts(o, 3), { realized: 1, hits: 1, covered: 1 });
});
