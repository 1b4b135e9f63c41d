/**
 * The walk-forward backtest as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched):
 * per horizon, every forecaster family side by side on the same rows with the champion decision, then the
 * champion's fan chart of quantiles, coverage by volatility tercile against a volatility-blind interval, the
 * reliability of the probability of a rise, and each family's cumulative pinball loss against no change.
 */
import { INTERVAL, QUANTILE_LEVELS } from '../forecast/distribution.ts';
import { REFERENCE_FAMILY, type FamilyName } from '../forecast/forecaster.ts';
import type { CommodityForecasts } from './forecast-training.ts';
import { barChart, escapeHtml, legend, xyChart, type Point } from './svg-chart.ts';
import { storedMetrics } from './train-job.ts';
import type { TrainParams } from './train-params.ts';
import type { FamilyEvaluation } from './walk-forward.ts';

export interface BacktestReportInput {
  readonly commodity: string;
  readonly params: TrainParams;
  /** One per horizon, ascending. */
  readonly forecasts: readonly CommodityForecasts[];
  readonly generatedAtMs: number;
}

const familyColors: Record<FamilyName, string> = {
  no_change: '#6b7280',
  drift: '#d97706',
  forest: '#2563eb',
  pooled_forest: '#7c3aed',
};
const fixedColor = '#b91c1c';

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

/** Observed share of rises per probability decile (bins with at least 10 rows). */
export function reliability(probabilityUp: ArrayLike<number>, actual: ArrayLike<number>): { points: Point[]; labels: string[] } {
  const bins = 10;
  const count = new Float64Array(bins);
  const up = new Float64Array(bins);
  for (let i = 0; i < actual.length; i++) {
    const b = Math.min(bins - 1, Math.floor(probabilityUp[i]! * bins));
    count[b] = count[b]! + 1;
    if (actual[i]! > 0) up[b] = up[b]! + 1;
  }
  const points: Point[] = [];
  const labels: string[] = [];
  for (let b = 0; b < bins; b++) {
    if (count[b]! < 10) continue;
    points.push([(b + 0.5) / bins, up[b]! / count[b]!]);
    labels.push(`${pct(b / bins, 0)}-${pct((b + 1) / bins, 0)}: ${int(count[b]!)} rows, ${pct(up[b]! / count[b]!)} rose`);
  }
  return { points, labels };
}

