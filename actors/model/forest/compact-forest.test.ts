import test from 'ava';
import { CompactForest, CorruptForestError } from './compact-forest.ts';
import { friedman1 } from '../../../test/friedman-data.ts';
import { trainForest } from './train-forest.ts';

const nFeatures = 6;
const data = friedman1(400, nFeatures, 1, 3);
const fresh = friedman1(200, nFeatures, 1, 4);
const forest = trainForest(data.x, data.y, nFeatures, { nTrees: 13, maxDepth: 7, seed: 9 });

function rowAt(x: Float64Array, r: number): Float64Array {
  return x.subarray(r * nFeatures, (r + 1) * nFeatures);
}

test('predictTrees fills one prediction per tree and returns their mean, which predict also returns', (t) => {
  const out = new Float64Array(forest.nTrees);
  for (let r = 0; r < fresh.rows; r++) {
    const mean = forest.predictTrees(rowAt(fresh.x, r), out);
    let sum = 0;
    for (const v of out) sum += v;
    t.is(mean, sum / forest.nTrees);
    t.is(forest.predict(rowAt(fresh.x, r)), mean);
    t.is(forest.predict(Array.from(rowAt(fresh.x, r))), mean, 'plain arrays work too');
  }
  t.true(new Set(out).size > 1, 'the trees disagree');
});

/** Each tree's prediction by a plain walk over the exported arrays: left when row[feature] < threshold. */
function referenceTrees(row: ArrayLike<number>): number[] {
  const a = forest.toArrays();
  return Array.from(a.treeStart, (start) => {
    let i = start;
    while (a.feature[i]! >= 0) i = row[a.feature[i]!]! < a.value[i]! ? i + 1 : i + a.rightOffset[i]!;
    return a.value[i]!;
  });
}

test('tree predictions follow the splits: a reference walk over the flat arrays agrees', (t) => {
  const out = new Float64Array(forest.nTrees);
  for (let r = 0; r < fresh.rows; r++) {
    forest.predictTrees(rowAt(fresh.x, r), out);
    t.deepEqual(Array.from(out), referenceTrees(rowAt(fresh.x, r)));
  }
});

test('a NaN feature goes right at every split, as in ml-cart', (t) => {
  const out = new Float64Array(forest.nTrees);
  for (let f = 0; f < nFeatures; f++) {
    const row = Float64Array.from(rowAt(fresh.x, f));
    row[f] = Number.NaN;
    const allRight = Float64Array.from(row);
    allRight[f] = Number.POSITIVE_INFINITY;
    forest.predictTrees(row, out);
    t.deepEqual(Array.from(out), referenceTrees(allRight));
  }
});

test('toBuffer / fromBuffer round trip gives the same arrays and predictions', (t) => {
  const buf = forest.toBuffer();
  const back = CompactForest.fromBuffer(buf);
  t.deepEqual(back.toArrays(), forest.toArrays());
  for (let r = 0; r < fresh.rows; r++) t.is(back.predict(rowAt(fresh.x, r)), forest.predict(rowAt(fresh.x, r)));
  t.true(back.toBuffer().equals(buf));
  // A copy at an odd offset inside a larger buffer (as read from a socket or a bytea column).
  const shifted = Buffer.concat([Buffer.from([1, 2, 3]), buf]).subarray(3);
  t.deepEqual(CompactForest.fromBuffer(shifted).toArrays(), forest.toArrays());
});

test('100 trees of depth 10 on 5,000 rows fit in the 2,000,000-byte budget', (t) => {
  const big = friedman1(5000, 20, 1, 1);
  const f = trainForest(big.x, big.y, 20, { nTrees: 100, maxDepth: 10, seed: 1 });
  const bytes = f.toBuffer().length;
  t.log(`${bytes} bytes for ${f.nodeCount} nodes`);
  t.true(bytes <= 2_000_000);
});

test('a corrupt blob throws a CorruptForestError saying what is wrong', (t) => {
  const buf = forest.toBuffer();
  const corrupt = (b: Uint8Array, message: RegExp): void => {
    t.throws(() => CompactForest.fromBuffer(b), { instanceOf: CorruptForestError, message });
  };
  corrupt(buf.subarray(0, 10), /shorter than the 32-byte header/);
  corrupt(buf.subarray(0, buf.length - 1), /truncated/);
  corrupt(Buffer.concat([buf, Buffer.alloc(1)]), /truncated or padded/);
  const badMagic = Buffer.from(buf);
  badMagic.write('JSON', 0);
  corrupt(badMagic, /bad magic/);
  const badVersion = Buffer.from(buf);
  badVersion.writeUInt16LE(2, 4);
  corrupt(badVersion, /unsupported version 2/);
  const flipped = Buffer.from(buf);
  flipped[flipped.length - 5]! ^= 0x40;
  corrupt(flipped, /checksum/);
  const badCounts = Buffer.from(buf);
  badCounts.writeUInt32LE(badCounts.readUInt32LE(16) + 1, 16);
  corrupt(badCounts, /payload size/);
});

test('fromArrays rejects trees that are not well-formed preorder trees', (t) => {
  const good = { nFeatures: 2, treeStart: Int32Array.of(0), feature: Int32Array.of(1, -1, -1), value: Float32Array.of(0.5, 1, 2), rightOffset: Int32Array.of(2, 0, 0) };
  t.is(CompactForest.fromArrays(good).predict([0, 0]), 1);
  t.is(CompactForest.fromArrays(good).predict([0, 0.5]), 2);
  const bad = (patch: Partial<typeof good>, message: RegExp): void => {
    t.throws(() => CompactForest.fromArrays({ ...good, ...patch }), { message });
  };
  bad({ rightOffset: Int32Array.of(5, 0, 0) }, /right child out of its subtree/);
  bad({ rightOffset: Int32Array.of(1, 0, 0) }, /right child out of its subtree/);
  bad({ feature: Int32Array.of(2, -1, -1) }, /beyond nFeatures/);
  bad({ feature: Int32Array.of(-1, -1, -1) }, /leaf 0 does not close its subtree/);
  bad({ feature: Int32Array.of(1, 0, -1) }, /missing nodes|out of its subtree/);
  bad({ value: Float32Array.of(Number.NaN, 1, 2) }, /non-finite/);
});

test('rows of the wrong length and short output arrays are refused', (t) => {
  t.throws(() => forest.predict([1, 2]), { message: /row has 2 values, the forest expects nFeatures = 6/ });
  t.throws(() => forest.predictTrees(rowAt(fresh.x, 0), new Float64Array(3)), { message: /outTrees holds 3 values/ });
});
