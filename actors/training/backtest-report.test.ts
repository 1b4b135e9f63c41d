import test from 'ava';
import { renderBacktestReport, rollingMean } from './backtest-report.ts';
import { sequentialForestTrainer } from './forest-trainer.ts';
import { computeSeriesFeatures } from './series-features.ts';
import { ar1PriceSeries } from './synthetic-series.ts';
import { DEFAULT_TRAIN_PARAMS } from './train-params.ts';
import { buildTrainingSet } from './training-set.ts';
import { runWalkForward } from './walk-forward.ts';

async function report(phi: number, seed: number, commodity: string): Promise<string> {
  const ticks = ar1PriceSeries({ length: 1200, phi, seed });
  const set = buildTrainingSet(commodity, computeSeriesFeatures(ticks), ticks, 1);
  const forest = { trees: 15, maxDepth: 5, maxFeatures: 0.5, minSamplesLeaf: 5, seed: 1 };
  const { metrics, series } = await runWalkForward(set, sequentialForestTrainer(forest));
  return renderBacktestReport({
    commodity,
    params: { ...DEFAULT_TRAIN_PARAMS, forest },
    metrics,
    series,
    excluded: set.excluded,
    generatedAtMs: Date.UTC(2025, 0, 1),
  });
}

test('the report is one self-contained page: inline SVG charts, no script, nothing fetched', async (t) => {
  const html = await report(0.3, 5, 'WTI');
  t.true(html.startsWith('<!doctype html>'));
  t.is(html.match(/<svg /g)?.length, 8);
  t.notRegex(html, /<script|<link|<img|<iframe|@import|url\(/i);
  t.notRegex(html, /(src|href)=/i);
  t.regex(html, /<h1>WTI: walk-forward backtest<\/h1>/);
  t.regex(html, /Rolling directional hit rate over \d+ rows/);
  t.notRegex(html, /NaN|undefined|Infinity/);
});

test('figures a baseline beats are flagged in the page, and the verdict says so', async (t) => {
  const html = await report(0, 11, 'RW <test>');
  t.regex(html, /RW &lt;test&gt;: walk-forward backtest/, 'the commodity is escaped');
  t.regex(html, /class="bad">Does NOT beat the no-change forecast/);
  t.regex(html, /MAE of the log return<\/td><td>[\d.]+ <span class="flag">beaten by no-change/);
  const skilled = await report(0.5, 7, 'AR');
  t.regex(skilled, /class="good">Lower MAE than the no-change forecast/);
  const maeRow = /<tr><td>MAE of the log return<\/td>(.*?)<\/tr>/.exec(skilled)?.[1];
  t.truthy(maeRow);
  t.notRegex(maeRow!, /flag/);
});

test('rolling mean of a hand-computed case', (t) => {
  const r = rollingMean([1, 0, 1, 1, 0], 2);
  t.true(Number.isNaN(r[0]!));
  t.deepEqual(Array.from(r.subarray(1)), [0.5, 0.5, 1, 0.5]);
});
