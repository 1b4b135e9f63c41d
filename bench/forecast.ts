/**
 * `npm run bench -- forecast [options]` (`--help` lists them)
 *
 * The walk-forward of every forecaster family on the real series (daily WTI, Brent and Henry Hub; monthly gold)
 * with the training job's own code, and the champions it would serve. Over the daily series at horizon 1 it
 * reports the champion's 80 % interval coverage (overall and by volatility tercile), the Brier score of its
 * probability of a rise, its MASE, whether any served direction disagrees with its probability, and its interval
 * score against the baseline measured in the same run: a fixed-width split-conformal interval around no change on
 * the same rows (`winkler_ratio_*`). `train_s` times fitting and scoring every family and horizon of the three
 * daily series. Real prices only: no service is needed.
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OptionSpecs, OptionValues } from './_options.ts';
import type { BenchResult } from './run.ts';
import { predictionOf } from '../actors/commodity/prediction-message.ts';
import { INTERVAL, QUANTILE_LEVELS } from '../actors/forecast/distribution.ts';
import { parsePriceCsv } from '../actors/training/price-csv.ts';
import { computeSeriesFeatures } from '../actors/training/series-features.ts';
import { threadedForestTrainer } from '../actors/training/forest-trainer.ts';
import { fitAndEvaluate, prepareSets, skillOf, type CommodityForecasts } from '../actors/training/forecast-training.ts';
import { resolveTrainParams } from '../actors/training/train-params.ts';
import type { StoredSeries } from '../actors/training/feature-store-reader.ts';
import { Direction } from '../proto/gen/carbon/v1/prediction.ts';

export const summary = 'Walk-forward of every forecaster family on the real daily and monthly prices: coverage, Brier, MASE and interval score of the champions against a fixed-width interval, and training time.';

export const options = {
  threads: { default: availableParallelism(), help: 'worker threads for the forests' },
} as const satisfies OptionSpecs;

const DATA = process.env.CARBON_BENCH_DATA ?? join(import.meta.dirname, '..', 'data');
const DAILY = [
  ['WTI', 'wti-daily.csv'],
  ['BRENT', 'brent-daily.csv'],
  ['HENRY_HUB', 'henry-hub-daily.csv'],
] as const;
const MONTHLY = [['GOLD', 'gold-monthly.csv']] as const;

function progress(line: string): void {
  process.stderr.write(`[bench forecast] ${line}\n`);
}

function loadSeries(commodity: string, file: string): StoredSeries {
  const { ticks } = parsePriceCsv(readFileSync(join(DATA, file), 'utf8'), file);
  return { commodity, features: computeSeriesFeatures(ticks), ticks };
}

const r4 = (v: number) => Math.round(v * 10_000) / 10_000;

/** Rows whose served direction would contradict the probability: the wire message's, built as the actor builds it. */
function directionDisagreements(f: CommodityForecasts): number {
  const champion = f.evaluation.families.find((e) => e.family === f.decision.champion)!;
  const served = { version: 1, status: 'active' as const, trainedAtMs: 0, forecaster: f.finals.get(f.decision.champion)!.forecaster };
  const k = QUANTILE_LEVELS.length;
  let n = 0;
  for (let i = 0; i < champion.point.length; i++) {
    const d = { point: champion.point[i]!, quantiles: champion.quantiles.subarray(i * k, (i + 1) * k), scale: 1, probabilityUp: champion.probabilityUp[i]! };
    const p = predictionOf(f.commodity, served, d, { tsMs: f.evaluation.test.tsMs[i]!, price: f.evaluation.test.price[i]! }, 0, 0);
    if ((p.direction === Direction.DIRECTION_UP) !== p.probabilityUp > 0.5) n++;
    if (p.intervalLowReturn > p.intervalHighReturn) n++;
  }
  return n;
}

