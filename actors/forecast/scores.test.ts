import test from 'ava';
import { brierScore, intervalScore, pinballLoss } from './scores.ts';

test('pinball loss: tau times the shortfall above a quantile, (1 - tau) times the excess below it, averaged over levels', (t) => {
  // y = 1 against q = 0 at tau 0.9: 0.9; against q = 2 at tau 0.9: 0.1.
  t.is(pinballLoss(1, [0], [0.9]), 0.9);
  t.true(Math.abs(pinballLoss(1, [2], [0.9]) - 0.1) < 1e-12);
  t.true(Math.abs(pinballLoss(1, [0, 2], [0.9, 0.9]) - 0.5) < 1e-12);
  t.is(pinballLoss(3, [3, 3], [0.1, 0.9]), 0);
});

test('interval score: the width inside, plus 2 / alpha times the miss outside (Winkler)', (t) => {
  t.is(intervalScore(-1, 1, 0, 0.8), 2);
  t.true(Math.abs(intervalScore(-1, 1, 2, 0.8) - (2 + 10)) < 1e-9);
  t.true(Math.abs(intervalScore(-1, 1, -1.5, 0.8) - (2 + 5)) < 1e-9);
});

test('Brier: a coin flip scores 0.25 whatever happens; a flat price is not a rise', (t) => {
  t.is(brierScore(0.5, 0.01), 0.25);
  t.is(brierScore(0.5, -0.01), 0.25);
  t.is(brierScore(1, 0), 1);
  t.is(brierScore(0, 0), 0);
});