function familyTable(f: CommodityForecasts): string {
  const wf = f.evaluation;
  const reference = wf.families.find((e) => e.family === REFERENCE_FAMILY)!.scores;
  const verdict = (family: FamilyName) => f.decision.verdicts.find((v) => v.family === family)!.detail;
  const flag = (beaten: boolean) => (beaten ? ' <span class="flag">beaten by no_change</span>' : '');
  const rows = wf.families.map((e) => {
    const s = e.scores;
    const isChampion = e.family === f.decision.champion;
    const pt = s.pesaranTimmermann.pValue;
    return `<tr${isChampion ? ' class="champion"' : ''}><td>${isChampion ? '&#9733; ' : ''}${e.family}</td>
<td>${(s.pinball / reference.pinball).toFixed(3)}${flag(e.family !== REFERENCE_FAMILY && s.pinball >= reference.pinball)}</td>
<td>${(s.intervalScore / reference.intervalScore).toFixed(3)}</td><td>${pct(s.intervalCoverage)}</td>
<td>${s.coverageByVolatilityTercile.map((c) => pct(c, 0)).join(' / ')}</td><td>${s.mase === null ? 'n/a' : s.mase.toFixed(4)}</td>
<td>${s.brier.toFixed(4)}</td><td>${pct(s.directionalAccuracy)}</td><td>${pt === null ? 'n/a' : pt.toFixed(3)}</td>
<td class="why">${escapeHtml(verdict(e.family))}</td></tr>`;
  });
  const fixed = wf.fixedInterval;
  rows.push(`<tr class="fixed"><td>fixed-width interval</td><td></td><td>${(fixed.intervalScore / reference.intervalScore).toFixed(3)}</td>
<td>${pct(fixed.intervalCoverage)}</td><td>${fixed.coverageByVolatilityTercile.map((c) => pct(c, 0)).join(' / ')}</td><td></td><td></td><td></td><td></td>
<td class="why">no change &plusmn; the calibration rows' conformal |return|: blind to volatility</td></tr>`);
  return `<table><thead><tr><th>family</th><th>pinball / no_change</th><th>interval score / no_change</th><th>${pct(INTERVAL.level, 0)} coverage</th>
<th>coverage by volatility tercile (calm / middle / wild)</th><th>MASE</th><th>Brier</th><th>direction</th><th>PT p</th><th>verdict</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

function fanChart(f: CommodityForecasts, champion: FamilyEvaluation): string {
  const t = f.evaluation.test;
  const n = t.actual.length;
  const recent = Math.min(n, 250);
  const from = n - recent;
  const k = QUANTILE_LEVELS.length;
  const q = (i: number, level: number) => champion.quantiles[(from + i) * k + level]!;
  const xs = t.tsMs.subarray(from);
  const band = (lo: number, hi: number) => Array.from(xs, (x, i) => [x, q(i, lo), q(i, hi)] as const);
  const long = xs[recent - 1]! - xs[0]! > 3 * 365.25 * 86_400_000;
  return xyChart({
    title: `${champion.family}: quantiles of the ${f.horizonTicks}-tick log return, the last ${recent} scored rows`,
    x: { domain: [xs[0]!, xs[recent - 1]!], format: long ? year : month, kind: 'time' },
    y: { domain: extent([...band(0, k - 1).flatMap(([, a, b]) => [a, b]), ...t.actual.subarray(from)]), format: (v) => pct(v, 1), label: 'log return' },
    bands: [
      { label: '5-95 %', color: 'rgba(37, 99, 235, 0.10)', points: band(0, k - 1) },
      { label: '10-90 %', color: 'rgba(37, 99, 235, 0.16)', points: band(INTERVAL.lowIndex, INTERVAL.highIndex) },
      { label: '25-75 %', color: 'rgba(37, 99, 235, 0.24)', points: band(2, 4) },
    ],
    dots: [{ label: 'actual', color: 'rgba(17, 24, 39, 0.6)', points: Array.from(xs, (x, i) => [x, t.actual[from + i]!] as const), radius: 1.7 }],
    lines: [{ label: 'median', color: '#1d4ed8', points: Array.from(xs, (x, i) => [x, q(i, 3)] as const), width: 1.4 }],
    hLines: [{ value: 0, color: '#9ca3af' }],
  });
}

function horizonSection(f: CommodityForecasts): string {
  const wf = f.evaluation;
  const t = wf.test;
  const n = t.actual.length;
  const champion = wf.families.find((e) => e.family === f.decision.champion)!;
  const families = wf.families;
  const terciles = barChart({
    title: `${pct(INTERVAL.level, 0)} interval coverage by volatility tercile (20-tick volatility of the row)`,
    series: [...families.map((e) => ({ label: e.family, color: familyColors[e.family] })), { label: 'fixed-width', color: fixedColor }],
    groups: ['calm', 'middle', 'wild'].map((label, i) => ({
      label,
      values: [...families.map((e) => e.scores.coverageByVolatilityTercile[i]!), wf.fixedInterval.coverageByVolatilityTercile[i]!],
    })),
    y: { domain: [0.4, 1], format: (v) => pct(v, 0) },
    hLines: [{ value: INTERVAL.level, label: 'target' }],
  });
  const rel = reliability(champion.probabilityUp, t.actual);
  const calibration = xyChart({
    title: `Reliability of ${champion.family}'s probability of a rise`,
    width: 420,
    height: 300,
    x: { domain: [0, 1], format: (v) => pct(v, 0), label: 'forecast probability of a rise' },
    y: { domain: [0, 1], format: (v) => pct(v, 0), label: 'rows that rose' },
    lines: [
      { label: 'perfect calibration', color: '#9ca3af', points: [[0, 0], [1, 1]], dash: '4 3', width: 1 },
      { label: 'observed (bins of 10 %, at least 10 rows)', color: familyColors[champion.family], points: rel.points, width: 2 },
    ],
    dots: [{ label: rel.labels.join('\n'), color: familyColors[champion.family], points: rel.points, radius: 3.5 }],
  });
  const reference = families.find((e) => e.family === REFERENCE_FAMILY)!;
  const cumulative = (e: FamilyEvaluation): Point[] => {
    let sum = 0;
    return Array.from(t.tsMs, (x, i) => {
      sum += reference.losses.pinball[i]! - e.losses.pinball[i]!;
      return [x, sum] as const;
    });
  };
  const series = families.filter((e) => e.family !== REFERENCE_FAMILY).map((e) => ({ label: e.family, color: familyColors[e.family], points: cumulative(e), width: 1.6 }));
  const span = (t.tsMs[n - 1]! - t.tsMs[0]!) / (365.25 * 86_400_000);
  const advantage = xyChart({
    title: 'Cumulative pinball loss saved against no change (rising: ahead of no change)',
    x: { domain: [t.tsMs[0]!, t.tsMs[n - 1]!], format: span >= 2 ? year : month, kind: 'time' },
    y: { domain: extent([0, ...series.flatMap((s) => s.points.map((p) => p[1]))]), format: (v) => v.toFixed(3) },
    lines: series,
    hLines: [{ value: 0, label: 'no_change' }],
  });
  const covered = Float64Array.from(t.actual, (y, i) => {
    const k = QUANTILE_LEVELS.length;
    return y >= champion.quantiles[i * k + INTERVAL.lowIndex]! && y <= champion.quantiles[i * k + INTERVAL.highIndex]! ? 1 : 0;
  });
  const window = Math.max(20, Math.min(250, Math.round(n / 20)));
  const rolling = rollingMean(covered, window);
  const coverage = xyChart({
    title: `Rolling ${pct(INTERVAL.level, 0)} coverage of ${champion.family} over ${window} rows`,
    x: { domain: [t.tsMs[0]!, t.tsMs[n - 1]!], format: span >= 2 ? year : month, kind: 'time' },
    y: { domain: [0.4, 1], format: (v) => pct(v, 0) },
    lines: [{ label: champion.family, color: familyColors[champion.family], points: Array.from(t.tsMs, (x, i) => [x, rolling[i]!] as const).filter((p) => Number.isFinite(p[1])), width: 2 }],
    hLines: [{ value: INTERVAL.level, label: 'target' }],
  });
  return `<h2 class="horizon">Horizon ${f.horizonTicks} tick${f.horizonTicks === 1 ? '' : 's'}: champion ${champion.family}</h2>
<section class="card"><p class="note">${int(n)} out-of-sample rows from ${day(t.tsMs[0]!)} to ${day(t.tsMs[n - 1]!)} in ${wf.folds.length} folds. Ratios are against
no_change on the same rows (lower is better); Brier 0.25 is a coin flip's; PT p tests the direction calls.</p>${familyTable(f)}</section>
<section class="card"><h2>Fan chart</h2>${fanChart(f, champion)}</section>
<div class="grid">
<section class="card"><h2>Coverage where it matters</h2>${legend([...families.map((e) => ({ label: e.family, color: familyColors[e.family] })), { label: 'fixed-width', color: fixedColor }])}${terciles}</section>
<section class="card"><h2>Probability of a rise</h2>${calibration}</section>
</div>
<section class="card"><h2>Against doing nothing</h2>${legend(series.map((s) => ({ label: s.label, color: s.color })))}${advantage}</section>
<section class="card"><h2>Coverage over time</h2>${coverage}</section>`;
}

