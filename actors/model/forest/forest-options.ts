/**
 * Options of the random forest trainer: defaults in one place (scikit-learn's RandomForestRegressor defaults),
 * validated once, with errors that name the bad field.
 */

/** What the caller may set; everything is optional. */
export interface ForestOptions {
  /** Number of trees. Default 100. */
  nTrees?: number;
  /** Deepest level a node may sit at (the root is depth 0). Default Infinity (grow until pure or too small). */
  maxDepth?: number;
  /** Fewest distinct training rows in a leaf. Default 1. */
  minSamplesLeaf?: number;
  /** Fewest distinct training rows a node needs to be split. Default 2. */
  minSamplesSplit?: number;
  /**
   * Features drawn (without replacement) at every split: a fraction in (0, 1] of the features (1 = all, the
   * default, as scikit-learn's regressor), an integer count >= 2, or 'sqrt' / 'log2' of the feature count.
   * Features that are constant in a node are skipped and do not count, as in scikit-learn.
   */
  maxFeatures?: number | 'sqrt' | 'log2';
  /** Draw each tree's rows with replacement (bagging). Default true. */
  bootstrap?: boolean;
  /** With bootstrap, rows drawn per tree as a fraction in (0, 1] of the training rows. Default 1. */
  maxSamples?: number;
  /** Unsigned 32-bit seed; the same seed and data give the identical forest. Default 0. */
  seed?: number;
}

/** Options after defaults and validation, with maxFeatures resolved to a count for the data at hand. */
export interface ResolvedForestOptions {
  readonly nTrees: number;
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  readonly minSamplesSplit: number;
  readonly featuresPerSplit: number;
  readonly bootstrap: boolean;
  readonly maxSamples: number;
  readonly seed: number;
}

/** Thrown for an option out of its domain; `field` names it. */
export class ForestOptionsError extends RangeError {
  constructor(
    readonly field: string,
    expected: string,
    got: unknown,
  ) {
    super(`invalid forest option ${field}: expected ${expected}, got ${describe(got)}`);
    this.name = 'ForestOptionsError';
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

const defaults = {
  nTrees: 100,
  maxDepth: Number.POSITIVE_INFINITY,
  minSamplesLeaf: 1,
  minSamplesSplit: 2,
  maxFeatures: 1,
  bootstrap: true,
  maxSamples: 1,
  seed: 0,
} as const satisfies Required<ForestOptions>;

const knownFields = new Set(Object.keys(defaults));

function integerAtLeast(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new ForestOptionsError(field, `an integer >= ${min}`, value);
  return value;
}

/** Applies the defaults and checks every field; `nFeatures` resolves maxFeatures to a count. */
export function resolveForestOptions(options: ForestOptions, nFeatures: number): ResolvedForestOptions {
  for (const field of Object.keys(options)) {
    if (!knownFields.has(field)) throw new ForestOptionsError(field, `one of ${[...knownFields].join(', ')}`, 'an unknown field');
  }
  const o = { ...defaults, ...stripUndefined(options) };
  const nTrees = integerAtLeast('nTrees', o.nTrees, 1);
  const maxDepth = o.maxDepth === Number.POSITIVE_INFINITY ? o.maxDepth : integerAtLeast('maxDepth', o.maxDepth, 0);
  const minSamplesLeaf = integerAtLeast('minSamplesLeaf', o.minSamplesLeaf, 1);
  const minSamplesSplit = integerAtLeast('minSamplesSplit', o.minSamplesSplit, 2);
  if (typeof o.bootstrap !== 'boolean') throw new ForestOptionsError('bootstrap', 'a boolean', o.bootstrap);
  if (!(typeof o.maxSamples === 'number' && o.maxSamples > 0 && o.maxSamples <= 1)) {
    throw new ForestOptionsError('maxSamples', 'a fraction in (0, 1]', o.maxSamples);
  }
  if (!o.bootstrap && o.maxSamples !== 1) {
    throw new ForestOptionsError('maxSamples', '1 when bootstrap is false (rows are only subsampled by bagging)', o.maxSamples);
  }
  if (!(Number.isInteger(o.seed) && o.seed >= 0 && o.seed <= 0xffffffff)) {
    throw new ForestOptionsError('seed', 'an unsigned 32-bit integer', o.seed);
  }
  return {
    nTrees,
    maxDepth,
    minSamplesLeaf,
    minSamplesSplit,
    featuresPerSplit: resolveFeaturesPerSplit(o.maxFeatures, nFeatures),
    bootstrap: o.bootstrap,
    maxSamples: o.maxSamples,
    seed: o.seed,
  };
}

function resolveFeaturesPerSplit(maxFeatures: number | 'sqrt' | 'log2', nFeatures: number): number {
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(nFeatures)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(nFeatures)));
  if (typeof maxFeatures === 'number' && maxFeatures > 0 && maxFeatures <= 1) {
    return Math.max(1, Math.floor(maxFeatures * nFeatures));
  }
  if (Number.isInteger(maxFeatures) && (maxFeatures as number) >= 2 && (maxFeatures as number) <= nFeatures) {
    return maxFeatures as number;
  }
  throw new ForestOptionsError(
    'maxFeatures',
    `a fraction in (0, 1], an integer in [2, ${nFeatures}] (the feature count), 'sqrt' or 'log2'`,
    maxFeatures,
  );
}

function stripUndefined(options: ForestOptions): ForestOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ForestOptions;
}
