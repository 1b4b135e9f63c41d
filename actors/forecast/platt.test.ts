import test from 'ava';
import { applyPlatt, fitPlatt } from './platt.ts';

test('an uninformative score calibrates to the base rate of the calibration rows', (t) => {
  const raw = new Float64Array(1000).fill(0.7);
  const up = Array.from({ length: 1000 }, (_, i) => i % 100 < 53);
  const s = fitPlatt(raw, up);
  t.true(Math.abs(applyPlatt(s, 0.7) - 0.53) < 0.005, `${applyPlatt(s, 0.7)}`);
});

test('an informative but overconfident score is shrunk to what happened', (t) => {
  // Rows scored 0.9 rose 60 % of the time, rows scored 0.1 rose 40 %.
  const raw: number[] = [];
  const up: boolean[] = [];
  for (let i = 0; i < 2000; i++) {
    const high = i % 2 === 0;
    raw.push(high ? 0.9 : 0.1);
    up.push(high ? i % 10 < 6 : i % 10 < 4);
  }
  const s = fitPlatt(raw, up);
  t.true(s.slope > 0 && s.slope < 1);
  t.true(Math.abs(applyPlatt(s, 0.9) - 0.6) < 0.02, `${applyPlatt(s, 0.9)}`);
  t.true(Math.abs(applyPlatt(s, 0.1) - 0.4) < 0.02, `${applyPlatt(s, 0.1)}`);
});

test('mismatched lengths are refused', (t) => {
  t.throws(() => fitPlatt([0.5, 0.5], [true]), { instanceOf: RangeError });
});
