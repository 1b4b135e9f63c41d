/**
 * Shadow scoring: every challenger (a model in the shadow) forecasts every live tick beside its horizon's
 * champion; when the outcome is known h ticks later, both are scored (interval score of the 80 % interval, pinball
 * loss of the quantiles) and the difference feeds a running Diebold-Mariano test. A challenger that beats the
 * champion over at least PROMOTION_MIN_OUTCOMES outcomes at p < PROMOTION_MAX_P is due for promotion.
 *
 * The test is looked at again and again, for several challengers at once: tested after every outcome at 0.05, a
 * challenger no better than its champion would be promoted far more often than 1 time in 20. So it is looked at
 * only at checkpoints (250, 500, 1000, ... outcomes), and look k of one of n challengers must reach
 * p < PROMOTION_MAX_P / 2^(k+1) / n (the looks spend the 0.05 between them, Bonferroni across challengers).
 *
 * Pure: the actor computes the next state of a tick before it commits the tick, then hands the state to the
 * commodity's ShadowBook (memory outside the actor, like the ledger), so an actor crash neither loses nor counts
 * twice an outcome. A score resumes from its stored row after a worker restart and never counts an outcome at or
 * before the row's `throughTsMs` again; forecasts made before a worker restart are not scored.
 */
import { addDifferential, dieboldMariano, noDifferentials, type DieboldMarianoResult, type LossDifferentials } from '../forecast/diebold-mariano.ts';
import { INTERVAL } from '../forecast/distribution.ts';
import type { FamilyName } from '../forecast/forecaster.ts';
import { intervalScore, pinballLoss } from '../forecast/scores.ts';

export const PROMOTION_MIN_OUTCOMES = 250;
export const PROMOTION_MAX_P = 0.05;

export interface ScoreKey {
  readonly horizonTicks: number;
  readonly family: FamilyName;
  readonly modelVersion: number;
  readonly championVersion: number;
}

/** A challenger's realised record against one champion (a row of `challenger_scores`). */
export interface ShadowScore extends ScoreKey {
  readonly realised: number;
  /** Tick time of the latest outcome counted, UTC epoch ms. */
  readonly throughTsMs: number;
  readonly sumIntervalScore: number;
  readonly sumChampionIntervalScore: number;
  readonly sumPinball: number;
  readonly sumChampionPinball: number;
  readonly covered: number;
  /** Champion's interval score minus the challenger's, outcome by outcome. */
  readonly differentials: LossDifferentials;
}

/** The quantiles a forecaster gave at one tick. */
export interface ShadowForecast {
  readonly family: FamilyName;
  readonly modelVersion: number;
  readonly quantiles: Float64Array;
}

/** The forecasts of one horizon made at one tick, waiting for the price h ticks later. */
export interface AwaitingOutcome {
  readonly horizonTicks: number;
  readonly dueTickCount: number;
  readonly tickPrice: number;
  readonly champion: ShadowForecast;
  readonly challengers: readonly ShadowForecast[];
}

export interface ShadowState {
  readonly awaiting: readonly AwaitingOutcome[];
  readonly scores: ReadonlyMap<string, ShadowScore>;
  /** Scores already handed to the promoter (not asked again until the champion changes). */
  readonly promotionAsked: ReadonlySet<string>;
}

export const emptyShadowState: ShadowState = { awaiting: [], scores: new Map(), promotionAsked: new Set() };

export const scoreKeyOf = (k: ScoreKey): string => `${k.horizonTicks}|${k.modelVersion}|${k.championVersion}`;

export function newScore(key: ScoreKey): ShadowScore {
  return {
    ...key,
    realised: 0,
    throughTsMs: Number.NEGATIVE_INFINITY,
    sumIntervalScore: 0,
    sumChampionIntervalScore: 0,
    sumPinball: 0,
    sumChampionPinball: 0,
    covered: 0,
    differentials: noDifferentials(key.horizonTicks),
  };
}

/** Seeds the state with stored scores (a worker's first rebuild of the commodity). */
export function seededShadowState(stored: readonly ShadowScore[]): ShadowState {
  return { ...emptyShadowState, scores: new Map(stored.map((s) => [scoreKeyOf(s), s])) };
}

export function awaitOutcomes(state: ShadowState, forecasts: readonly AwaitingOutcome[]): ShadowState {
  if (forecasts.length === 0) return state;
  return { ...state, awaiting: [...state.awaiting, ...forecasts] };
}

/** A champion's forecast and what came of it. */
export interface ChampionOutcome {
  readonly horizonTicks: number;
  readonly quantiles: Float64Array;
  readonly y: number;
}

export interface Settled {
  readonly state: ShadowState;
  /** Challenger scores that changed. */
  readonly changed: ShadowScore[];
  readonly championOutcomes: ChampionOutcome[];
}

/**
 * Settles every forecast due at tick number `tickCount` (time `tsMs`, price `price`). Returns the next state, the
 * scores that changed and the champions' outcomes. No log return exists across a non-positive price: such an
 * outcome is not scored.
 */
