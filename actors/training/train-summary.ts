/**
 * A training run's result for a person: one line per commodity and horizon with the family in service, its
 * walk-forward skill against no change, and why each other family does not serve.
 */
import { textTable } from './metrics-text.ts';
import type { TrainOutcome } from './train-job.ts';

const fmt = (v: number, d: number) => v.toFixed(d);

/** One line per commodity and horizon: the champion, its skill against no change, and why the others are not. */
export function outcomeTable(outcomes: readonly TrainOutcome[]): string[] {
  const rows: string[][] = [['commodity', 'horizon', 'in service', 'pinball vs no_change', '80 % coverage', 'Brier', 'signal', 'the others']];
  for (const o of outcomes) {
    if (!o.ok) {
      rows.push([o.commodity, String(o.horizonTicks), 'none', '', '', '', '', `FAILED: ${o.error.message.replace(`${o.commodity}: `, '')}`]);
      continue;
    }
    const skill = o.forecasts.finals.get(o.champion.family)!.forecaster.spec.skill!;
    const pt = skill.pesaranTimmermannP;
    const others = o.forecasts.decision.verdicts
      .filter((v) => v.family !== o.champion.family)
      .map((v) => `${v.family}: ${v.eligible ? 'eligible, higher pinball' : v.detail.replace(/ \(pinball .*$/, '').replace(/^not significantly better than no_change$/, 'no better than no_change')}${v.dieboldMariano?.pValue == null ? '' : ` (p ${fmt(v.dieboldMariano.pValue, 2)})`}`)
      .join('; ');
    rows.push([
      o.commodity,
      String(o.horizonTicks),
      `${o.champion.family} v${o.champion.version}`,
      `${fmt(skill.pinballRatio, 4)}`,
      `${fmt(skill.intervalCoverage * 100, 1)} %`,
      fmt(skill.brier, 4),
      pt !== null && pt < 0.05 ? `skill (PT p ${fmt(pt, 3)})` : 'neutral',
      others,
    ]);
  }
  return textTable(rows);
}

