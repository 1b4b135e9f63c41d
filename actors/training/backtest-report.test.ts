import test from 'ava';
import { renderBacktestReport, reliability, rollingMean } from './backtest-report.ts';
import { sequentialForestTrainer } from './forest-trainer.ts';
import { fitAndEvaluate, prepareSets } from './forecast-training.ts';
import { computeSeriesFeatures } from './series-features.ts';
import { ar1PriceSeries } from './synthetic-series.ts';
import { resolveTrainParams } from './train-params.ts';

async function report(phi: number, seed: number, commodity: string): Promise<string> {
  const ticks = ar1PriceSeries({ length: 1500, phi, seed });
  const params = resolveTrainParams({ horizons: [1, 5], forest: { trees: 15, maxDepth: 5, minSamplesLeaf: 20, seed: 1 } });
  const { prepared } = prepareSets([{ commodity, features: computeSeriesFeatures(ticks), ticks }], params);
  const forecasts = await fitAndEvaluate(prepared, params, sequentialForestTrainer(params.forest));
  return renderBacktestReport({ commodity, params, forecasts, generatedAtMs: Date.UTC(2025, 0, 1) });
}

test('the report is one self-contained page: every family per horizon, fan chart, terciles, reliability; no script, nothing fetched', async (t) => {
  const html = await report(0.3, 5, 'WTI');
  t.true(html.startsWith('<!doctype html>'));
  // Per horizon: fan chart, terciles, reliability, cumulative pinball, rolling coverage.
  t.is(html.match(/<svg /g)?.length, 10);
  t.notRegex(html, /<script|<link|<img|<iframe|@import|url\(/i);
  t.notRegex(html, /(src|href)=/i);
  t.regex(html, /<h1>WTI: walk-forward backtest<\/h1>/);
  t.regex(html, /Horizon 1 tick: champion/);
  t.regex(html, /Horizon 5 ticks: champion/);
  for (const family of ['no_change', 'drift', 'forest', 'pooled_forest']) t.regex(html, new RegExp(`<td>(&#9733; )?${family}</td>`));
  t.regex(html, /coverage by volatility tercile/);
  t.regex(html, /Reliability of /);
  t.notRegex(html, /NaN|undefined|Infinity/);
});

test('what no_change beats is flagged, and the commodity is escaped', async (t) => {
  const html = await report(0, 11, 'RW <test>');
  t.regex(html, /RW &lt;test&gt;: walk-forward backtest/);
  t.regex(html, /beaten by no_change/);
});

test('rolling mean and reliability of hand-computed cases', (t) => {
  const r = rollingMean([1, 0, 1, 1, 0], 2);
  t.true(Number.isNaN(r[0]!));
  t.deepEqual(Array.from(r.subarray(1)), [0.5, 0.5, 1, 0.5]);
  const p = Array.from({ length: 40 }, (_, i) => (i < 20 ? 0.25 : 0.75));
  const y = Array.from({ length: 40 }, (_, i) => (i < 20 ? (i < 5 ? 1 : -1) : i < 35 ? 1 : -1));
  t.deepEqual(reliability(p, y).points, [[0.25, 0.25], [0.75, 0.75]]);
});
