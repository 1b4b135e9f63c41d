/**
 * Grows one CART regression tree of a random forest, exact greedy splits in O(features x rows) per tree level.
 *
 * Every feature keeps its in-bag rows sorted by value in one shared array; a node is the same range [start, end)
 * in every feature's part. Finding a split scans a node's range once per candidate feature, with running sums,
 * and scores each boundary between two distinct values by variance reduction (weighted SSE decrease,
 * wL * wR / w * (meanL - meanR)^2). Splitting stably partitions every feature's range into left rows then right
 * rows, which keeps each sorted: no sort after the one in training-data.ts. Bootstrap draws become row weights
 * (the number of times a row was drawn), as in scikit-learn; minSamplesLeaf / minSamplesSplit count distinct rows.
 */
import { createRandom } from './random.ts';
import type { ResolvedForestOptions } from './forest-options.ts';
import type { TrainingData } from './training-data.ts';

/** One grown tree in the compact layout (preorder, left child next, right child at rightOffset). */
export interface TreeNodes {
  readonly feature: Int32Array;
  readonly value: Float32Array;
  readonly rightOffset: Int32Array;
}

/** Scratch space for one forest's trees; build trees one at a time (not reentrant). */
export class TreeBuilder {
  private readonly weight: Float64Array;
  private readonly weightedY: Float64Array;
  private readonly rows: Int32Array;
  private readonly values: Float32Array;
  private readonly spareRows: Int32Array;
  private readonly spareValues: Float32Array;
  private readonly goesLeft: Uint8Array;
  private readonly featureOrder: Int32Array;
  private readonly nodeFeature: Int32Array;
  private readonly nodeValue: Float32Array;
  private readonly nodeRight: Int32Array;
  /** Pending nodes, 4 ints each: start, end, depth, parent whose right child it is (-1 for a left child). */
  private readonly stack: Int32Array;
  private bestFeature = -1;
  private bestPosition = -1;

  constructor(
    private readonly data: TrainingData,
    private readonly options: ResolvedForestOptions,
  ) {
    const { nRows, nFeatures } = data;
    this.weight = new Float64Array(nRows);
    this.weightedY = new Float64Array(nRows);
    this.rows = new Int32Array(nFeatures * nRows);
    this.values = new Float32Array(nFeatures * nRows);
    this.spareRows = new Int32Array(nRows);
    this.spareValues = new Float32Array(nRows);
    this.goesLeft = new Uint8Array(nRows);
    this.featureOrder = new Int32Array(nFeatures);
    // A binary tree over at most nRows distinct rows has at most 2 * nRows - 1 nodes; depth-first, at most one
    // pending right sibling per level plus the node at hand.
    this.nodeFeature = new Int32Array(2 * nRows);
    this.nodeValue = new Float32Array(2 * nRows);
    this.nodeRight = new Int32Array(2 * nRows);
    this.stack = new Int32Array(4 * (nRows + 2));
  }

  /** Grows tree `treeIndex` (its bootstrap and feature draws depend only on the seed and this index). */
  build(treeIndex: number): TreeNodes {
    const random = createRandom(this.options.seed, treeIndex);
    const inBag = this.drawRows(random);
    const { nFeatures, yMean, yCentred: y } = this.data;
    const { maxDepth, minSamplesLeaf, minSamplesSplit } = this.options;
    const { weight, weightedY, rows, nodeFeature, nodeValue, nodeRight, stack } = this;
    for (let f = 0; f < nFeatures; f++) this.featureOrder[f] = f;

    let nodeCount = 0;
    let top = 0;
    stack[0] = 0;
    stack[1] = inBag;
    stack[2] = 0;
    stack[3] = -1;
    top = 4;
    while (top > 0) {
      top -= 4;
      const start = stack[top]!;
      const end = stack[top + 1]!;
      const depth = stack[top + 2]!;
      const parent = stack[top + 3]!;
      const node = nodeCount++;
      if (parent >= 0) nodeRight[parent] = node - parent;

      // Feature 0's range holds the node's rows like any other.
      let w = 0;
      let s = 0;
      let yMin = Number.POSITIVE_INFINITY;
      let yMax = Number.NEGATIVE_INFINITY;
      for (let k = start; k < end; k++) {
        const r = rows[k]!;
        w += weight[r]!;
        s += weightedY[r]!;
        const v = y[r]!;
        if (v < yMin) yMin = v;
        if (v > yMax) yMax = v;
      }
      const count = end - start;
      const splittable =
        depth < maxDepth && count >= minSamplesSplit && count >= 2 * minSamplesLeaf && yMin !== yMax;
      if (!splittable || !this.findSplit(start, end, w, s, random)) {
        nodeFeature[node] = -1;
        nodeValue[node] = s / w + yMean;
        nodeRight[node] = 0;
        continue;
      }
      const split = this.bestFeature;
      const last = this.bestPosition;
      const below = this.values[split * this.data.nRows + last]!;
      const above = this.values[split * this.data.nRows + last + 1]!;
      nodeFeature[node] = split;
      nodeValue[node] = threshold(below, above);
      nodeRight[node] = 0;
      const nLeft = last - start + 1;
      this.partition(start, end, split, last);
      // Right first so that the left child is popped next and lands at node + 1 (preorder).
      stack[top] = start + nLeft;
      stack[top + 1] = end;
      stack[top + 2] = depth + 1;
      stack[top + 3] = node;
      stack[top + 4] = start;
      stack[top + 5] = start + nLeft;
      stack[top + 6] = depth + 1;
      stack[top + 7] = -1;
      top += 8;
    }
    return {
      feature: nodeFeature.subarray(0, nodeCount),
      value: nodeValue.subarray(0, nodeCount),
      rightOffset: nodeRight.subarray(0, nodeCount),
    };
  }

