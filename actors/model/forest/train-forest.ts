/**
 * Trains a random forest regressor (bagged CART trees, variance reduction, features drawn per split) on one
 * thread and returns it in its compact serving form. For several forests at once, see train-many.ts.
 */
import { CompactForest } from './compact-forest.ts';
import { resolveForestOptions, type ForestOptions } from './forest-options.ts';
import { TreeBuilder, type TreeNodes } from './tree-builder.ts';
import { prepareTrainingData, type FeatureRows } from './training-data.ts';

/**
 * @param x rows: row-major Float64Array of y.length x nFeatures values, or one array of nFeatures per row;
 *   values must be finite (they are held as float32, as scikit-learn does)
 * @param y finite targets, one per row
 * @param onTree called after each tree with (trees done, trees in total)
 */
export function trainForest(
  x: FeatureRows,
  y: ArrayLike<number>,
  nFeatures: number,
  options: ForestOptions = {},
  onTree?: (done: number, total: number) => void,
): CompactForest {
  const data = prepareTrainingData(x, y, nFeatures);
  const resolved = resolveForestOptions(options, nFeatures);
  const builder = new TreeBuilder(data, resolved);
  const trees: TreeNodes[] = [];
  for (let t = 0; t < resolved.nTrees; t++) {
    const tree = builder.build(t);
    // The builder reuses its buffers for the next tree.
    trees.push({ feature: tree.feature.slice(), value: tree.value.slice(), rightOffset: tree.rightOffset.slice() });
    onTree?.(t + 1, resolved.nTrees);
  }
  return assemble(nFeatures, trees);
}

function assemble(nFeatures: number, trees: readonly TreeNodes[]): CompactForest {
  const nodeCount = trees.reduce((n, t) => n + t.feature.length, 0);
  const treeStart = new Int32Array(trees.length);
  const feature = new Int32Array(nodeCount);
  const value = new Float32Array(nodeCount);
  const rightOffset = new Int32Array(nodeCount);
  let at = 0;
  trees.forEach((tree, t) => {
    treeStart[t] = at;
    feature.set(tree.feature, at);
    value.set(tree.value, at);
    rightOffset.set(tree.rightOffset, at);
    at += tree.feature.length;
  });
  return CompactForest.fromArrays({ nFeatures, treeStart, feature, value, rightOffset });
}
