import test from 'ava';
import { RandomForestRegression } from 'ml-random-forest';
import { friedman1 } from '../../../test/friedman-data.ts';
import { trainForest } from './train-forest.ts';

type RegressionModel = Parameters<typeof RandomForestRegression.load>[0];

const nFeatures = 5;
const data = friedman1(300, nFeatures, 1, 31);
const forest = trainForest(data.x, data.y, nFeatures, { nTrees: 12, maxDepth: 6, maxFeatures: 0.6, seed: 5 });

function freshRows(): number[][] {
  const fresh = friedman1(200, nFeatures, 1, 32);
  const rows = Array.from({ length: fresh.rows }, (_, r) => Array.from(fresh.x.subarray(r * nFeatures, (r + 1) * nFeatures)));
  // Rows sitting exactly on thresholds check that both sides send x == threshold the same way.
  const { feature, value } = forest.toArrays();
  feature.forEach((f, i) => {
    if (f < 0 || i % 7 !== 0) return;
    const row = rows[i % rows.length]!.slice();
    row[f] = value[i]!;
    rows.push(row);
  });
  return rows;
}

test('the exported JSON loads into ml-random-forest and predicts exactly what we predict', (t) => {
  // Through a string, as it would be stored.
  const json = JSON.parse(JSON.stringify(forest.toMlRandomForestJSON())) as RegressionModel;
  const loaded = RandomForestRegression.load(json);
  const rows = freshRows();
  const theirs = loaded.predict(rows);
  t.is(theirs.length, rows.length);
  rows.forEach((row, i) => t.is(theirs[i], forest.predict(row), `row ${i}`));
});

test("each exported tree predicts what the matching compact tree predicts (ml-random-forest's predictionValues)", (t) => {
  const loaded = RandomForestRegression.load(forest.toMlRandomForestJSON() as unknown as RegressionModel);
  const rows = freshRows().slice(0, 50);
  const perTree = loaded.predictionValues(rows);
  const out = new Float64Array(forest.nTrees);
  rows.forEach((row, r) => {
    forest.predictTrees(row, out);
    t.deepEqual(perTree.getRow(r), Array.from(out));
  });
});

test('the JSON has the shape ml-random-forest writes: identity column indexes and ml-cart nodes', (t) => {
  const json = forest.toMlRandomForestJSON();
  t.is(json.name, 'RFRegression');
  t.is(json.baseModel.nEstimators, forest.nTrees);
  t.deepEqual(json.baseModel.indexes[0], [0, 1, 2, 3, 4]);
  const root = json.baseModel.estimators[0]!.root;
  t.true('splitColumn' in root && 'left' in root && 'right' in root);
});
