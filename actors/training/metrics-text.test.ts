import test from 'ava';
import { sequentialForestTrainer } from './forest-trainer.ts';
import { formatWalkForward, verdicts } from './metrics-text.ts';
import { computeSeriesFeatures } from './series-features.ts';
import { ar1PriceSeries } from './synthetic-series.ts';
import { buildTrainingSet } from './training-set.ts';
import { runWalkForward, type WalkForwardMetrics } from './walk-forward.ts';

async function metricsOf(phi: number, seed: number): Promise<WalkForwardMetrics> {
  const ticks = ar1PriceSeries({ length: 1200, phi, seed });
  const set = buildTrainingSet('SYN', computeSeriesFeatures(ticks), ticks, 1);
  return (await runWalkForward(set, sequentialForestTrainer({ trees: 20, maxDepth: 5, maxFeatures: 0.5, minSamplesLeaf: 5, seed: 1 }))).metrics;
}

test('figures a baseline beats are marked, and the verdicts say the model does not beat it', async (t) => {
  const m = await metricsOf(0, 11);
  const text = formatWalkForward(m, { warmUp: 21, noLabelYet: 1, nonPositivePrice: 0 });
  t.true(m.pooled.model.mae >= m.pooled.noChange.mae, 'this seed: no-change wins on MAE');
  t.regex(text, /MAE \(log return\).*<- beaten by no-change/);
  t.regex(text, /Does NOT beat the no-change forecast/);
  t.regex(text, /left out: 21 warm-up, 1 without a label yet, 0 at a non-positive price/);
  t.is(text.split('\n').filter((l) => /^\s+\d\. /.test(l)).length, 5);
});

test('a model with real skill is reported as beating the baselines, with no beaten marks on those figures', async (t) => {
  const m = await metricsOf(0.5, 7);
  const text = formatWalkForward(m);
  t.notRegex(text, /direction accuracy.*beaten/);
  t.notRegex(text, /MAE \(log return\).*beaten/);
  const v = verdicts(m);
  t.regex(v[0]!, /^Lower MAE than the no-change forecast/);
  t.regex(v[1]!, /above the majority baseline/);
  t.regex(v[2]!, /significant/);
});
