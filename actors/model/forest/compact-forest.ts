/**
 * The serving form of a regression forest: every node of every tree in flat typed arrays, trees laid out
 * one after the other, each in preorder (a split node's left child is the next node; its right child sits
 * `rightOffset` nodes further on). A row goes left when `row[feature] < threshold`, as in ml-cart, so NaN goes
 * right. Thresholds and leaf values are float32.
 *
 * Binary form (little-endian), version 1:
 *   header, 32 bytes: magic "CFOR" | u16 version | u16 flags (bit 0: right offsets are u32, else u16)
 *                     | u32 nFeatures | u32 nTrees | u32 nodeCount | u32 splitCount | u32 payloadBytes
 *                     | u32 CRC-32 of the payload
 *   payload: u32 nodes per tree [nTrees] | f32 threshold or leaf value [nodeCount]
 *            | u16/u32 right offset of each split node, in node order [splitCount]
 *            | u16 feature of each node, 0xffff for a leaf [nodeCount]
 */
import { crc32 } from 'node:zlib';
import { toMlRandomForestJson, type MlRandomForestRegressionJson } from './ml-random-forest-json.ts';

/** The flat arrays of a forest; `feature[i] < 0` marks a leaf. */
export interface ForestArrays {
  readonly nFeatures: number;
  /** Index of each tree's root, ascending; tree t spans [treeStart[t], treeStart[t + 1]) (last: nodeCount). */
  readonly treeStart: Int32Array;
  readonly feature: Int32Array;
  /** Split threshold for a split node, prediction for a leaf. */
  readonly value: Float32Array;
  /** Distance from a split node to its right child (0 for leaves). */
  readonly rightOffset: Int32Array;
}

/** Thrown by CompactForest.fromBuffer on a blob that is not a valid forest. */
export class CorruptForestError extends Error {
  constructor(reason: string) {
    super(`corrupt forest buffer: ${reason}`);
    this.name = 'CorruptForestError';
  }
}

const MAGIC = 0x524f4643; // "CFOR" read as a little-endian u32
const VERSION = 1;
const HEADER_BYTES = 32;
const FLAG_WIDE_OFFSETS = 1;
const LEAF_FEATURE_U16 = 0xffff;
/** Feature indices are stored as u16 with one value reserved for leaves. */
export const MAX_FEATURES = LEAF_FEATURE_U16;

export class CompactForest {
  readonly nFeatures: number;
  readonly nTrees: number;
  private readonly arrays: ForestArrays;
  // Serving layout, per node: a leaf reads as a split on feature 0 at threshold NaN with a right step of 0, so
  // `row[f] < NaN` is false and the walk stays put. Every walk can then run a fixed number of steps, which lets
  // predictTrees advance four trees in lockstep without checking for leaves: their independent loads and
  // compares overlap in the CPU instead of waiting on one another.
  private readonly splitFeature: Int32Array;
  private readonly threshold: Float32Array;
  private readonly rightStep: Int32Array;
  private readonly leafValue: Float32Array;
  private readonly treeStart: Int32Array;
  /** Steps to walk for trees [4g, 4g + 4): the depth of the deepest of them; for the last trees, their own. */
  private readonly steps: Int32Array;
  private readonly scratch: Float64Array;