export function renderBacktestReport(input: BacktestReportInput): string {
  const { commodity, params } = input;
  const first = input.forecasts[0];
  const f = params.forest;
  const excluded = first === undefined ? undefined : storedMetrics(first).excludedRows;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(commodity)} walk-forward backtest</title>
<style>
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;background:#f6f7f9;margin:0}
main{max-width:1080px;margin:0 auto;padding:28px 22px 60px}
h1{font-size:26px;margin:0 0 2px}h2{font-size:17px;margin:0 0 4px}h2.horizon{margin:28px 0 6px;font-size:20px}
.sub{color:#6b7280;margin:0 0 18px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:16px 18px;margin:14px 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:14px}.grid .card{margin:0}
.note{color:#6b7280;font-size:12.5px;margin:2px 0 8px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:5px 8px;text-align:right;border-bottom:1px solid #f0f1f3;vertical-align:top}
th:first-child,td:first-child{text-align:left;white-space:nowrap}thead th{color:#6b7280;font-weight:600;font-size:12px}
td.why{text-align:left;color:#4b5563;font-size:12px}tr.champion{background:#eff6ff}tr.fixed td{color:#6b7280}
.flag{display:inline-block;background:#fee2e2;color:#b91c1c;border-radius:4px;padding:0 6px;font-size:11px;margin-left:4px}
.legend{display:flex;gap:16px;flex-wrap:wrap;font-size:12.5px;color:#4b5563;margin:4px 0 2px}
.legend i{display:inline-block;width:16px;height:4px;border-radius:2px;margin-right:6px;vertical-align:middle}
svg text.ref{fill:#6b7280;font-size:10.5px}svg text.yl{font-size:10.5px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}dt{color:#6b7280}dd{margin:0}
@media (max-width:760px){.grid{grid-template-columns:1fr}}
</style></head><body><main>
<h1>${escapeHtml(commodity)}: walk-forward backtest</h1>
<p class="sub">Every forecaster family, fitted only on rows whose labels end before each fold, scored on the same later rows; generated ${day(input.generatedAtMs)}.</p>
${input.forecasts.map(horizonSection).join('\n')}
<section class="card"><h2>How this was measured</h2><dl>
<dt>rows</dt><dd>${excluded === undefined ? '' : `left out: ${int(excluded.warmUp)} warm-up (not every input defined yet), ${int(excluded.noLabelYet)} without a label yet, ${int(excluded.nonPositivePrice)} at a non-positive price (no log return)`}</dd>
<dt>label</dt><dd>ln(p<sub>t+h</sub> / p<sub>t</sub>); inputs from the features at t only</dd>
<dt>folds</dt><dd>${params.walkForward.folds} expanding windows; the first ${pct(params.walkForward.firstTestFraction, 0)} of rows only train; the latest ${pct(params.walkForward.calibrationFraction, 0)} of each window calibrates; an embargo of h rows before each calibration and test block</dd>
<dt>quantiles</dt><dd>point + scale &times; the conformal quantiles of the standardized residuals on the calibration rows; scale from the EWMA volatility pulled towards the long-run variance (weight fitted per commodity and horizon)</dd>
<dt>probability</dt><dd>the residual distribution's share above -point / scale, calibrated by Platt scaling on the calibration rows</dd>
<dt>forests</dt><dd>${f.trees} trees, depth ${f.maxDepth}, ${pct(f.maxFeatures, 0)} of inputs per split, at least ${f.minSamplesLeaf} rows per leaf, seed ${f.seed}; inputs scaled by volatility; the pooled forest learns every commodity's rows (at most ${int(params.pooledMaxRows)})</dd>
<dt>champion</dt><dd>no_change unless another family has a lower mean pinball loss by a Diebold-Mariano test at p &lt; 0.05 and an interval score no worse</dd>
</dl></section>
</main></body></html>
`;
}
