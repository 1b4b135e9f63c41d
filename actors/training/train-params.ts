/**
 * The parameters of a training run: defaults in one place, validated once, with errors naming the field.
 * Stored with every model (models.params) so that a version says how it was made.
 */
import { DEFAULT_WALK_FORWARD, type WalkForwardOptions } from './walk-forward.ts';

export interface ForestParams {
  readonly trees: number;
  readonly maxDepth: number;
  /** Share of the inputs drawn at each split, in (0, 1]. */
  readonly maxFeatures: number;
  /**
   * Fewest training rows in a leaf. 5, as R's randomForest uses for regression: returns are mostly noise, and
   * single-row leaves would memorise it.
   */
  readonly minSamplesLeaf: number;
  readonly seed: number;
}

export interface TrainParams {
  readonly horizonTicks: number;
  readonly forest: ForestParams;
  readonly walkForward: WalkForwardOptions;
}

export const DEFAULT_TRAIN_PARAMS: TrainParams = Object.freeze({
  horizonTicks: 1,
  forest: Object.freeze({ trees: 100, maxDepth: 10, maxFeatures: 0.33, minSamplesLeaf: 5, seed: 42 }),
  walkForward: DEFAULT_WALK_FORWARD,
});

export class TrainParamsError extends RangeError {
  override readonly name = 'TrainParamsError';
  readonly code = 'TRAIN_PARAMS_INVALID';
  constructor(
    readonly field: string,
    expected: string,
    got: unknown,
  ) {
    super(`${field}: expected ${expected}, got ${JSON.stringify(got)}`);
  }
}

export interface TrainParamsInput {
  horizonTicks?: number;
  forest?: Partial<ForestParams>;
  walkForward?: Partial<WalkForwardOptions>;
}

function integerIn(field: string, v: number, min: number, max: number): number {
  if (!(Number.isInteger(v) && v >= min && v <= max)) throw new TrainParamsError(field, `an integer in [${min}, ${max}]`, v);
  return v;
}

function fractionIn(field: string, v: number, openMin: number, max: number, closedMax: boolean): number {
  const ok = v > openMin && (closedMax ? v <= max : v < max);
  if (!ok) throw new TrainParamsError(field, `a number in (${openMin}, ${max}${closedMax ? ']' : ')'}`, v);
  return v;
}

export function resolveTrainParams(input: TrainParamsInput = {}): TrainParams {
  const f = { ...DEFAULT_TRAIN_PARAMS.forest, ...defined(input.forest ?? {}) };
  const w = { ...DEFAULT_TRAIN_PARAMS.walkForward, ...defined(input.walkForward ?? {}) };
  return Object.freeze({
    horizonTicks: integerIn('horizonTicks', input.horizonTicks ?? DEFAULT_TRAIN_PARAMS.horizonTicks, 1, 1_000),
    forest: Object.freeze({
      trees: integerIn('forest.trees', f.trees, 1, 10_000),
      maxDepth: integerIn('forest.maxDepth', f.maxDepth, 1, 64),
      maxFeatures: fractionIn('forest.maxFeatures', f.maxFeatures, 0, 1, true),
      minSamplesLeaf: integerIn('forest.minSamplesLeaf', f.minSamplesLeaf, 1, 100_000),
      seed: integerIn('forest.seed', f.seed, 0, 0xffffffff),
    }),
    walkForward: Object.freeze({
      folds: integerIn('walkForward.folds', w.folds, 1, 50),
      firstTestFraction: fractionIn('walkForward.firstTestFraction', w.firstTestFraction, 0, 1, false),
      calibrationFraction: fractionIn('walkForward.calibrationFraction', w.calibrationFraction, 0, 1, false),
      intervalLevel: fractionIn('walkForward.intervalLevel', w.intervalLevel, 0, 1, false),
    }),
  });
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