  private constructor(arrays: ForestArrays) {
    this.arrays = arrays;
    this.nFeatures = arrays.nFeatures;
    this.nTrees = arrays.treeStart.length;
    this.treeStart = arrays.treeStart;
    const n = arrays.feature.length;
    this.splitFeature = new Int32Array(n);
    this.threshold = new Float32Array(n);
    this.rightStep = new Int32Array(n);
    this.leafValue = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const f = arrays.feature[i]!;
      if (f < 0) {
        this.threshold[i] = Number.NaN;
        this.leafValue[i] = arrays.value[i]!;
      } else {
        this.splitFeature[i] = f;
        this.threshold[i] = arrays.value[i]!;
        this.rightStep[i] = arrays.rightOffset[i]!;
      }
    }
    const depths = treeDepths(arrays);
    this.steps = new Int32Array(this.nTrees);
    for (let t = 0; t < this.nTrees; t++) {
      const group = t - (t % 4);
      this.steps[t] = group + 4 <= this.nTrees ? largest(depths.subarray(group, group + 4)) : depths[t]!;
    }
    this.scratch = new Float64Array(this.nTrees);
  }

  /**
   * Wraps arrays (and takes them over: do not change them afterwards) after checking that every tree is a
   * well-formed preorder tree; throws on the first defect.
   */
  static fromArrays(arrays: ForestArrays): CompactForest {
    const problem = findStructureProblem(arrays);
    if (problem) throw new Error(`invalid forest arrays: ${problem}`);
    return new CompactForest(arrays);
  }

  /** Total nodes (splits and leaves) over all trees. */
  get nodeCount(): number {
    return this.arrays.feature.length;
  }

  /** Mean of the trees' predictions for one row of `nFeatures` values (NaN goes right at every split). */
  predict(row: ArrayLike<number>): number {
    return this.predictTrees(row, this.scratch);
  }

  /**
   * Writes each tree's prediction for `row` into `outTrees` (length >= nTrees) and returns their mean; no
   * allocation, for the serving path (see tree-spread.ts for the direction share and quantiles).
   */
  predictTrees(row: ArrayLike<number>, outTrees: Float64Array): number {
    if (row.length !== this.nFeatures) {
      throw new RangeError(`row has ${row.length} values, the forest expects nFeatures = ${this.nFeatures}`);
    }
    if (outTrees.length < this.nTrees) {
      throw new RangeError(`outTrees holds ${outTrees.length} values, the forest has ${this.nTrees} trees`);
    }
    const { splitFeature: fe, threshold: th, rightStep: rs, leafValue, treeStart, steps } = this;
    const nTrees = this.nTrees;
    let sum = 0;
    let t = 0;
    for (; t + 4 <= nTrees; t += 4) {
      let i0 = treeStart[t]!;
      let i1 = treeStart[t + 1]!;
      let i2 = treeStart[t + 2]!;
      let i3 = treeStart[t + 3]!;
      for (let d = steps[t]!; d > 0; d--) {
        // Branch-free step (a mispredicted branch per level costs more than the arithmetic): left is +1,
        // right is +rightStep, i.e. i += r + isLeft * (1 - r).
        const r0 = rs[i0]!;
        const r1 = rs[i1]!;
        const r2 = rs[i2]!;
        const r3 = rs[i3]!;
        i0 += r0 + +(row[fe[i0]!]! < th[i0]!) * (1 - r0);
        i1 += r1 + +(row[fe[i1]!]! < th[i1]!) * (1 - r1);
        i2 += r2 + +(row[fe[i2]!]! < th[i2]!) * (1 - r2);
        i3 += r3 + +(row[fe[i3]!]! < th[i3]!) * (1 - r3);
      }
      const v0 = leafValue[i0]!;
      const v1 = leafValue[i1]!;
      const v2 = leafValue[i2]!;
      const v3 = leafValue[i3]!;
      outTrees[t] = v0;
      outTrees[t + 1] = v1;
      outTrees[t + 2] = v2;
      outTrees[t + 3] = v3;
      // One addition at a time, in tree order: the same sum as ml-random-forest's mean.
      sum += v0;
      sum += v1;
      sum += v2;
      sum += v3;
    }
    for (; t < nTrees; t++) {
      let i = treeStart[t]!;
      for (let d = steps[t]!; d > 0; d--) {
        const r = rs[i]!;
        i += r + +(row[fe[i]!]! < th[i]!) * (1 - r);
      }
      const v = leafValue[i]!;
      outTrees[t] = v;
      sum += v;
    }
    return sum / nTrees;
  }

  /** Means for many rows, `rows` row-major with nFeatures values per row. */
  predictMany(rows: Float64Array): Float64Array {
    if (rows.length % this.nFeatures !== 0) {
      throw new RangeError(`rows holds ${rows.length} values, not a multiple of nFeatures ${this.nFeatures}`);
    }
    const out = new Float64Array(rows.length / this.nFeatures);
    for (let r = 0; r < out.length; r++) {
      out[r] = this.predict(rows.subarray(r * this.nFeatures, (r + 1) * this.nFeatures));
    }
    return out;
  }

  /** Depth of the deepest leaf over all trees (0 for a forest of single leaves). */
  maxDepth(): number {
    return largest(treeDepths(this.arrays));
  }

  /** A copy of the flat arrays (for inspection, export and tests). */
  toArrays(): ForestArrays {
    const a = this.arrays;
    return {
      nFeatures: a.nFeatures,
      treeStart: a.treeStart.slice(),
      feature: a.feature.slice(),
      value: a.value.slice(),
      rightOffset: a.rightOffset.slice(),
    };
  }

  /** The model as ml-random-forest's RandomForestRegression JSON (what `RandomForestRegression.load` takes). */
  toMlRandomForestJSON(): MlRandomForestRegressionJson {
    return toMlRandomForestJson(this.arrays);
  }

  /** The binary form described at the top of this file. */
  toBuffer(): Buffer {
    const { treeStart, feature, value, rightOffset } = this.arrays;
    const nodeCount = this.nodeCount;
    let splitCount = 0;
    let widestOffset = 0;
    for (let i = 0; i < nodeCount; i++) {
      if (feature[i]! >= 0) {
        splitCount++;
        widestOffset = Math.max(widestOffset, rightOffset[i]!);
      }
    }
    const wide = widestOffset > 0xffff;
    const offsetBytes = wide ? 4 : 2;
    const payloadBytes = 4 * this.nTrees + 4 * nodeCount + offsetBytes * splitCount + 2 * nodeCount;
    const buf = Buffer.alloc(HEADER_BYTES + payloadBytes);
    let p = HEADER_BYTES;
    for (let t = 0; t < this.nTrees; t++) {
      const end = t + 1 < this.nTrees ? treeStart[t + 1]! : nodeCount;
      p = buf.writeUInt32LE(end - treeStart[t]!, p);
    }
    for (let i = 0; i < nodeCount; i++) p = buf.writeFloatLE(value[i]!, p);
    for (let i = 0; i < nodeCount; i++) {
      if (feature[i]! < 0) continue;
      p = wide ? buf.writeUInt32LE(rightOffset[i]!, p) : buf.writeUInt16LE(rightOffset[i]!, p);
    }
    for (let i = 0; i < nodeCount; i++) {
      const f = feature[i]!;
      p = buf.writeUInt16LE(f < 0 ? LEAF_FEATURE_U16 : f, p);
    }
    buf.writeUInt32LE(MAGIC, 0);
    buf.writeUInt16LE(VERSION, 4);
    buf.writeUInt16LE(wide ? FLAG_WIDE_OFFSETS : 0, 6);
    buf.writeUInt32LE(this.nFeatures, 8);
    buf.writeUInt32LE(this.nTrees, 12);
    buf.writeUInt32LE(nodeCount, 16);
    buf.writeUInt32LE(splitCount, 20);
    buf.writeUInt32LE(payloadBytes, 24);
    buf.writeUInt32LE(crc32(buf.subarray(HEADER_BYTES)), 28);
    return buf;
  }

  /** Reads the binary form; throws CorruptForestError saying what is wrong with a bad blob. */
  static fromBuffer(input: Uint8Array): CompactForest {
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (buf.length < HEADER_BYTES) throw new CorruptForestError(`${buf.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
    if (buf.readUInt32LE(0) !== MAGIC) throw new CorruptForestError('bad magic (not a CFOR forest)');
    const version = buf.readUInt16LE(4);
    if (version !== VERSION) throw new CorruptForestError(`unsupported version ${version} (this code reads ${VERSION})`);
    const flags = buf.readUInt16LE(6);
    if ((flags & ~FLAG_WIDE_OFFSETS) !== 0) throw new CorruptForestError(`unknown flags 0x${flags.toString(16)}`);
    const nFeatures = buf.readUInt32LE(8);
    const nTrees = buf.readUInt32LE(12);
    const nodeCount = buf.readUInt32LE(16);
    const splitCount = buf.readUInt32LE(20);
    const payloadBytes = buf.readUInt32LE(24);
    if (nFeatures < 1 || nFeatures > MAX_FEATURES) throw new CorruptForestError(`nFeatures ${nFeatures} out of [1, ${MAX_FEATURES}]`);
    if (nTrees < 1) throw new CorruptForestError('no trees');
    if (splitCount >= nodeCount) throw new CorruptForestError(`${splitCount} splits for ${nodeCount} nodes`);
    const offsetBytes = flags & FLAG_WIDE_OFFSETS ? 4 : 2;
    const expected = 4 * nTrees + 4 * nodeCount + offsetBytes * splitCount + 2 * nodeCount;
    if (payloadBytes !== expected) throw new CorruptForestError(`payload size ${payloadBytes} does not match its counts (${expected})`);
    if (buf.length !== HEADER_BYTES + payloadBytes) {
      throw new CorruptForestError(`${buf.length} bytes where the header announces ${HEADER_BYTES + payloadBytes} (truncated or padded)`);
    }
    if (crc32(buf.subarray(HEADER_BYTES)) !== buf.readUInt32LE(28)) throw new CorruptForestError('checksum mismatch');

    const treeStart = new Int32Array(nTrees);
    const feature = new Int32Array(nodeCount);
    const value = new Float32Array(nodeCount);
    const rightOffset = new Int32Array(nodeCount);
    let p = HEADER_BYTES;
    let start = 0;
    for (let t = 0; t < nTrees; t++) {
      treeStart[t] = start;
      start += buf.readUInt32LE(p);
      p += 4;
    }
    if (start !== nodeCount) throw new CorruptForestError(`tree sizes add up to ${start}, not ${nodeCount} nodes`);
    for (let i = 0; i < nodeCount; i++, p += 4) value[i] = buf.readFloatLE(p);
    const offsetsAt = p;
    p += offsetBytes * splitCount;
    let s = 0;
    for (let i = 0; i < nodeCount; i++, p += 2) {
      const f = buf.readUInt16LE(p);
      if (f === LEAF_FEATURE_U16) {
        feature[i] = -1;
        continue;
      }
      if (s === splitCount) throw new CorruptForestError(`more than ${splitCount} split nodes`);
      feature[i] = f;
      const at = offsetsAt + offsetBytes * s++;
      rightOffset[i] = offsetBytes === 4 ? buf.readUInt32LE(at) : buf.readUInt16LE(at);
    }
    if (s !== splitCount) throw new CorruptForestError(`${s} split nodes where the header announces ${splitCount}`);
    const arrays = { nFeatures, treeStart, feature, value, rightOffset };
    const problem = findStructureProblem(arrays);
    if (problem) throw new CorruptForestError(problem);
    return new CompactForest(arrays);
  }

}

/**
 * Checks that each tree is exactly one preorder binary tree: every split's left subtree starts right after it
 * and ends where its right child starts, and the root's subtree covers the tree's span. Also checks feature
 * indices and that leaves hold finite values (a NaN threshold would silently send every row right).
 */
function findStructureProblem(a: ForestArrays): string | undefined {
  const nodeCount = a.feature.length;
  if (a.value.length !== nodeCount || a.rightOffset.length !== nodeCount) return 'arrays of different lengths';
  if (a.treeStart.length < 1) return 'no trees';
  if (!(Number.isInteger(a.nFeatures) && a.nFeatures >= 1 && a.nFeatures <= MAX_FEATURES)) return `nFeatures ${a.nFeatures}`;
  // subtreeEnd[k] of pending nodes: a stack of "the subtree rooted at node i must end at e".
  const ends: number[] = [];
  for (let t = 0; t < a.treeStart.length; t++) {
    const start = a.treeStart[t]!;
    const end = t + 1 < a.treeStart.length ? a.treeStart[t + 1]! : nodeCount;
    if (!(start < end)) return `tree ${t} is empty or out of order`;
    if (end > nodeCount) return `tree ${t} ends past the last node`;
    // Walk the preorder sequence; each split pushes the ends of its right and left subtrees.
    ends.length = 0;
    ends.push(end);
    for (let i = start; i < end; i++) {
      const subtreeEnd = ends.pop();
      if (subtreeEnd === undefined) return `tree ${t} has nodes after its root's subtree (node ${i})`;
      const f = a.feature[i]!;
      if (!Number.isFinite(a.value[i]!)) return `node ${i} holds a non-finite value`;
      if (f < 0) {
        if (subtreeEnd !== i + 1) return `leaf ${i} does not close its subtree`;
        continue;
      }
      if (f >= a.nFeatures) return `node ${i} splits on feature ${f}, beyond nFeatures ${a.nFeatures}`;
      const right = i + a.rightOffset[i]!;
      if (!(right > i + 1 && right < subtreeEnd)) return `node ${i} has its right child out of its subtree`;
      ends.push(subtreeEnd, right);
    }
    if (ends.length !== 0) return `tree ${t} is missing nodes`;
  }
  return undefined;
}

/** Depth of each tree's deepest leaf; the arrays must be valid (see findStructureProblem). */
function treeDepths(a: ForestArrays): Int32Array {
  const nTrees = a.treeStart.length;
  const depths = new Int32Array(nTrees);
  const pending: number[] = [];
  for (let t = 0; t < nTrees; t++) {
    // Preorder walk: go left, remember each right child with its depth.
    let deepest = 0;
    let i = a.treeStart[t]!;
    let depth = 0;
    for (;;) {
      if (a.feature[i]! >= 0) {
        pending.push(i + a.rightOffset[i]!, depth + 1);
        i += 1;
        depth += 1;
        continue;
      }
      deepest = Math.max(deepest, depth);
      if (pending.length === 0) break;
      depth = pending.pop()!;
      i = pending.pop()!;
    }
    depths[t] = deepest;
  }
  return depths;
}

function largest(values: Int32Array): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}
