/**
 * The parameters of a training run: defaults in one place, validated once, with errors naming the field.
 * Stored with every model (models.params) so that a version says how it was made.
 */
import { FAMILIES, isFamilyName, REFERENCE_FAMILY, type FamilyName } from '../forecast/forecaster.ts';
import { DEFAULT_WALK_FORWARD, type WalkForwardOptions } from './walk-forward.ts';

export interface ForestParams {
  readonly trees: number;
  readonly maxDepth: number;
  /** Share of the inputs drawn at each split, in (0, 1]. */
  readonly maxFeatures: number;
  /**
   * Fewest training rows in a leaf. Returns are mostly noise: a leaf of 50 rows averages enough of it away that
   * the forest can only learn what recurs, and shallow trees keep a fit of the three horizons of a daily series in
   * seconds.
   */
  readonly minSamplesLeaf: number;
  /** Rows each tree draws (with replacement), as a share of the training rows: less work per tree, more diverse trees. */
  readonly sampleFraction: number;
  readonly seed: number;
}

export interface TrainParams {
  /** Each horizon gets a champion of its own. */
  readonly horizons: readonly number[];
  /** The families evaluated; the reference (no_change) is always among them. */
  readonly families: readonly FamilyName[];
  readonly forest: ForestParams;
  /** Most rows a pooled forest is fitted on (an even sample of every commodity's rows when there are more). */
  readonly pooledMaxRows: number;
  readonly walkForward: WalkForwardOptions;
}

export const DEFAULT_HORIZONS: readonly number[] = Object.freeze([1, 5, 20]);

export const DEFAULT_TRAIN_PARAMS: TrainParams = Object.freeze({
  horizons: DEFAULT_HORIZONS,
  families: FAMILIES,
  forest: Object.freeze({ trees: 40, maxDepth: 6, maxFeatures: 0.5, minSamplesLeaf: 50, sampleFraction: 0.5, seed: 42 }),
  pooledMaxRows: 8_000,
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
  horizons?: readonly number[];
  families?: readonly string[];
  forest?: Partial<ForestParams>;
  pooledMaxRows?: number;
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
    horizons: Object.freeze(horizonList(input.horizons ?? DEFAULT_TRAIN_PARAMS.horizons)),
    families: Object.freeze(familyList(input.families ?? DEFAULT_TRAIN_PARAMS.families)),
    pooledMaxRows: integerIn('pooledMaxRows', input.pooledMaxRows ?? DEFAULT_TRAIN_PARAMS.pooledMaxRows, 100, 10_000_000),
    forest: Object.freeze({
      trees: integerIn('forest.trees', f.trees, 1, 10_000),
      maxDepth: integerIn('forest.maxDepth', f.maxDepth, 1, 64),
      maxFeatures: fractionIn('forest.maxFeatures', f.maxFeatures, 0, 1, true),
      minSamplesLeaf: integerIn('forest.minSamplesLeaf', f.minSamplesLeaf, 1, 100_000),
      sampleFraction: fractionIn('forest.sampleFraction', f.sampleFraction, 0, 1, true),
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

function horizonList(horizons: readonly number[]): number[] {
  if (horizons.length === 0) throw new TrainParamsError('horizons', 'at least one horizon', horizons);
  const out = [...new Set(horizons.map((h, i) => integerIn(`horizons[${i}]`, h, 1, 365)))].sort((a, b) => a - b);
  return out;
}

function familyList(families: readonly string[]): FamilyName[] {
  const out: FamilyName[] = [];
  for (const [i, f] of families.entries()) {
    if (!isFamilyName(f)) throw new TrainParamsError(`families[${i}]`, `one of ${FAMILIES.join(', ')}`, f);
    if (!out.includes(f)) out.push(f);
  }
  // Every other family is judged against the reference, so it is always evaluated.
  if (!out.includes(REFERENCE_FAMILY)) out.unshift(REFERENCE_FAMILY);
  return out;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
