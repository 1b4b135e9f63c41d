import test from 'ava';
import { inputDeciles, PIT_EXPECTED, populationStabilityIndex, SHIFT_ALARM_PSI, SHIFT_WINDOW, ShiftMonitor } from './distribution-shift.ts';

const sequence = (n: number, f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));

test('live inputs drawn like the training rows stay far below the alarm; shifted ones raise it', (t) => {
  const train = sequence(5000, (i) => ((i * 7919) % 5000) / 5000);
  const monitor = new ShiftMonitor(inputDeciles(train, 1, 0, 5000));
  t.is(monitor.psi().inputs[0], undefined, 'no verdict before a full window');
  for (let i = 0; i < SHIFT_WINDOW; i++) monitor.observeInputs([((i * 131) % SHIFT_WINDOW) / SHIFT_WINDOW]);
  t.true(monitor.psi().inputs[0]! < 0.1, `same distribution: ${monitor.psi().inputs[0]}`);
  for (let i = 0; i < SHIFT_WINDOW; i++) monitor.observeInputs([0.8 + ((i * 131) % SHIFT_WINDOW) / SHIFT_WINDOW / 5]);
  t.true(monitor.psi().inputs[0]! > SHIFT_ALARM_PSI, `shifted: ${monitor.psi().inputs[0]}`);
});

test('outcomes are binned by the quantiles; calibrated ones give a PSI near 0, too-narrow ones a large one', (t) => {
  t.true(Math.abs(PIT_EXPECTED.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const quantiles = [-1.645, -1.2816, -0.6745, 0, 0.6745, 1.2816, 1.645];
  const calibrated = new ShiftMonitor([]);
  const narrow = new ShiftMonitor([]);
  for (let i = 0; i < SHIFT_WINDOW; i++) {
    // Evenly spaced probabilities through the standard normal's quantiles, by bisection on the error function.
    const p = (i + 0.5) / SHIFT_WINDOW;
    let lo = -6;
    let hi = 6;
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      if (0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (mid + 0.044715 * mid ** 3))) < p) lo = mid;
      else hi = mid;
    }
    calibrated.observeOutcome(quantiles, lo);
    narrow.observeOutcome(quantiles.map((q) => q / 3), lo);
  }
  t.true(calibrated.psi().outcomes! < 0.05, `calibrated ${calibrated.psi().outcomes}`);
  t.true(narrow.psi().outcomes! > SHIFT_ALARM_PSI, `narrow ${narrow.psi().outcomes}`);
});

test('PSI of counts equal to the expected shares is 0', (t) => {
  t.is(populationStabilityIndex([10, 10, 10, 10, 10, 10, 10, 10, 10, 10], new Array(10).fill(0.1)), 0);
});
