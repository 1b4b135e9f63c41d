/**
 * The walk-forward backtest as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched):
 * verdicts first, then the model beside its baselines over time: cumulative advantage over no-change, rolling
 * hit rate, rolling interval coverage, predicted against actual, per-fold scores and the calibration of the
 * direction probability.
 */
import { barChart, escapeHtml, legend, thin, xyChart, type Point } from './svg-chart.ts';
import { verdicts } from './metrics-text.ts';
import type { ExcludedRows } from './training-set.ts';
import type { TrainParams } from './train-params.ts';
import type { WalkForwardMetrics, WalkForwardSeries } from './walk-forward.ts';

export interface BacktestReportInput {
  readonly commodity: string;
  readonly params: TrainParams;
  readonly metrics: WalkForwardMetrics;
  readonly series: WalkForwardSeries;
  readonly excluded: ExcludedRows;
  readonly generatedAtMs: number;
}

const colors = {
  model: '#2563eb',
  band: 'rgba(37, 99, 235, 0.16)',
  majority: '#d97706',
  noChange: '#6b7280',
  actual: 'rgba(17, 24, 39, 0.55)',
  good: '#15803d',
  bad: '#b91c1c',
};

const pct = (v: number, d = 1) => `${(v * 100).toFixed(d)} %`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const year = (ms: number) => new Date(ms).toISOString().slice(0, 4);
const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);
const int = (n: number) => n.toLocaleString('en-US');

/** Trailing mean of `values` over `window` rows (defined from the window-th row on). */
export function rollingMean(values: ArrayLike<number>, window: number): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= window) sum -= values[i - window]!;
    if (i >= window - 1) out[i] = sum / window;
  }
  return out;
}

function quantile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))]!;
}

function points(xs: Float64Array, ys: ArrayLike<number>): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(ys[i]!)) out.push([xs[i]!, ys[i]!]);
  return out;
}

