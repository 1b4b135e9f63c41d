/**
 * Fitting and judging every forecaster family of several commodities and horizons at once: the walk-forward of
 * each family on each commodity's rows, the champion chosen by proper scores, and the final forecasters to serve
 * (fitted on every row, the latest held out for calibration), each carrying its walk-forward skill.
 *
 * Every forest (each family's, each fold's and the final ones, of every commodity and horizon) goes to the trainer
 * in one list, so that worker threads spread across all of them. A pooled forest of a commodity at a boundary
 * learns every commodity's rows (of the same horizon) whose labels end before that boundary: the same rule that
 * keeps the commodity's own rows out of its scored period keeps the others' out too.
 */
import type { CompactForest } from '../model/forest/compact-forest.ts';
import { chooseChampion, type ChampionDecision } from '../forecast/champion.ts';
import { fitForecaster, forestTargets } from '../forecast/fit-forecaster.ts';
import { Forecaster, REFERENCE_FAMILY, usesForest, type FamilyName, type ForecastSkill } from '../forecast/forecaster.ts';
import { trainingSetOf, type StoredSeries } from './feature-store-reader.ts';
import type { TrainParams } from './train-params.ts';
import { embargoedEnd, rowCount, type TrainingSet } from './training-set.ts';
import {
  evaluateFamilies,
  planFinalFit,
  planWalkForward,
  type FamilyEvaluation,
  type FitPlan,
  type FoldPlan,
  type RegressorJob,
  type TrainRegressors,
  type WalkForwardEvaluation,
} from './walk-forward.ts';

/** A commodity's rows at one horizon, planned. */
export interface PreparedSet {
  readonly set: TrainingSet;
  readonly folds: readonly FoldPlan[];
  readonly final: FitPlan;
}

/** A final forecaster to serve, with the forest it holds (forest families). */
export interface FinalForecaster {
  readonly forecaster: Forecaster;
  readonly forest: CompactForest | undefined;
}

export interface CommodityForecasts extends PreparedSet {
  readonly commodity: string;
  readonly horizonTicks: number;
  readonly evaluation: WalkForwardEvaluation;
  readonly decision: ChampionDecision;
  /** In params.families order. */
  readonly finals: ReadonlyMap<FamilyName, FinalForecaster>;
}

export interface PreparationFailure {
  readonly commodity: string;
  readonly horizonTicks: number;
  readonly error: Error;
}

/** Plans every commodity at every horizon; one that cannot be planned (too few rows) fails alone. */
export function prepareSets(series: readonly StoredSeries[], params: TrainParams): { prepared: PreparedSet[]; failures: PreparationFailure[] } {
  const prepared: PreparedSet[] = [];
  const failures: PreparationFailure[] = [];
  for (const horizonTicks of params.horizons) {
    for (const s of series) {
      try {
        const set = trainingSetOf(s, horizonTicks);
        prepared.push({ set, folds: planWalkForward(set, params.walkForward), final: planFinalFit(set, params.walkForward) });
      } catch (err) {
        failures.push({ commodity: s.commodity, horizonTicks, error: err as Error });
      }
    }
  }
  return { prepared, failures };
}

/**
 * What a pooled forest fitted before `boundaryTsMs` learns: the rows of every set whose labels end before it,
 * evenly thinned to at most `maxRows`.
 */
export function pooledTargets(sets: readonly TrainingSet[], boundaryTsMs: number, maxRows: number): RegressorJob {
  const parts = sets.map((set) => forestTargets(set, 0, embargoedEnd(set, rowCount(set), boundaryTsMs)));
  const total = parts.reduce((n, p) => n + p.y.length, 0);
  const nFeatures = sets[0]!.nFeatures;
  const step = Math.max(1, total / maxRows);
  const kept = Math.min(total, Math.floor(total / step));
  const x = new Float64Array(kept * nFeatures);
  const y = new Float64Array(kept);
  let row = 0;
  let next = 0;
  for (const p of parts) {
    for (let i = 0; i < p.y.length; i++, row++) {
      if (row < Math.round(next * step) || next >= kept) continue;
      x.set(p.x.subarray(i * nFeatures, (i + 1) * nFeatures), next * nFeatures);
      y[next] = p.y[i]!;
      next++;
    }
  }
  return { x: x.subarray(0, next * nFeatures), y: y.subarray(0, next), nFeatures };
}

