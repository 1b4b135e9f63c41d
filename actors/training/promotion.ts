/**
 * The promotion rule: a candidate goes into service only when, on its validation window (the pooled
 * walk-forward test rows), it beats both naive baselines and the model in service. Pure; every check is
 * reported, passed or not, so a rejection says exactly why.
 */

/** The validation scores the rule compares. */
export interface ValidationScores {
  /** MAE relative to the no-change forecast on the same rows; null without scale (all returns 0). */
  readonly mase: number | null;
  readonly directionalAccuracy: number;
  /** Accuracy of always calling the training window's majority direction. */
  readonly majorityAccuracy: number;
}

export interface ServingModel {
  readonly version: number;
  /** Undefined when its stored metrics hold no comparable validation scores. */
  readonly scores: ValidationScores | undefined;
}

export interface PromotionCheck {
  readonly name: 'beats_no_change' | 'beats_majority' | 'beats_model_in_service';
  readonly passed: boolean;
  readonly detail: string;
}

export interface PromotionDecision {
  readonly promote: boolean;
  readonly checks: readonly PromotionCheck[];
  /** The failed checks' details, for the registry and the audit row (empty when promoted). */
  readonly reasons: readonly string[];
}

const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
const num = (v: number) => v.toFixed(4);

/**
 * The model in service is compared through its own stored validation scores: it was trained on most of the
 * candidate's validation rows, so scoring it there would flatter it. MASE makes the two windows comparable.
 */
export function decidePromotion(candidate: ValidationScores, serving: ServingModel | undefined): PromotionDecision {
  const checks: PromotionCheck[] = [];
  const { mase, directionalAccuracy: acc, majorityAccuracy } = candidate;
  checks.push(
    mase === null
      ? { name: 'beats_no_change', passed: false, detail: 'MASE undefined: every validation return is 0, nothing to beat' }
      : mase < 1
        ? { name: 'beats_no_change', passed: true, detail: `MASE ${num(mase)} < 1: lower MAE than the no-change forecast` }
        : { name: 'beats_no_change', passed: false, detail: `MASE ${num(mase)} >= 1: the no-change forecast has the lower MAE` },
  );
  checks.push(
    acc > majorityAccuracy
      ? { name: 'beats_majority', passed: true, detail: `directional accuracy ${pct(acc)} > majority baseline ${pct(majorityAccuracy)}` }
      : { name: 'beats_majority', passed: false, detail: `directional accuracy ${pct(acc)} <= majority baseline ${pct(majorityAccuracy)}` },
  );
  if (serving !== undefined) checks.push(compareWithServing(candidate, serving));
  const reasons = checks.filter((c) => !c.passed).map((c) => c.detail);
  return { promote: reasons.length === 0, checks, reasons };
}

function compareWithServing(candidate: ValidationScores, serving: ServingModel): PromotionCheck {
  const name = 'beats_model_in_service';
  const s = serving.scores;
  if (s === undefined || s.mase === null) {
    return { name, passed: false, detail: `model in service v${serving.version} has no comparable validation scores; promote by hand if intended` };
  }
  if (candidate.mase === null) return { name, passed: false, detail: 'candidate MASE undefined' };
  const better = candidate.mase < s.mase && candidate.directionalAccuracy >= s.directionalAccuracy;
  const versus =
    `MASE ${num(candidate.mase)} vs ${num(s.mase)}, accuracy ${pct(candidate.directionalAccuracy)} vs ` +
    `${pct(s.directionalAccuracy)} of v${serving.version}`;
  return better
    ? { name, passed: true, detail: `beats the model in service: ${versus}` }
    : { name, passed: false, detail: `does not beat the model in service (needs lower MASE and no lower accuracy): ${versus}` };
}
