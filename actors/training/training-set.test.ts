import test from 'ava';
import type { PricePoint } from '../features/window.ts';
import { computeSeriesFeatures } from './series-features.ts';
import { ar1PriceSeries } from './synthetic-series.ts';
import { buildTrainingSet, embargoedEnd, rowCount } from './training-set.ts';

const series = ar1PriceSeries({ length: 60, phi: 0.2, seed: 3 });

test('the label of row t is the log return from p_t to p_{t+h}, measured at the ticks', (t) => {
  for (const h of [1, 3]) {
    const set = buildTrainingSet('X', computeSeriesFeatures(series), series, h);
    const byTs = new Map(series.map((p, i) => [p.tsMs, i]));
    for (let r = 0; r < rowCount(set); r++) {
      const i = byTs.get(set.tsMs[r]!)!;
      t.is(set.labelTsMs[r], series[i + h]!.tsMs);
      t.is(set.y[r], Math.log(series[i + h]!.price / series[i]!.price));
      t.is(set.price[r], series[i]!.price);
    }
    t.is(set.excluded.noLabelYet, h);
    t.is(set.excluded.warmUp, 21);
    t.is(rowCount(set), 60 - 21 - h);
    t.is(set.x.length, rowCount(set) * set.nFeatures);
  }
});

test('rows where a price is not positive get no label and are counted, not dropped silently', (t) => {
  const ticks: PricePoint[] = series.map((p, i) => (i === 40 ? { tsMs: p.tsMs, price: -5 } : p));
  const set = buildTrainingSet('X', computeSeriesFeatures(ticks), ticks, 1);
  // Row 40 (p_t < 0) and row 39 (p_{t+1} < 0).
  t.deepEqual(set.excluded, { warmUp: 21, noLabelYet: 1, nonPositivePrice: 2 });
  t.false(set.tsMs.includes(ticks[39]!.tsMs));
  t.false(set.tsMs.includes(ticks[40]!.tsMs));
  t.true(set.y.every(Number.isFinite));
});

test('no look-ahead: changing the ticks after t changes no input at or before t, and no label ending by t', (t) => {
  const base = buildTrainingSet('X', computeSeriesFeatures(series), series, 2);
  for (const k of [25, 40, 55]) {
    const altered = series.map((p, i) => (i > k ? { tsMs: p.tsMs, price: p.price * (1.5 + Math.sin(i)) } : p));
    const other = buildTrainingSet('X', computeSeriesFeatures(altered), altered, 2);
    const cutoff = series[k]!.tsMs;
    for (let r = 0; r < rowCount(base) && base.tsMs[r]! <= cutoff; r++) {
      t.is(other.tsMs[r], base.tsMs[r]);
      t.deepEqual(
        other.x.subarray(r * base.nFeatures, (r + 1) * base.nFeatures),
        base.x.subarray(r * base.nFeatures, (r + 1) * base.nFeatures),
        `inputs of row ${r} changed by ticks after index ${k}`,
      );
      if (base.labelTsMs[r]! <= cutoff) t.is(other.y[r], base.y[r]);
      else t.not(other.y[r], base.y[r], 'a label reaching past t must see the changed tick');
    }
  }
});

test('the embargo drops the rows whose label reaches the boundary', (t) => {
  const set = buildTrainingSet('X', computeSeriesFeatures(series), series, 3);
  const boundary = set.tsMs[20]!;
  const end = embargoedEnd(set, 20, boundary);
  // Labels end 3 ticks later: rows 17..19 end at or after row 20's tick.
  t.is(end, 17);
  t.true(set.labelTsMs[end - 1]! < boundary);
  t.is(embargoedEnd(set, rowCount(set), Number.POSITIVE_INFINITY), rowCount(set));
});

test('out-of-order ticks and features without a tick are refused', (t) => {
  const swapped = [series[1]!, series[0]!, ...series.slice(2)];
  t.throws(() => buildTrainingSet('X', [], swapped, 1), { message: /increasing time order/ });
  const features = computeSeriesFeatures(series);
  t.throws(() => buildTrainingSet('X', features, series.slice(0, 50), 1), { message: /has no tick/ });
  t.throws(() => buildTrainingSet('X', features, series, 0), { instanceOf: RangeError });
});