const splitsOf = (p: PreparedSet): FitPlan[] => [...p.folds, p.final];

/**
 * Fits every family of every prepared set, scores them walk-forward, chooses the champions. The pooled forests
 * learn the rows of `pool` (default: the prepared sets themselves) of the same horizon.
 */
export async function fitAndEvaluate(
  prepared: readonly PreparedSet[],
  params: TrainParams,
  train: TrainRegressors<CompactForest>,
  options: { readonly onForest?: (done: number, total: number) => void; readonly pool?: readonly TrainingSet[] } = {},
): Promise<CommodityForecasts[]> {
  const forestFamilies = params.families.filter(usesForest);
  const pool = options.pool ?? prepared.map((p) => p.set);
  const jobs: RegressorJob[] = [];
  for (const p of prepared) {
    const peers = pool.filter((set) => set.horizonTicks === p.set.horizonTicks);
    for (const split of splitsOf(p)) {
      for (const family of forestFamilies) {
        jobs.push(
          family === 'forest'
            ? { ...forestTargets(p.set, 0, split.fitEnd), nFeatures: p.set.nFeatures }
            : pooledTargets(peers, p.set.tsMs[split.calibrationStart]!, params.pooledMaxRows),
        );
      }
    }
  }
  const forests = await train(jobs, options.onForest);
  let next = 0;
  return prepared.map((p) => {
    const fitted = new Map<FamilyName, Forecaster[]>(params.families.map((f) => [f, []]));
    const finalForests = new Map<FamilyName, CompactForest>();
    splitsOf(p).forEach((split, s) => {
      const isFinal = s === p.folds.length;
      for (const family of params.families) {
        let forest: CompactForest | undefined;
        if (usesForest(family)) {
          forest = forests[next++]!;
          if (isFinal) finalForests.set(family, forest);
        }
        if (!isFinal) fitted.get(family)!.push(fitForecaster(family, p.set, split, forest));
      }
    });
    const evaluation = evaluateFamilies(p.set, p.folds, fitted, params.walkForward);
    const decision = chooseChampion(evaluation.families, p.set.horizonTicks);
    const finals = new Map<FamilyName, FinalForecaster>();
    for (const family of params.families) {
      const forest = finalForests.get(family);
      const fitted = fitForecaster(family, p.set, p.final, forest);
      const own = evaluation.families.find((e) => e.family === family)!;
      const spec = { ...fitted.spec, direction: { pesaranTimmermannP: own.scores.pesaranTimmermann.pValue }, skill: skillOf(own, evaluation) };
      finals.set(family, { forecaster: new Forecaster(spec, forest), forest });
    }
    return { ...p, commodity: p.set.commodity, horizonTicks: p.set.horizonTicks, evaluation, decision, finals };
  });
}

/** A family's walk-forward scores against the reference's on the same rows. */
export function skillOf(own: FamilyEvaluation, evaluation: WalkForwardEvaluation): ForecastSkill {
  const reference = evaluation.families.find((e) => e.family === REFERENCE_FAMILY)!.scores;
  const s = own.scores;
  return {
    rows: s.rows,
    pinballRatio: s.pinball / reference.pinball,
    intervalScoreRatio: s.intervalScore / reference.intervalScore,
    mase: s.mase ?? 1,
    brier: s.brier,
    directionalAccuracy: s.directionalAccuracy,
    pesaranTimmermannP: s.pesaranTimmermann.pValue,
    intervalCoverage: s.intervalCoverage,
  };
}
