import test from 'ava';
import { seededGaussian } from '../training/synthetic-series.ts';
import {
  awaitOutcomes,
  checkpointOf,
  promotionLevel,
  duePromotions,
  emptyShadowState,
  keepServed,
  PROMOTION_MIN_OUTCOMES,
  seededShadowState,
  settleOutcomes,
  type ShadowScore,
  type ShadowState,
} from './shadow-scoring.ts';

const z = [-1.645, -1.2816, -0.6745, 0, 0.6745, 1.2816, 1.645];
const quantilesOf = (sigma: number) => Float64Array.from(z, (q) => q * sigma);

/**
 * Runs `ticks` one-tick-ahead forecasts of returns with volatility 0.01: the champion's quantiles have width
 * `championSigma`, the challenger's `challengerSigma`. Returns the state and every promotion that fell due.
 */
function run(ticks: number, championSigma: number, challengerSigma: number, start: ShadowState = emptyShadowState, seed = 1) {
  const e = seededGaussian(seed);
  let state = start;
  let price = 100;
  const promoted: { outcomes: number; p: number }[] = [];
  for (let tick = 1; tick <= ticks; tick++) {
    price *= Math.exp(0.01 * e());
    const settled = settleOutcomes(state, tick, tick * 1000, price);
    const due = duePromotions(settled.state, settled.changed);
    state = awaitOutcomes(due.state, [
      {
        horizonTicks: 1,
        dueTickCount: tick + 1,
        tickPrice: price,
        champion: { family: 'no_change', modelVersion: 10, quantiles: quantilesOf(championSigma) },
        challengers: [{ family: 'drift', modelVersion: 11, quantiles: quantilesOf(challengerSigma) }],
      },
    ]);
    for (const d of due.due) promoted.push({ outcomes: d.score.realised, p: d.test.pValue! });
  }
  return { state, promoted };
}

test('a challenger with honest intervals beats a champion with too wide ones, and is promoted once, after enough outcomes', (t) => {
  const { promoted, state } = run(1200, 0.03, 0.01);
  t.is(promoted.length, 1);
  t.is(promoted[0]!.outcomes, PROMOTION_MIN_OUTCOMES, 'at the first checkpoint');
  t.true(promoted[0]!.p < promotionLevel(0, 1));
  const score = [...state.scores.values()][0]!;
  t.true(score.sumIntervalScore < score.sumChampionIntervalScore);
  t.true(Math.abs(score.covered / score.realised - 0.8) < 0.05, `the challenger's 80 % interval covers ${score.covered / score.realised}`);
});

test('a worse challenger is never promoted, and neither is a better one with too few outcomes', (t) => {
  t.is(run(1200, 0.01, 0.03).promoted.length, 0);
  t.is(run(PROMOTION_MIN_OUTCOMES - 10, 0.03, 0.01).promoted.length, 0);
  t.is(run(1200, 0.01, 0.0101).promoted.length, 0, 'practically the same intervals: no evidence');
});

test('the test is looked at only at checkpoints, each spending part of the 0.05, split between the challengers', (t) => {
  t.deepEqual([249, 250, 251, 500, 750, 1000, 2000].map(checkpointOf), [undefined, 0, undefined, 1, undefined, 2, 3]);
  t.is(promotionLevel(0, 1), 0.025);
  t.is(promotionLevel(1, 3), 0.05 / 4 / 3);
  let spent = 0;
  for (let k = 0; k < 30; k++) spent += promotionLevel(k, 1);
  t.true(spent < 0.05);
});

test('a challenger no better than its champion is promoted in about none of many streams, though tested for thousands of outcomes', (t) => {
  let promotions = 0;
  for (let seed = 1; seed <= 40; seed++) promotions += run(2100, 0.01, 0.01, undefined, seed).promoted.length;
  t.true(promotions <= 2, `${promotions} promotions of an equal challenger in 40 streams`);
});

test('a score resumed from its stored row never counts an outcome at or before the row again', (t) => {
  const first = run(300, 0.02, 0.01);
  const stored = [...first.state.scores.values()] as ShadowScore[];
  const resumed = seededShadowState(JSON.parse(JSON.stringify(stored)) as ShadowScore[]);
  // A replay of the same ticks (a worker restart redelivers them) changes nothing.
  const replay = run(300, 0.02, 0.01, resumed);
  t.deepEqual([...replay.state.scores.values()].map((s) => s.realised), stored.map((s) => s.realised));
});

test('only what the served versions own is kept after a model change', (t) => {
  const { state } = run(50, 0.02, 0.01);
  t.is(keepServed(state, new Set([10, 11])).scores.size, 1);
  const dropped = keepServed(state, new Set([10, 12]));
  t.is(dropped.scores.size, 0);
  t.true(dropped.awaiting.every((a) => a.challengers.length === 0));
  t.is(keepServed(state, new Set([12])).awaiting.length, 0);
});

test('an outcome across a non-positive price is not scored', (t) => {
  const state = awaitOutcomes(emptyShadowState, [
    { horizonTicks: 1, dueTickCount: 2, tickPrice: 18.27, champion: { family: 'no_change', modelVersion: 1, quantiles: quantilesOf(0.02) }, challengers: [{ family: 'drift', modelVersion: 2, quantiles: quantilesOf(0.02) }] },
  ]);
  const settled = settleOutcomes(state, 2, 2000, -36.98);
  t.is(settled.changed.length, 0);
  t.is(settled.state.awaiting.length, 0);
});
