import test from 'ava';
import { computeSeriesFeatures } from './series-features.ts';
import { sequentialForestTrainer } from './forest-trainer.ts';
import { fitAndEvaluate, prepareSets } from './forecast-training.ts';
import { formatEvaluation, textTable } from './metrics-text.ts';
import { ar1PriceSeries } from './synthetic-series.ts';
import { storedMetrics, type StoredMetrics } from './train-job.ts';
import { resolveTrainParams } from './train-params.ts';

async function metricsOf(phi: number, seed: number): Promise<StoredMetrics> {
  const ticks = ar1PriceSeries({ length: 1500, phi, seed });
  const params = resolveTrainParams({ horizons: [1], forest: { trees: 20, maxDepth: 5, minSamplesLeaf: 20, seed: 1 } });
  const { prepared } = prepareSets([{ commodity: 'SYN', features: computeSeriesFeatures(ticks), ticks }], params);
  const [r] = await fitAndEvaluate(prepared, params, sequentialForestTrainer(params.forest));
  return storedMetrics(r!);
}

test('every family is on one line against no_change; what no_change beats is marked, and the champion is named', async (t) => {
  const m = await metricsOf(0, 11);
  const text = formatEvaluation(m, 1);
  t.is(m.champion.champion, 'no_change');
  t.regex(text, /\* no_change/);
  for (const family of ['drift', 'forest', 'pooled_forest']) t.regex(text, new RegExp(`\\n\\s+${family} .*`));
  t.regex(text, /forest .*<- beaten by no_change|forest: not significantly better than no_change/);
  t.regex(text, /fixed-width interval/);
  t.regex(text, /left out: 21 warm-up, 1 without a label yet, 0 at a non-positive price/);
  t.regex(text, /forest: not significantly better than no_change \(pinball [\d.]+ vs [\d.]+ of no_change, Diebold-Mariano p = [\d.]+\)/);
});

test('a family with real skill is the champion and carries no beaten mark', async (t) => {
  const m = await metricsOf(0.5, 7);
  const text = formatEvaluation(m, 1);
  t.is(m.champion.champion, 'forest');
  t.regex(text, /\* forest/);
  t.notRegex(text.split('\n').find((l) => /\* forest/.test(l))!, /beaten/);
  t.regex(text, /forest: beats no_change/);
});

test('a text table pads every column to its widest cell', (t) => {
  t.deepEqual(textTable([['a', 'bb'], ['ccc', 'd']]), ['a    bb', 'ccc   d']);
});