export default async function forecastBench(s: OptionValues<typeof options>): Promise<BenchResult> {
  const params = resolveTrainParams();
  const train = threadedForestTrainer(params.forest, s.threads);
  const daily = DAILY.map(([c, f]) => loadSeries(c, f));
  const monthly = MONTHLY.map(([c, f]) => loadSeries(c, f));
  progress(`data ${DATA}: ${[...daily, ...monthly].map((x) => `${x.commodity} ${x.ticks.length} ticks`).join(', ')}`);
  progress(`families ${params.families.join(', ')}; horizons ${params.horizons.join(', ')}; ${s.threads} thread(s)`);

  const started = performance.now();
  const dailySets = prepareSets(daily, params);
  const dailyResults = await fitAndEvaluate(dailySets.prepared, params, train);
  const trainS = (performance.now() - started) / 1000;
  progress(`daily series: every family and horizon fitted and scored in ${trainS.toFixed(1)} s`);
  const monthlySets = prepareSets(monthly, params);
  const monthlyResults = await fitAndEvaluate(monthlySets.prepared, params, train, { pool: [...dailySets.prepared, ...monthlySets.prepared].map((p) => p.set) });
  const all = [...dailyResults, ...monthlyResults];
  const prepared = dailySets.prepared.length + monthlySets.prepared.length;

  for (const f of all) {
    const champion = f.evaluation.families.find((e) => e.family === f.decision.champion)!;
    const skill = skillOf(champion, f.evaluation);
    progress(
      `${f.commodity.padEnd(9)} h=${String(f.horizonTicks).padEnd(2)} champion ${f.decision.champion.padEnd(13)} coverage ${(skill.intervalCoverage * 100).toFixed(1)} % ` +
        `terciles ${champion.scores.coverageByVolatilityTercile.map((c) => (c * 100).toFixed(0)).join('/')} brier ${skill.brier.toFixed(4)} MASE ${skill.mase.toFixed(4)} ` +
        `pinball/no_change ${skill.pinballRatio.toFixed(4)} winkler/fixed ${(champion.scores.intervalScore / f.evaluation.fixedInterval.intervalScore).toFixed(3)}`,
    );
    for (const v of f.decision.verdicts) if (v.family !== f.decision.champion) progress(`    ${v.family}: ${v.detail}`);
  }

  const dailyH1 = dailyResults.filter((f) => f.horizonTicks === 1);
  const championOf = (f: CommodityForecasts) => f.evaluation.families.find((e) => e.family === f.decision.champion)!;
  const coverages = dailyH1.map((f) => championOf(f).scores.intervalCoverage);
  const terciles = dailyH1.flatMap((f) => championOf(f).scores.coverageByVolatilityTercile);
  const worstTercile = terciles.reduce((w, c) => (Math.abs(c - INTERVAL.level) > Math.abs(w - INTERVAL.level) ? c : w));
  const winkler = (commodity: string) => {
    const f = dailyH1.find((x) => x.commodity === commodity)!;
    return r4(championOf(f).scores.intervalScore / f.evaluation.fixedInterval.intervalScore);
  };
  const byHorizon = (h: number) => {
    const fs = dailyResults.filter((f) => f.horizonTicks === h);
    const cov = fs.map((f) => championOf(f).scores.intervalCoverage);
    return { min: r4(Math.min(...cov)), max: r4(Math.max(...cov)), tercilesWorst: r4(fs.flatMap((f) => championOf(f).scores.coverageByVolatilityTercile).reduce((w, c) => (Math.abs(c - INTERVAL.level) > Math.abs(w - INTERVAL.level) ? c : w))) };
  };
  const h5 = byHorizon(5);
  const h20 = byHorizon(20);
  const gold = monthlyResults.find((f) => f.horizonTicks === 1);
  return {
    bench: 'forecast',
    min_coverage: r4(Math.min(...coverages)),
    max_coverage: r4(Math.max(...coverages)),
    worst_tercile_coverage: r4(worstTercile),
    max_brier: r4(Math.max(...dailyH1.map((f) => championOf(f).scores.brier))),
    direction_disagreements: dailyResults.reduce((n, f) => n + directionDisagreements(f), 0),
    max_mase: r4(Math.max(...dailyH1.map((f) => championOf(f).scores.mase ?? 1))),
    winkler_ratio_wti: winkler('WTI'),
    winkler_ratio_brent: winkler('BRENT'),
    winkler_ratio_henry_hub: winkler('HENRY_HUB'),
    served_share: r4(all.length / prepared),
    train_s: Math.round(trainS * 10) / 10,
    champions: all.map((f) => `${f.commodity}:${f.horizonTicks}:${f.decision.champion}`).join(' '),
    h5_min_coverage: h5.min,
    h5_max_coverage: h5.max,
    h5_worst_tercile_coverage: h5.tercilesWorst,
    h20_min_coverage: h20.min,
    h20_max_coverage: h20.max,
    h20_worst_tercile_coverage: h20.tercilesWorst,
    gold_h1_coverage: gold === undefined ? null : r4(championOf(gold).scores.intervalCoverage),
    skipped: dailySets.failures.length + monthlySets.failures.length,
    threads: s.threads,
  };
}
