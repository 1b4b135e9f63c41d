import test from 'ava';
import { chooseChampion, type FamilyResult } from './champion.ts';
import type { ForecastScores } from './forecast-scores.ts';
import type { FamilyName } from './forecaster.ts';

function result(family: FamilyName, pinball: readonly number[], intervalScore = 1): FamilyResult {
  const mean = pinball.reduce((a, b) => a + b, 0) / pinball.length;
  return {
    family,
    scores: { pinball: mean, intervalScore } as ForecastScores,
    losses: { pinball: Float64Array.from(pinball), intervalScore: new Float64Array(pinball.length).fill(intervalScore) },
  };
}

const base = Array.from({ length: 600 }, (_, i) => 1 + 0.3 * Math.sin(i * 1.3));

test('no_change stays champion when no family beats it significantly, and every verdict says why', (t) => {
  const noise = base.map((v, i) => v + 0.3 * Math.sin(i * 2.1) - 0.001);
  const d = chooseChampion([result('no_change', base), result('forest', noise)], 1);
  t.is(d.champion, 'no_change');
  t.regex(d.verdicts.find((v) => v.family === 'forest')!.detail, /not significantly better than no_change/);
});

test('a family that beats no_change with evidence becomes champion; the best of such wins', (t) => {
  const good = base.map((v, i) => v - 0.05 + 0.02 * Math.sin(i * 0.7));
  const better = base.map((v, i) => v - 0.08 + 0.02 * Math.cos(i * 0.9));
  const d = chooseChampion([result('no_change', base), result('drift', good), result('pooled_forest', better)], 1);
  t.is(d.champion, 'pooled_forest');
  t.true(d.verdicts.every((v) => v.eligible));
});

test('a better pinball with a worse interval score is not served', (t) => {
  const d = chooseChampion([result('no_change', base, 1), result('forest', base.map((v, i) => v - 0.05 + 0.02 * Math.sin(i * 0.7)), 1.2)], 1);
  t.is(d.champion, 'no_change');
  t.regex(d.verdicts.find((v) => v.family === 'forest')!.detail, /worse interval score/);
});

test('the reference must be among the results', (t) => {
  t.throws(() => chooseChampion([result('forest', base)], 1), { message: /no_change/ });
});
