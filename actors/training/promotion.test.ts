import test from 'ava';
import { decidePromotion, type ValidationScores } from './promotion.ts';

const good: ValidationScores = { mase: 0.97, directionalAccuracy: 0.56, majorityAccuracy: 0.52 };

test('first model: promoted when it beats both baselines', (t) => {
  const d = decidePromotion(good, undefined);
  t.true(d.promote);
  t.deepEqual(d.reasons, []);
  t.deepEqual(d.checks.map((c) => c.name), ['beats_no_change', 'beats_majority']);
});

test('rejected when the no-change forecast has the lower MAE', (t) => {
  const d = decidePromotion({ ...good, mase: 1.003 }, undefined);
  t.false(d.promote);
  t.deepEqual(d.reasons, ['MASE 1.0030 >= 1: the no-change forecast has the lower MAE']);
});

test('rejected when direction is no better than always calling the majority', (t) => {
  const d = decidePromotion({ ...good, directionalAccuracy: 0.52 }, undefined);
  t.false(d.promote);
  t.regex(d.reasons[0]!, /52\.00 % <= majority baseline 52\.00 %/);
});

test('rejected without scale (every validation return 0)', (t) => {
  t.false(decidePromotion({ ...good, mase: null }, undefined).promote);
});

test('with a model in service: promoted only on lower MASE and no lower accuracy', (t) => {
  const serving = { version: 7, scores: { mase: 0.98, directionalAccuracy: 0.55, majorityAccuracy: 0.5 } };
  t.true(decidePromotion(good, serving).promote);
  const worseMase = decidePromotion({ ...good, mase: 0.99 }, serving);
  t.false(worseMase.promote);
  t.regex(worseMase.reasons[0]!, /does not beat the model in service.*v7/);
  t.false(decidePromotion({ ...good, directionalAccuracy: 0.545 }, serving).promote);
  t.true(decidePromotion({ ...good, directionalAccuracy: 0.55 }, serving).promote);
});

test('a model in service without comparable scores blocks automatic promotion, and every failed check is listed', (t) => {
  const d = decidePromotion({ mase: 1.1, directionalAccuracy: 0.5, majorityAccuracy: 0.51 }, { version: 3, scores: undefined });
  t.false(d.promote);
  t.is(d.reasons.length, 3);
  t.regex(d.reasons[2]!, /v3 has no comparable validation scores/);
});
