import test from 'ava';
import { addDifferential, dieboldMariano, differentialsOf, noDifferentials } from './diebold-mariano.ts';

/** The textbook statistic from the whole series: mean / sqrt((gamma0 + 2 sum gamma_k) / n), HLN-corrected. */
function direct(d: readonly number[], h: number): number {
  const n = d.length;
  const m = d.reduce((a, b) => a + b, 0) / n;
  const gamma = (k: number) => {
    let s = 0;
    for (let t = k; t < n; t++) s += (d[t]! - m) * (d[t - k]! - m);
    return s / n;
  };
  let lrv = gamma(0);
  for (let k = 1; k < h; k++) lrv += 2 * gamma(k);
  const hln = Math.sqrt((n + 1 - 2 * h + (h * (h - 1)) / n) / n);
  return (m / Math.sqrt(lrv / n)) * hln;
}

const wave = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) + 0.3 * Math.cos(i * 0.37) + 0.05);

test('the running sums give the statistic of the whole series, with the autocovariances of h - 1 lags', (t) => {
  const d = wave(500);
  for (const h of [1, 5, 20]) {
    let acc = noDifferentials(h);
    for (const v of d) acc = addDifferential(acc, v);
    const r = dieboldMariano(acc);
    t.true(Math.abs(r.statistic! - direct(d, h)) < 1e-9, `h=${h}: ${r.statistic} vs ${direct(d, h)}`);
  }
});

test('a challenger whose losses are lower is favoured (p small); an equal one is not', (t) => {
  const champion = wave(400).map((v) => 1 + 0.2 * v);
  const better = champion.map((v, i) => v - 0.05 + 0.02 * Math.sin(i));
  const r = dieboldMariano(differentialsOf(champion, better, 1));
  t.true(r.meanDifferential > 0);
  t.true(r.pValue! < 0.001);
  const worse = dieboldMariano(differentialsOf(champion, champion.map((v) => v + 0.05), 1));
  t.true(worse.pValue === null || worse.pValue > 0.5);
});

test('too few outcomes or identical losses give no statistic; a constant advantage is decisive', (t) => {
  t.is(dieboldMariano(differentialsOf([1], [0.5], 1)).statistic, null);
  t.is(dieboldMariano(differentialsOf([1, 2, 3], [1, 2, 3], 1)).statistic, null);
  t.is(dieboldMariano(differentialsOf([1, 1, 1], [0.5, 0.5, 0.5], 1)).pValue, 0);
  t.is(dieboldMariano(differentialsOf([0.5, 0.5, 0.5], [1, 1, 1], 1)).pValue, 1);
});