export function settleOutcomes(state: ShadowState, tickCount: number, tsMs: number, price: number): Settled {
  if (!state.awaiting.some((a) => a.dueTickCount <= tickCount)) return { state, changed: [], championOutcomes: [] };
  const scores = new Map(state.scores);
  const changed = new Map<string, ShadowScore>();
  const championOutcomes: ChampionOutcome[] = [];
  const still: AwaitingOutcome[] = [];
  for (const a of state.awaiting) {
    if (a.dueTickCount > tickCount) {
      still.push(a);
      continue;
    }
    if (!(a.tickPrice > 0 && price > 0)) continue;
    const y = Math.log(price / a.tickPrice);
    championOutcomes.push({ horizonTicks: a.horizonTicks, quantiles: a.champion.quantiles, y });
    const championInterval = intervalOfQuantiles(a.champion.quantiles, y);
    const championPinball = pinballLoss(y, a.champion.quantiles);
    for (const c of a.challengers) {
      const key: ScoreKey = { horizonTicks: a.horizonTicks, family: c.family, modelVersion: c.modelVersion, championVersion: a.champion.modelVersion };
      const id = scoreKeyOf(key);
      const before = scores.get(id) ?? newScore(key);
      if (tsMs <= before.throughTsMs) continue;
      const challengerInterval = intervalOfQuantiles(c.quantiles, y);
      const low = c.quantiles[INTERVAL.lowIndex]!;
      const high = c.quantiles[INTERVAL.highIndex]!;
      const after: ShadowScore = {
        ...before,
        realised: before.realised + 1,
        throughTsMs: tsMs,
        sumIntervalScore: before.sumIntervalScore + challengerInterval,
        sumChampionIntervalScore: before.sumChampionIntervalScore + championInterval,
        sumPinball: before.sumPinball + pinballLoss(y, c.quantiles),
        sumChampionPinball: before.sumChampionPinball + championPinball,
        covered: before.covered + (y >= low && y <= high ? 1 : 0),
        differentials: addDifferential(before.differentials, championInterval - challengerInterval),
      };
      scores.set(id, after);
      changed.set(id, after);
    }
  }
  return { state: { ...state, awaiting: still, scores }, changed: [...changed.values()], championOutcomes };
}

function intervalOfQuantiles(q: Float64Array, y: number): number {
  return intervalScore(q[INTERVAL.lowIndex]!, q[INTERVAL.highIndex]!, y);
}

export function dieboldMarianoOf(s: ShadowScore): DieboldMarianoResult {
  return dieboldMariano(s.differentials);
}

/** The checkpoint index of `realised` outcomes (250 -> 0, 500 -> 1, 1000 -> 2, ...), undefined between them. */
export function checkpointOf(realised: number): number | undefined {
  const ratio = realised / PROMOTION_MIN_OUTCOMES;
  const k = Math.log2(ratio);
  return Number.isInteger(ratio) && Number.isInteger(k) ? k : undefined;
}

/** The p-value a challenger must reach at look k when n challengers of its horizon are tested. */
export function promotionLevel(look: number, challengers: number): number {
  return PROMOTION_MAX_P / 2 ** (look + 1) / Math.max(1, challengers);
}

/** The scores among `changed` that now earn their challenger the champion's place, not asked for before. */
export function duePromotions(state: ShadowState, changed: readonly ShadowScore[]): { state: ShadowState; due: { score: ShadowScore; test: DieboldMarianoResult }[] } {
  const due: { score: ShadowScore; test: DieboldMarianoResult }[] = [];
  for (const score of changed) {
    const look = checkpointOf(score.realised);
    if (look === undefined || state.promotionAsked.has(scoreKeyOf(score))) continue;
    const rivals = [...state.scores.values()].filter((s) => s.horizonTicks === score.horizonTicks && s.championVersion === score.championVersion).length;
    const test = dieboldMarianoOf(score);
    if (test.pValue !== null && test.pValue < promotionLevel(look, rivals)) due.push({ score, test });
  }
  if (due.length === 0) return { state, due };
  return { state: { ...state, promotionAsked: new Set([...state.promotionAsked, ...due.map((d) => scoreKeyOf(d.score))]) }, due };
}

/** Drops what belongs to champions and challengers no longer served (after a model change). */
export function keepServed(state: ShadowState, servedVersions: ReadonlySet<number>): ShadowState {
  const served = (k: ScoreKey) => servedVersions.has(k.modelVersion) && servedVersions.has(k.championVersion);
  return {
    awaiting: state.awaiting
      .filter((a) => servedVersions.has(a.champion.modelVersion))
      .map((a) => ({ ...a, challengers: a.challengers.filter((c) => servedVersions.has(c.modelVersion)) })),
    scores: new Map([...state.scores].filter(([, s]) => served(s))),
    promotionAsked: new Set([...state.promotionAsked].filter((id) => state.scores.has(id) && served(state.scores.get(id)!))),
  };
}
