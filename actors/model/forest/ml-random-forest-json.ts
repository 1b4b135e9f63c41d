/**
 * Export to ml-random-forest 2.1's model format, so that `RandomForestRegression.load(json)` rebuilds a forest
 * that predicts what ours predicts. The format, as ml-random-forest and ml-cart read it:
 * - RandomForestRegression: `{ name: 'RFRegression', selectionMethod, baseModel }`; `baseModel.indexes[t]` maps
 *   tree t's columns to the row's columns (we split on the row's own columns, so it is the identity);
 * - DecisionTreeRegression: `{ name: 'DTRegression', options, root }`;
 * - a node is a leaf when it has `distribution` (the prediction), else it has `splitColumn`, `splitValue`,
 *   `left`, `right`; ml-cart sends a row left when `row[splitColumn] < splitValue`, as our predictor does.
 * Values are the float32 numbers of the compact model, written as doubles, so the comparisons are the same.
 */
import type { ForestArrays } from './compact-forest.ts';

/** A node of an ml-cart regression tree. */
export type MlCartNode =
  | { distribution: number }
  | { splitColumn: number; splitValue: number; gain: number; left: MlCartNode; right: MlCartNode };

/** ml-cart's DecisionTreeRegression JSON. */
export interface MlCartRegressionTreeJson {
  name: 'DTRegression';
  options: { gainFunction: 'regression'; splitFunction: 'mean'; minNumSamples: number; maxDepth: number; kind: 'regression' };
  root: MlCartNode;
}

/** ml-random-forest's RandomForestRegression JSON. */
export interface MlRandomForestRegressionJson {
  name: 'RFRegression';
  selectionMethod: 'mean';
  baseModel: {
    indexes: number[][];
    n: number;
    replacement: boolean;
    maxFeatures: number;
    nEstimators: number;
    treeOptions: Record<string, never>;
    isClassifier: false;
    seed: number;
    estimators: MlCartRegressionTreeJson[];
    useSampleBagging: boolean;
  };
}

export function toMlRandomForestJson(arrays: ForestArrays): MlRandomForestRegressionJson {
  const nTrees = arrays.treeStart.length;
  const allColumns = Array.from({ length: arrays.nFeatures }, (_, i) => i);
  const estimators: MlCartRegressionTreeJson[] = [];
  for (let t = 0; t < nTrees; t++) {
    estimators.push({
      name: 'DTRegression',
      // Only read by ml-cart when training; recorded for completeness.
      options: { gainFunction: 'regression', splitFunction: 'mean', minNumSamples: 1, maxDepth: Number.MAX_SAFE_INTEGER, kind: 'regression' },
      root: nodeToJson(arrays, arrays.treeStart[t]!),
    });
  }
  return {
    name: 'RFRegression',
    selectionMethod: 'mean',
    baseModel: {
      indexes: estimators.map(() => allColumns.slice()),
      n: arrays.nFeatures,
      replacement: false,
      maxFeatures: 1,
      nEstimators: nTrees,
      treeOptions: {},
      isClassifier: false,
      seed: 0,
      estimators,
      useSampleBagging: true,
    },
  };
}

function nodeToJson(a: ForestArrays, i: number): MlCartNode {
  const f = a.feature[i]!;
  if (f < 0) return { distribution: a.value[i]! };
  return {
    splitColumn: f,
    splitValue: a.value[i]!,
    // The compact model does not keep split gains; ml-random-forest only uses them for featureImportance().
    gain: 0,
    left: nodeToJson(a, i + 1),
    right: nodeToJson(a, i + a.rightOffset[i]!),
  };
}
