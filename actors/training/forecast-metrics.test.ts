import test from 'ava';
import { constantDirectionAccuracy, majorityDirectionUp, scoreForecasts } from './forecast-metrics.ts';

test('scores of a hand-computed case', (t) => {
  const s = scoreForecasts({
    actual: [0.02, -0.01, 0, 0.03],
    predicted: [0.01, 0.01, -0.005, 0.01],
    low: [0, -0.02, -0.01, 0.02],
    high: [0.02, 0, 0.01, 0.025],
  });
  t.is(s.rows, 4);
  // Directions: up/up right, not-up/up wrong, flat/not-up right, up/up right.
  t.is(s.directionalAccuracy, 0.75);
  t.is(s.actualUpShare, 0.5);
  t.is(s.predictedUpShare, 0.75);
  // |errors| 0.01, 0.02, 0.005, 0.02 -> MAE 0.01375; no-change MAE (0.02 + 0.01 + 0 + 0.03) / 4 = 0.015.
  t.true(Math.abs(s.mae - 0.01375) < 1e-12);
  t.true(Math.abs(s.mase! - 0.01375 / 0.015) < 1e-12);
  // Inside: 0.02 in [0, 0.02] yes; -0.01 in [-0.02, 0] yes; 0 in [-0.01, 0.01] yes; 0.03 in [0.02, 0.025] no.
  t.is(s.intervalCoverage, 0.75);
  t.true(Math.abs(s.meanIntervalWidth - (0.02 + 0.02 + 0.02 + 0.005) / 4) < 1e-12);
});

test('MASE is null when every actual return is zero', (t) => {
  const s = scoreForecasts({ actual: [0, 0], predicted: [0.1, -0.1], low: [0, 0], high: [0, 0] });
  t.is(s.mase, null);
});

test('majority baseline: the majority direction of the training labels, called on every row', (t) => {
  t.true(majorityDirectionUp([0.1, 0.2, -0.1]));
  t.false(majorityDirectionUp([0.1, -0.2, 0]));
  t.false(majorityDirectionUp([0.1, -0.2]));
  t.is(constantDirectionAccuracy([0.1, -0.1, 0, 0.2], true), 0.5);
  t.is(constantDirectionAccuracy([0.1, -0.1, 0, 0.2], false), 0.5);
  t.is(constantDirectionAccuracy([0.1, 0.3, 0, 0.2], true), 0.75);
});

test('arrays of different lengths are refused', (t) => {
  t.throws(() => scoreForecasts({ actual: [1, 2], predicted: [1], low: [0, 0], high: [3, 3] }), { message: /predicted/ });
});
