/**
 * Training rows prepared once per forest: features as float32 columns (as scikit-learn holds them; it makes
 * every split threshold representable in the compact model), each column's row order sorted by value, and the
 * target centred on its mean (keeps the split arithmetic well conditioned for targets such as prices).
 */
import { MAX_FEATURES } from './compact-forest.ts';

export interface TrainingData {
  readonly nRows: number;
  readonly nFeatures: number;
  readonly yMean: number;
  /** Target minus yMean, per row. */
  readonly yCentred: Float64Array;
  /** Row ids sorted by feature value, column f at [f * nRows, (f + 1) * nRows); ties in row order. */
  readonly sortedRows: Int32Array;
  /** The float32 feature values in the same order as sortedRows. */
  readonly sortedValues: Float32Array;
}

/** Rows as a row-major Float64Array (nRows x nFeatures values) or as arrays of nFeatures numbers. */
export type FeatureRows = Float64Array | readonly (readonly number[])[];

export function prepareTrainingData(x: FeatureRows, y: ArrayLike<number>, nFeatures: number): TrainingData {
  if (!(Number.isInteger(nFeatures) && nFeatures >= 1 && nFeatures <= MAX_FEATURES)) {
    throw new RangeError(`nFeatures must be an integer in [1, ${MAX_FEATURES}], got ${nFeatures}`);
  }
  const nRows = y.length;
  if (nRows < 1) throw new RangeError('no training rows');
  const columns = toFloat32Columns(x, nRows, nFeatures);

  let sum = 0;
  for (let r = 0; r < nRows; r++) {
    const v = y[r]!;
    if (!Number.isFinite(v)) throw new RangeError(`y[${r}] is ${v}; targets must be finite`);
    sum += v;
  }
  const yMean = sum / nRows;
  const yCentred = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) yCentred[r] = y[r]! - yMean;

  const sortedRows = new Int32Array(nFeatures * nRows);
  const sortedValues = new Float32Array(nFeatures * nRows);
  const order = new Int32Array(nRows);
  for (let f = 0; f < nFeatures; f++) {
    const column = columns.subarray(f * nRows, (f + 1) * nRows);
    for (let r = 0; r < nRows; r++) order[r] = r;
    order.sort((a, b) => column[a]! - column[b]! || a - b);
    const base = f * nRows;
    for (let k = 0; k < nRows; k++) {
      const r = order[k]!;
      sortedRows[base + k] = r;
      sortedValues[base + k] = column[r]!;
    }
  }
  return { nRows, nFeatures, yMean, yCentred, sortedRows, sortedValues };
}

function toFloat32Columns(x: FeatureRows, nRows: number, nFeatures: number): Float32Array {
  const columns = new Float32Array(nFeatures * nRows);
  const put = (r: number, f: number, v: number): void => {
    const v32 = Math.fround(v);
    if (!Number.isFinite(v32)) throw new RangeError(`x[${r}][${f}] is ${v}; features must be finite float32 values`);
    columns[f * nRows + r] = v32;
  };
  if (x instanceof Float64Array) {
    if (x.length !== nRows * nFeatures) {
      throw new RangeError(`x holds ${x.length} values, expected rows (${nRows}, from y) x nFeatures (${nFeatures})`);
    }
    for (let r = 0; r < nRows; r++) for (let f = 0; f < nFeatures; f++) put(r, f, x[r * nFeatures + f]!);
  } else {
    if (x.length !== nRows) throw new RangeError(`x has ${x.length} rows, y has ${nRows}`);
    for (let r = 0; r < nRows; r++) {
      const row = x[r]!;
      if (row.length !== nFeatures) throw new RangeError(`x[${r}] has ${row.length} values, expected nFeatures = ${nFeatures}`);
      for (let f = 0; f < nFeatures; f++) put(r, f, row[f]!);
    }
  }
  return columns;
}