function extent(values: readonly number[], pad = 0.05): [number, number] {
  const finite = values.filter(Number.isFinite);
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

export function renderBacktestReport(input: BacktestReportInput): string {
  const { commodity, metrics: m, series: s, params } = input;
  const n = s.actual.length;
  const p = m.pooled;
  const window = Math.max(20, Math.min(250, Math.round(n / 20)));
  const levelPct = `${Math.round(m.options.intervalLevel * 100)} %`;
  const timeSpan = (s.tsMs[n - 1]! - s.tsMs[0]!) / (365.25 * 86_400_000);
  const xFormat = timeSpan >= 2 ? year : month;
  const xAxis = { domain: [s.tsMs[0]!, s.tsMs[n - 1]!] as const, format: xFormat, kind: 'time' as const };
  const foldLines = m.folds.slice(1).map((f) => ({ value: f.testFromMs, label: `fold ${f.fold + 1}` }));

  // Per-row outcomes.
  const hit = new Float64Array(n);
  const majorityHit = new Float64Array(n);
  const covered = new Float64Array(n);
  const noChangeCovered = new Float64Array(n);
  const advantage = new Float64Array(n);
  let cum = 0;
  for (let i = 0; i < n; i++) {
    const y = s.actual[i]!;
    hit[i] = y > 0 === s.predicted[i]! > 0 ? 1 : 0;
    majorityHit[i] = y > 0 === (s.majorityUp[i] === 1) ? 1 : 0;
    covered[i] = y >= s.low[i]! && y <= s.high[i]! ? 1 : 0;
    const fold = m.folds[s.fold[i]!]!;
    noChangeCovered[i] = Math.abs(y) <= fold.noChange.meanIntervalWidth / 2 ? 1 : 0;
    cum += Math.abs(y) - Math.abs(y - s.predicted[i]!);
    advantage[i] = cum;
  }

  // 1. Cumulative advantage over no-change.
  const advChart = xyChart({
    title: 'Cumulative absolute error saved against the no-change forecast',
    x: xAxis,
    y: { domain: extent([...advantage, 0]), format: (v) => v.toFixed(2), label: 'sum of |y| - |y - prediction|' },
    lines: [{ label: 'model minus no-change, cumulative', color: cum >= 0 ? colors.good : colors.bad, points: points(s.tsMs, advantage), width: 2 }],
    hLines: [{ value: 0, label: 'no-change forecast' }],
    vLines: foldLines,
  });

  // 2. Rolling hit rate.
  const rollHit = rollingMean(hit, window);
  const rollMaj = rollingMean(majorityHit, window);
  const hitChart = xyChart({
    title: `Rolling directional hit rate over ${window} rows`,
    x: xAxis,
    y: { domain: extent([...rollHit, ...rollMaj, 0.5].filter(Number.isFinite) as number[], 0.1), format: (v) => pct(v, 0) },
    lines: [
      { label: 'majority baseline', color: colors.majority, points: points(s.tsMs, rollMaj), dash: '5 3' },
      { label: 'model', color: colors.model, points: points(s.tsMs, rollHit), width: 2 },
    ],
    hLines: [{ value: 0.5, label: 'coin flip' }],
    vLines: foldLines,
  });

  // 3. Rolling coverage.
  const rollCov = rollingMean(covered, window);
  const rollNcCov = rollingMean(noChangeCovered, window);
  const covChart = xyChart({
    title: `Rolling ${levelPct} interval coverage over ${window} rows`,
    x: xAxis,
    y: { domain: [Math.min(0.4, ...(Array.from(rollCov).filter(Number.isFinite))), 1], format: (v) => pct(v, 0) },
    lines: [
      { label: 'no-change interval', color: colors.noChange, points: points(s.tsMs, rollNcCov), dash: '5 3' },
      { label: 'model interval', color: colors.model, points: points(s.tsMs, rollCov), width: 2 },
    ],
    hLines: [{ value: m.options.intervalLevel, label: `target ${levelPct}` }],
    vLines: foldLines,
  });

  // 4. Predicted against actual, the latest rows in time.
  const recent = Math.min(n, 250);
  const from = n - recent;
  const rx = s.tsMs.subarray(from);
  const recentValues = [...s.actual.subarray(from), ...s.low.subarray(from), ...s.high.subarray(from)];
  const recentChart = xyChart({
    title: `Predicted and actual returns, the last ${recent} scored rows`,
    x: { domain: [rx[0]!, rx[recent - 1]!], format: timeSpan >= 2 && (rx[recent - 1]! - rx[0]!) > 3 * 365.25 * 86_400_000 ? year : month, kind: 'time' },
    y: { domain: extent(recentValues), format: (v) => pct(v, 1), label: 'log return' },
    bands: [{ label: `${levelPct} interval`, color: colors.band, points: Array.from(rx, (x, i) => [x, s.low[from + i]!, s.high[from + i]!] as const) }],
    dots: [{ label: 'actual', color: colors.actual, points: points(rx, s.actual.subarray(from)), radius: 1.8 }],
    lines: [{ label: 'predicted', color: colors.model, points: points(rx, s.predicted.subarray(from)), width: 1.6 }],
    hLines: [{ value: 0, color: '#9ca3af' }],
  });

  // 5. Scatter of all rows, axes clipped to the central 98 % of outcomes.
  const sortedActual = Float64Array.from(s.actual).sort();
  const lo = quantile(sortedActual, 0.01);
  const hi = quantile(sortedActual, 0.99);
  const predExtent = extent(Array.from(s.predicted), 0.1);
  const scatter = xyChart({
    title: 'Predicted against actual return, every scored row',
    width: 420,
    height: 300,
    x: { domain: predExtent, format: (v) => pct(v, 2), label: 'predicted' },
    y: { domain: [lo, hi], format: (v) => pct(v, 1), label: 'actual' },
    dots: [{ label: 'rows', color: 'rgba(37, 99, 235, 0.35)', points: thin(Array.from(s.predicted, (v, i) => [v, s.actual[i]!] as const), 4000), radius: 1.5 }],
    hLines: [{ value: 0, color: '#9ca3af' }],
    vLines: [{ value: 0, color: '#9ca3af' }],
  });

  // 6. Per fold.
  const foldAcc = barChart({
    title: 'Directional accuracy per fold',
    series: [
      { label: 'model', color: colors.model },
      { label: 'majority baseline', color: colors.majority },
    ],
    groups: m.folds.map((f) => ({ label: `${f.fold + 1}`, values: [f.model.directionalAccuracy, f.majorityAccuracy] })),
    y: { domain: [0.3, 0.75], format: (v) => pct(v, 0) },
    hLines: [{ value: 0.5 }],
  });
  const maseMax = Math.max(1.2, ...m.folds.map((f) => f.model.mase ?? 0));
  const foldMase = barChart({
    title: 'MASE per fold (below 1 beats no-change)',
    series: [{ label: 'model MASE', color: colors.model }],
    groups: m.folds.map((f) => ({ label: `${f.fold + 1}`, values: [f.model.mase] })),
    y: { domain: [0.8, maseMax], format: (v) => v.toFixed(2) },
    hLines: [{ value: 1, label: 'no-change', color: colors.noChange }],
  });

  // 7. Calibration of the direction probability.
  const bins = 10;
  const binCount = new Float64Array(bins);
  const binUp = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.floor(s.probabilityUp[i]! * bins));
    binCount[b]!++;
    if (s.actual[i]! > 0) binUp[b]!++;
  }
  const calibrationPoints: Point[] = [];
  const calibrationLabels: string[] = [];
  for (let b = 0; b < bins; b++) {
    if (binCount[b]! < 10) continue;
    calibrationPoints.push([(b + 0.5) / bins, binUp[b]! / binCount[b]!]);
    calibrationLabels.push(`${pct(b / bins, 0)}-${pct((b + 1) / bins, 0)}: ${int(binCount[b]!)} rows, ${pct(binUp[b]! / binCount[b]!)} went up`);
  }
  const calibration = xyChart({
    title: 'Share of trees predicting a rise against the share of rows that rose',
    width: 420,
    height: 300,
    x: { domain: [0, 1], format: (v) => pct(v, 0), label: 'trees predicting a rise' },
    y: { domain: [0, 1], format: (v) => pct(v, 0), label: 'rows that rose' },
    lines: [
      { label: 'perfect calibration', color: '#9ca3af', points: [[0, 0], [1, 1]], dash: '4 3', width: 1 },
      { label: 'observed (bins of 10 %, at least 10 rows)', color: colors.model, points: calibrationPoints, width: 2 },
    ],
    dots: [{ label: calibrationLabels.join('\n'), color: colors.model, points: calibrationPoints, radius: 3.5 }],
  });

  const verdictItems = verdicts(m)
    .map((v) => `<li class="${/NOT|No significant|narrower \(|undefined|majority direction would/.test(v) ? 'bad' : 'good'}">${escapeHtml(v)}</li>`)
    .join('');
  const beaten = (yes: boolean, by: string) => (yes ? ` <span class="flag">beaten by ${escapeHtml(by)}</span>` : '');
  const pt = p.model.pesaranTimmermann;
  const f = params.forest;

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(commodity)} walk-forward backtest</title>
<style>
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;background:#f6f7f9;margin:0}
main{max-width:980px;margin:0 auto;padding:28px 22px 60px}
h1{font-size:26px;margin:0 0 2px}h2{font-size:17px;margin:0 0 4px}
.sub{color:#6b7280;margin:0 0 18px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:16px 18px;margin:14px 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:14px}.grid .card{margin:0}
.note{color:#6b7280;font-size:12.5px;margin:2px 0 8px}
ul.verdicts{list-style:none;padding:0;margin:0}ul.verdicts li{padding:6px 10px 6px 30px;border-radius:6px;margin:4px 0;position:relative}
ul.verdicts li::before{position:absolute;left:10px;font-weight:700}
li.good{background:#f0fdf4}li.good::before{content:"\\2713";color:${colors.good}}
li.bad{background:#fef2f2}li.bad::before{content:"\\2717";color:${colors.bad}}
table{border-collapse:collapse;width:100%}th,td{padding:6px 10px;text-align:right;border-bottom:1px solid #f0f1f3}
th:first-child,td:first-child{text-align:left}thead th{color:#6b7280;font-weight:600;font-size:12.5px}
.flag{display:inline-block;background:#fee2e2;color:${colors.bad};border-radius:4px;padding:0 6px;font-size:11.5px;margin-left:6px}
.legend{display:flex;gap:16px;flex-wrap:wrap;font-size:12.5px;color:#4b5563;margin:4px 0 2px}
.legend i{display:inline-block;width:16px;height:4px;border-radius:2px;margin-right:6px;vertical-align:middle}
svg text.ref{fill:#6b7280;font-size:10.5px}svg text.yl{font-size:10.5px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}dt{color:#6b7280}dd{margin:0}
@media (max-width:760px){.grid{grid-template-columns:1fr}}
</style></head><body><main>
<h1>${escapeHtml(commodity)}: walk-forward backtest</h1>
<p class="sub">${int(p.model.rows)} out-of-sample rows from ${day(s.tsMs[0]!)} to ${day(s.tsMs[n - 1]!)} in ${m.folds.length} folds,
forward log return over ${m.horizonTicks} tick${m.horizonTicks === 1 ? '' : 's'}; ${f.trees} trees of depth ${f.maxDepth}; generated ${day(input.generatedAtMs)}.</p>

<section class="card"><h2>Verdict</h2><ul class="verdicts">${verdictItems}</ul></section>

<section class="card"><h2>Scores beside the baselines</h2>
<p class="note">Every row was scored by a model fitted only on rows whose labels end before its fold began. The majority baseline always calls the direction most frequent in its training window; the no-change forecast predicts a return of 0 (its interval is 0 &plusmn; the same conformal quantile of |return|).</p>
<table><thead><tr><th></th><th>model</th><th>majority</th><th>no-change</th></tr></thead><tbody>
<tr><td>directional accuracy</td><td>${pct(p.model.directionalAccuracy, 2)}${beaten(p.majority.directionalAccuracy >= p.model.directionalAccuracy, 'majority')}</td><td>${pct(p.majority.directionalAccuracy, 2)}</td><td>no call</td></tr>
<tr><td>Pesaran-Timmermann</td><td>${pt.statistic === null ? 'n/a' : `${pt.statistic.toFixed(2)} (p = ${pt.pValue!.toFixed(4)})`}</td><td></td><td></td></tr>
<tr><td>MAE of the log return</td><td>${p.model.mae.toFixed(5)}${beaten(p.noChange.mae <= p.model.mae, 'no-change')}</td><td></td><td>${p.noChange.mae.toFixed(5)}</td></tr>
<tr><td>MASE (model MAE / no-change MAE)</td><td>${p.model.mase === null ? 'n/a' : p.model.mase.toFixed(4)}</td><td></td><td>1</td></tr>
<tr><td>${levelPct} interval coverage</td><td>${pct(p.model.intervalCoverage, 2)}</td><td></td><td>${pct(p.noChange.intervalCoverage, 2)}</td></tr>
<tr><td>mean interval width</td><td>${p.model.meanIntervalWidth.toFixed(4)}${beaten(p.noChange.meanIntervalWidth < p.model.meanIntervalWidth, 'no-change (narrower)')}</td><td></td><td>${p.noChange.meanIntervalWidth.toFixed(4)}</td></tr>
<tr><td>share of rows that went up / called up</td><td>${pct(p.model.actualUpShare)} / ${pct(p.model.predictedUpShare)}</td><td></td><td></td></tr>
</tbody></table></section>

<section class="card"><h2>Does it beat doing nothing?</h2>
<p class="note">Running total of the absolute error the model saved against the no-change forecast. Rising: the model is ahead; falling: predicting no change would have been better.</p>
${advChart}</section>

<section class="card"><h2>Rolling hit rate</h2>
${legend([{ label: 'model', color: colors.model }, { label: 'majority baseline', color: colors.majority, dash: true }])}
${hitChart}</section>

<section class="card"><h2>Interval coverage</h2>
<p class="note">Split-conformal ${levelPct} intervals, calibrated on the latest ${pct(params.walkForward.calibrationFraction, 0)} of each training window. Well calibrated intervals stay near the target line; dips mark volatility the calibration window had not seen.</p>
${legend([{ label: 'model interval', color: colors.model }, { label: 'no-change interval', color: colors.noChange, dash: true }])}
${covChart}</section>

<section class="card"><h2>Predicted against actual</h2>
${legend([{ label: 'actual return', color: colors.actual }, { label: 'predicted return', color: colors.model }, { label: `${levelPct} interval`, color: colors.band }])}
${recentChart}</section>

<div class="grid">
<section class="card"><h2>Every scored row</h2><p class="note">A model with skill leans along the diagonal; a cloud around the vertical axis is noise.</p>${scatter}</section>
<section class="card"><h2>Direction probability</h2><p class="note">The share of trees predicting a rise is a vote, not a calibrated probability; this shows how often rows in each band actually rose.</p>${calibration}</section>
<section class="card"><h2>Accuracy per fold</h2>${legend([{ label: 'model', color: colors.model }, { label: 'majority baseline', color: colors.majority }])}${foldAcc}</section>
<section class="card"><h2>MASE per fold</h2>${foldMase}</section>
</div>

<section class="card"><h2>How this was measured</h2><dl>
<dt>rows</dt><dd>${int(m.labelledRows)} labelled; left out: ${int(input.excluded.warmUp)} warm-up (not every input defined yet), ${int(input.excluded.noLabelYet)} without a label yet, ${int(input.excluded.nonPositivePrice)} at a non-positive price (no log return)</dd>
<dt>label</dt><dd>ln(p<sub>t+h</sub> / p<sub>t</sub>), h = ${m.horizonTicks}; inputs from the features at t only</dd>
<dt>folds</dt><dd>expanding window; the first ${pct(params.walkForward.firstTestFraction, 0)} of rows only train; an embargo of h rows before each test block and before each calibration block</dd>
<dt>forest</dt><dd>${f.trees} trees, depth ${f.maxDepth}, ${pct(f.maxFeatures, 0)} of inputs per split, at least ${f.minSamplesLeaf} rows per leaf, seed ${f.seed}</dd>
<dt>interval</dt><dd>prediction &plusmn; q, q the ceil((n+1)&middot;${m.options.intervalLevel})-th smallest absolute residual on the calibration rows</dd>
<dt>MASE</dt><dd>model MAE divided by the no-change MAE on the same rows (below 1 beats no-change)</dd>
<dt>Pesaran-Timmermann</dt><dd>one-sided test of directional skill against independent calls with the same up-shares</dd>
</dl></section>
</main></body></html>
`;
}