  /** Sets row weights from the bootstrap draw and each feature's sorted in-bag rows; returns the in-bag count. */
  private drawRows(random: ReturnType<typeof createRandom>): number {
    const { nRows, nFeatures, yCentred, sortedRows, sortedValues } = this.data;
    const { weight, weightedY, rows, values } = this;
    if (this.options.bootstrap) {
      weight.fill(0);
      const draws = Math.max(1, Math.round(this.options.maxSamples * nRows));
      for (let d = 0; d < draws; d++) weight[random.nextInt(nRows)]! += 1;
    } else {
      weight.fill(1);
    }
    for (let r = 0; r < nRows; r++) weightedY[r] = weight[r]! * yCentred[r]!;
    let inBag = 0;
    for (let f = 0; f < nFeatures; f++) {
      const base = f * nRows;
      let j = base;
      for (let k = base; k < base + nRows; k++) {
        const r = sortedRows[k]!;
        rows[j] = r;
        values[j] = sortedValues[k]!;
        // Branch-free filter: out-of-bag rows are overwritten by the next one.
        j += weight[r]! > 0 ? 1 : 0;
      }
      inBag = j - base;
    }
    return inBag;
  }

  /**
   * Best variance-reducing split of the node over `featuresPerSplit` features drawn without replacement
   * (features constant in the node do not count, as in scikit-learn). Leaves it in bestFeature / bestPosition
   * (the last left row in that feature's order); false when no feature can split the node.
   */
  private findSplit(start: number, end: number, w: number, s: number, random: ReturnType<typeof createRandom>): boolean {
    const { nRows, nFeatures } = this.data;
    const { featuresPerSplit, minSamplesLeaf } = this.options;
    const { rows, values, weight, weightedY, featureOrder } = this;
    let bestGain = -1;
    let bestFeature = -1;
    let bestPosition = -1;
    let drawn = 0;
    for (let j = 0; j < nFeatures && drawn < featuresPerSplit; j++) {
      const pick = j + random.nextInt(nFeatures - j);
      const f = featureOrder[pick]!;
      featureOrder[pick] = featureOrder[j]!;
      featureOrder[j] = f;
      const base = f * nRows;
      if (values[base + start] === values[base + end - 1]) continue;
      drawn++;
      // Position k means rows [start, k] go left; both sides keep at least minSamplesLeaf rows.
      const first = base + start + minSamplesLeaf - 1;
      const last = base + end - minSamplesLeaf - 1;
      let wLeft = 0;
      let sLeft = 0;
      for (let k = base + start; k < first; k++) {
        const r = rows[k]!;
        wLeft += weight[r]!;
        sLeft += weightedY[r]!;
      }
      for (let k = first; k <= last; k++) {
        const r = rows[k]!;
        wLeft += weight[r]!;
        sLeft += weightedY[r]!;
        if (values[k] === values[k + 1]) continue;
        const wRight = w - wLeft;
        const d = sLeft / wLeft - (s - sLeft) / wRight;
        const gain = wLeft * wRight * d * d;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = f;
          bestPosition = k - base;
        }
      }
    }
    this.bestFeature = bestFeature;
    this.bestPosition = bestPosition;
    return bestFeature >= 0;
  }

  /** Stable partition of every feature's range: rows left of the split first, each side still sorted. */
  private partition(start: number, end: number, split: number, last: number): void {
    const { nRows, nFeatures } = this.data;
    const { rows, values, goesLeft, spareRows, spareValues } = this;
    const splitBase = split * nRows;
    for (let k = splitBase + start; k <= splitBase + last; k++) goesLeft[rows[k]!] = 1;
    for (let k = splitBase + last + 1; k < splitBase + end; k++) goesLeft[rows[k]!] = 0;
    const nLeft = last - start + 1;
    for (let f = 0; f < nFeatures; f++) {
      if (f === split) continue;
      const base = f * nRows;
      let left = base + start;
      let right = 0;
      for (let k = base + start; k < base + end; k++) {
        const r = rows[k]!;
        const v = values[k]!;
        // Branch-free: write to both places, advance the one the row belongs to (left <= k, so no clobbering).
        rows[left] = r;
        values[left] = v;
        spareRows[right] = r;
        spareValues[right] = v;
        const g = goesLeft[r]!;
        left += g;
        right += 1 - g;
      }
      const rightBase = base + start + nLeft;
      for (let k = 0; k < right; k++) {
        rows[rightBase + k] = spareRows[k]!;
        values[rightBase + k] = spareValues[k]!;
      }
    }
  }
}

/**
 * A float32 threshold t with below < t <= above, so that `x < t` sends every training value <= below left and
 * every value >= above right: the midpoint when float32 holds a value strictly inside, else `above`.
 */
export function threshold(below: number, above: number): number {
  const mid = Math.fround((below + above) / 2);
  return mid > below ? mid : above;
}
