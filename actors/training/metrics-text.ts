/**
 * Walk-forward scores as text for a terminal: every family side by side on the same rows, each figure against
 * the no-change reference (a family never looks good where the reference beats it: the row says so), then the
 * champion decision with each family's verdict.
 */
import { INTERVAL } from '../forecast/distribution.ts';
import { REFERENCE_FAMILY } from '../forecast/forecaster.ts';
import type { StoredMetrics } from './train-job.ts';

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const fixed = (v: number, d: number) => v.toFixed(d);
const int = (n: number) => n.toLocaleString('en-US');
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Columns of a text table, the first left-aligned, the others right-aligned. */
export function textTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
}

/** The families' scores and the champion decision of one commodity and horizon. */
export function formatEvaluation(m: StoredMetrics, horizonTicks: number): string {
  const wf = m.walkForward;
  const reference = wf.families.find((f) => f.family === REFERENCE_FAMILY)!.scores;
  const first = wf.folds[0];
  const last = wf.folds[wf.folds.length - 1];
  const ratio = (v: number, ref: number) => (ref > 0 ? fixed(v / ref, 3) : 'n/a');
  const level = `${Math.round(INTERVAL.level * 100)} %`;
  const header = ['family', 'pinball/ref', 'interval score/ref', `${level} coverage`, 'by volatility tercile', 'MASE', 'Brier', 'direction', 'PT p', ''];
  const rows: string[][] = [header];
  for (const f of wf.families) {
    const s = f.scores;
    const champion = f.family === m.champion.champion;
    const pt = s.pesaranTimmermann.pValue;
    rows.push([
      `${champion ? '* ' : '  '}${f.family}`,
      ratio(s.pinball, reference.pinball),
      ratio(s.intervalScore, reference.intervalScore),
      pct(s.intervalCoverage),
      s.coverageByVolatilityTercile.map((c) => (Number.isNaN(c) ? 'n/a' : fixed(c * 100, 0))).join(' / '),
      s.mase === null ? 'n/a' : fixed(s.mase, 4),
      fixed(s.brier, 4),
      pct(s.directionalAccuracy),
      pt === null ? 'n/a' : fixed(pt, 3),
      f.family !== REFERENCE_FAMILY && s.pinball >= reference.pinball ? '<- beaten by no_change' : '',
    ]);
  }
  rows.push([
    '  fixed-width interval',
    '',
    ratio(wf.fixedInterval.intervalScore, reference.intervalScore),
    pct(wf.fixedInterval.intervalCoverage),
    wf.fixedInterval.coverageByVolatilityTercile.map((c) => (Number.isNaN(c) ? 'n/a' : fixed(c * 100, 0))).join(' / '),
    '',
    '',
    '',
    '',
    '',
  ]);
  const lines = [
    `walk-forward, horizon ${horizonTicks} tick${horizonTicks === 1 ? '' : 's'}: ${wf.folds.length} folds, ${int(reference.rows)} scored rows` +
      (first && last ? ` (${day(first.testFromMs)} .. ${day(last.testToMs)})` : '') +
      `, ${int(wf.labelledRows)} labelled rows`,
    `  left out: ${int(m.excludedRows.warmUp)} warm-up, ${int(m.excludedRows.noLabelYet)} without a label yet, ${int(m.excludedRows.nonPositivePrice)} at a non-positive price (no log return)`,
    ...textTable(rows).map((l) => `  ${l}`),
    `  fixed-width interval: no change +- the calibration rows' conformal |return|, the same width on calm and wild days.`,
    `  champion: ${m.champion.champion} (* above). Lower is better for pinball, interval score, MASE and Brier (0.25 is a coin flip's);`,
    `  a ratio is against ${REFERENCE_FAMILY} on the same rows; PT p is the Pesaran-Timmermann test of the direction calls.`,
    ...m.champion.verdicts.map((v) => `  ${v.family}: ${v.detail}`),
  ];
  return lines.join('\n');
}
