/**
 * What the spread of a forest's trees says about one prediction: the share of trees predicting a rise (a
 * "direction probability", a vote share rather than a calibrated probability) and quantiles of the trees'
 * predictions (a rough interval; its coverage must be measured, trees of one forest are not independent).
 */

/** Share of the first `count` values strictly above `level` (default 0: the trees predicting a rise). */
export function shareAbove(values: Float64Array, count = values.length, level = 0): number {
  if (count < 1 || count > values.length) throw new RangeError(`count ${count} out of [1, ${values.length}]`);
  let above = 0;
  for (let i = 0; i < count; i++) if (values[i]! > level) above++;
  return above / count;
}

/**
 * Quantiles (linear interpolation between order statistics, numpy's default) of the first `count` values,
 * written to `out[k]` for `probabilities[k]`. `scratch` (length >= count) receives a sorted copy, so that
 * the serving path allocates no arrays (only a typed-array view).
 */
export function quantilesInto(
  values: Float64Array,
  count: number,
  probabilities: readonly number[],
  scratch: Float64Array,
  out: Float64Array,
): void {
  if (count < 1 || count > values.length) throw new RangeError(`count ${count} out of [1, ${values.length}]`);
  if (scratch.length < count) throw new RangeError(`scratch holds ${scratch.length} values, needs ${count}`);
  if (out.length < probabilities.length) throw new RangeError(`out holds ${out.length} values, needs ${probabilities.length}`);
  const sorted = scratch.subarray(0, count);
  sorted.set(values.subarray(0, count));
  sorted.sort();
  for (let k = 0; k < probabilities.length; k++) {
    const p = probabilities[k]!;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probabilities[${k}] = ${p} is not in [0, 1]`);
    const at = p * (count - 1);
    const below = Math.floor(at);
    const above = Math.min(below + 1, count - 1);
    out[k] = sorted[below]! + (at - below) * (sorted[above]! - sorted[below]!);
  }
}
