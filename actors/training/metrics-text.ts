/**
 * Walk-forward scores as text for a terminal: the model beside the majority-class and no-change baselines, and
 * every model figure that a baseline beats marked as such (a figure is never shown as if it were good).
 */
import type { ExcludedRows } from './training-set.ts';
import type { WalkForwardMetrics } from './walk-forward.ts';

const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
const fixed = (v: number, d: number) => v.toFixed(d);
const int = (n: number) => n.toLocaleString('en-US');
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The verdicts a reader needs first; each says which baseline wins where the model does not. */
export function verdicts(m: WalkForwardMetrics): string[] {
  const p = m.pooled;
  const out: string[] = [];
  const mase = p.model.mase;
  out.push(
    mase === null
      ? 'MASE undefined: every scored return is 0.'
      : mase < 1
        ? `Lower MAE than the no-change forecast (MASE ${fixed(mase, 3)}).`
        : `Does NOT beat the no-change forecast on MAE (MASE ${fixed(mase, 3)} >= 1).`,
  );
  const acc = p.model.directionalAccuracy;
  const maj = p.majority.directionalAccuracy;
  out.push(
    acc > maj
      ? `Direction right ${pct(acc)} of the time, above the majority baseline's ${pct(maj)}.`
      : `Direction right ${pct(acc)} of the time: does NOT beat the majority baseline's ${pct(maj)}.`,
  );
  const pt = p.model.pesaranTimmermann;
  out.push(
    pt.pValue === null
      ? 'Pesaran-Timmermann test undefined: the calls all point one way.'
      : pt.pValue >= 0.05
        ? `No significant directional skill (Pesaran-Timmermann ${fixed(pt.statistic!, 2)}, p = ${fixed(pt.pValue, 3)}).`
        : acc > maj
          ? `Directional skill is significant (Pesaran-Timmermann ${fixed(pt.statistic!, 2)}, p = ${fixed(pt.pValue, 4)}).`
          : `Calls and outcomes are not independent (Pesaran-Timmermann ${fixed(pt.statistic!, 2)}, p = ${fixed(pt.pValue, 4)}), ` +
            'but always calling the majority direction would have been right more often.',
  );
  const level = m.options.intervalLevel;
  const cov = p.model.intervalCoverage;
  out.push(
    `${Math.round(level * 100)} % intervals covered ${pct(cov)} of outcomes` +
      (p.noChange.meanIntervalWidth < p.model.meanIntervalWidth
        ? `; the no-change interval is narrower (${fixed(p.noChange.meanIntervalWidth, 4)} vs ${fixed(p.model.meanIntervalWidth, 4)}).`
        : `, narrower than the no-change interval (${fixed(p.model.meanIntervalWidth, 4)} vs ${fixed(p.noChange.meanIntervalWidth, 4)}).`),
  );
  return out;
}

/** A table of pooled scores, then one line per fold. */
export function formatWalkForward(m: WalkForwardMetrics, excluded?: ExcludedRows): string {
  const p = m.pooled;
  const first = m.folds[0];
  const last = m.folds[m.folds.length - 1];
  const beatenBy = (name: string, beaten: boolean) => (beaten ? `  <- beaten by ${name}` : '');
  const rows: [string, string, string, string, string][] = [
    ['', 'model', 'majority', 'no-change', ''],
    [
      'direction accuracy',
      pct(p.model.directionalAccuracy),
      pct(p.majority.directionalAccuracy),
      '(no call)',
      beatenBy('the majority baseline', p.majority.directionalAccuracy >= p.model.directionalAccuracy),
    ],
    [
      'Pesaran-Timmermann',
      p.model.pesaranTimmermann.statistic === null ? 'n/a' : fixed(p.model.pesaranTimmermann.statistic, 2),
      '',
      '',
      p.model.pesaranTimmermann.pValue === null
        ? '  (calls all one way)'
        : `  p = ${fixed(p.model.pesaranTimmermann.pValue, 4)}${p.model.pesaranTimmermann.pValue < 0.05 ? '' : ' (not significant)'}`,
    ],
    ['MAE (log return)', fixed(p.model.mae, 5), '', fixed(p.noChange.mae, 5), beatenBy('no-change', p.noChange.mae <= p.model.mae)],
    ['MASE', p.model.mase === null ? 'n/a' : fixed(p.model.mase, 4), '', '1', ''],
    [`${Math.round(m.options.intervalLevel * 100)} % interval coverage`, pct(p.model.intervalCoverage), '', pct(p.noChange.intervalCoverage), ''],
    [
      'mean interval width',
      fixed(p.model.meanIntervalWidth, 4),
      '',
      fixed(p.noChange.meanIntervalWidth, 4),
      beatenBy('no-change (narrower)', p.noChange.meanIntervalWidth < p.model.meanIntervalWidth),
    ],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const table = rows.map((r) => `  ${r.slice(0, 4).map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')}${r[4]}`.trimEnd());
  const lines = [
    `walk-forward: ${m.folds.length} folds, ${int(p.model.rows)} scored rows` +
      (first && last ? ` (${day(first.testFromMs)} .. ${day(last.testToMs)})` : '') +
      `, horizon ${m.horizonTicks} tick${m.horizonTicks === 1 ? '' : 's'}, ${int(m.labelledRows)} labelled rows`,
  ];
  if (excluded) {
    lines.push(
      `  left out: ${int(excluded.warmUp)} warm-up, ${int(excluded.noLabelYet)} without a label yet, ` +
        `${int(excluded.nonPositivePrice)} at a non-positive price (no log return)`,
    );
  }
  lines.push(...table, '  folds:');
  for (const f of m.folds) {
    lines.push(
      `    ${f.fold + 1}. ${day(f.testFromMs)} .. ${day(f.testToMs)}  fit ${int(f.fitRows)} rows  ` +
        `acc ${pct(f.model.directionalAccuracy)} (majority ${pct(f.majorityAccuracy)})  ` +
        `MASE ${f.model.mase === null ? 'n/a' : fixed(f.model.mase, 3)}  coverage ${pct(f.model.intervalCoverage)}`,
    );
  }
  lines.push(...verdicts(m).map((v) => `  ${v}`));
  return lines.join('\n');
}
