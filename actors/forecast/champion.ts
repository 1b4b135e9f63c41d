/**
 * The champion of a commodity and horizon, chosen among the families on the same walk-forward rows by proper
 * scores. The no-change forecast (with its volatility-scaled quantiles) is the reference and a legitimate
 * champion; any other family serves only when it beats it with evidence: a lower mean pinball loss by a
 * Diebold-Mariano test at p < CHAMPION_MAX_P, and an interval score no worse. Among those, the lowest mean pinball
 * loss wins. Pure; every family's verdict is reported, so a decision says why.
 */
import { dieboldMariano, differentialsOf, type DieboldMarianoResult } from './diebold-mariano.ts';
import type { ForecastScores, RowLosses } from './forecast-scores.ts';
import { REFERENCE_FAMILY, type FamilyName } from './forecaster.ts';

export const CHAMPION_MAX_P = 0.05;

export interface FamilyResult {
  readonly family: FamilyName;
  readonly scores: ForecastScores;
  readonly losses: RowLosses;
}

export interface FamilyVerdict {
  readonly family: FamilyName;
  readonly eligible: boolean;
  /** Pinball loss against the reference's on the same rows (one-sided: is this family's lower?). */
  readonly dieboldMariano: DieboldMarianoResult | null;
  readonly detail: string;
}

export interface ChampionDecision {
  readonly champion: FamilyName;
  readonly verdicts: readonly FamilyVerdict[];
}

const fmt = (v: number) => v.toPrecision(5);

export function chooseChampion(results: readonly FamilyResult[], horizonTicks: number): ChampionDecision {
  const reference = results.find((r) => r.family === REFERENCE_FAMILY);
  if (reference === undefined) throw new RangeError(`the ${REFERENCE_FAMILY} family must be among the results`);
  const verdicts: FamilyVerdict[] = results.map((r) => {
    if (r === reference) {
      return { family: r.family, eligible: true, dieboldMariano: null, detail: 'the reference: always servable' };
    }
    const dm = dieboldMariano(differentialsOf(reference.losses.pinball, r.losses.pinball, horizonTicks));
    const versus = `pinball ${fmt(r.scores.pinball)} vs ${fmt(reference.scores.pinball)} of ${REFERENCE_FAMILY}`;
    if (dm.pValue === null || !(dm.pValue < CHAMPION_MAX_P)) {
      const p = dm.pValue === null ? 'undefined' : dm.pValue.toFixed(3);
      return { family: r.family, eligible: false, dieboldMariano: dm, detail: `not significantly better than ${REFERENCE_FAMILY} (${versus}, Diebold-Mariano p = ${p})` };
    }
    if (r.scores.intervalScore > reference.scores.intervalScore) {
      return {
        family: r.family,
        eligible: false,
        dieboldMariano: dm,
        detail: `better pinball (${versus}, p = ${dm.pValue.toFixed(3)}) but a worse interval score (${fmt(r.scores.intervalScore)} vs ${fmt(reference.scores.intervalScore)})`,
      };
    }
    return { family: r.family, eligible: true, dieboldMariano: dm, detail: `beats ${REFERENCE_FAMILY}: ${versus}, Diebold-Mariano p = ${dm.pValue.toFixed(3)}` };
  });
  let best = reference;
  for (const r of results) {
    const eligible = verdicts.find((v) => v.family === r.family)!.eligible;
    if (eligible && r.scores.pinball < best.scores.pinball) best = r;
  }
  return { champion: best.family, verdicts };
}
