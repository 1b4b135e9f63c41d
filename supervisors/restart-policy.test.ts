import test from 'ava';
import {
  InvalidRestartPolicyError,
  defaultRestartPolicy,
  recordRestart,
  restartPolicy,
  validatePolicy,
  type RestartPolicy,
  type RestartVerdict,
} from './restart-policy.ts';

const noJitter: RestartPolicy = {
  intensity: 3,
  periodMs: 1_000,
  backoff: { minMs: 10, maxMs: 50, jitter: 0 },
  onExhausted: 'escalate',
};
const withJitter: RestartPolicy = { ...noJitter, backoff: { minMs: 10, maxMs: 50, jitter: 0.2 } };
const manyRestarts: RestartPolicy = { ...noJitter, intensity: 20 };
const never: RestartPolicy = { ...noJitter, intensity: 0 };

interface RestartCase {
  name: string;
  policy: RestartPolicy;
  past: number[];
  nowMs: number;
  random?: number;
  expected: RestartVerdict;
}

const restartCases: RestartCase[] = [
  { name: 'first restart is immediate', policy: noJitter, past: [], nowMs: 5_000,
    expected: { allowed: true, delayMs: 0, history: [5_000] } },
  { name: 'second restart in the window waits minMs', policy: noJitter, past: [4_900], nowMs: 5_000,
    expected: { allowed: true, delayMs: 10, history: [4_900, 5_000] } },
  { name: 'third restart doubles the delay', policy: noJitter, past: [4_800, 4_900], nowMs: 5_000,
    expected: { allowed: true, delayMs: 20, history: [4_800, 4_900, 5_000] } },
  { name: 'intensity reached: refused, history kept without now', policy: noJitter, past: [4_700, 4_800, 4_900],
    nowMs: 5_000, expected: { allowed: false, history: [4_700, 4_800, 4_900] } },
  { name: 'a restart exactly periodMs ago has left the window', policy: noJitter, past: [4_000, 4_800, 4_900],
    nowMs: 5_000, expected: { allowed: true, delayMs: 20, history: [4_800, 4_900, 5_000] } },
  { name: 'a restart 1 ms inside the window still counts', policy: noJitter, past: [4_001, 4_800, 4_900],
    nowMs: 5_000, expected: { allowed: false, history: [4_001, 4_800, 4_900] } },
  { name: 'after a quiet period the backoff starts over', policy: noJitter, past: [1_000, 1_100, 1_200],
    nowMs: 5_000, expected: { allowed: true, delayMs: 0, history: [5_000] } },
  { name: 'delay is capped at maxMs', policy: manyRestarts, past: [4_100, 4_200, 4_300, 4_400, 4_500], nowMs: 5_000,
    expected: { allowed: true, delayMs: 50, history: [4_100, 4_200, 4_300, 4_400, 4_500, 5_000] } },
  { name: 'jitter at the low end of the random source', policy: withJitter, past: [4_900], nowMs: 5_000, random: 0,
    expected: { allowed: true, delayMs: 8, history: [4_900, 5_000] } },
  { name: 'jitter at the high end of the random source', policy: withJitter, past: [4_900], nowMs: 5_000,
    random: 0.999_999, expected: { allowed: true, delayMs: 12, history: [4_900, 5_000] } },
  { name: 'jitter is applied below the cap', policy: { ...withJitter, intensity: 20 }, past: [4_700, 4_800, 4_900],
    nowMs: 5_000, random: 0.999_999, expected: { allowed: true, delayMs: 48, history: [4_700, 4_800, 4_900, 5_000] } },
  { name: 'jitter never pushes past maxMs', policy: { ...withJitter, intensity: 20 }, past: [4_600, 4_700, 4_800, 4_900],
    nowMs: 5_000, random: 0.999_999,
    expected: { allowed: true, delayMs: 50, history: [4_600, 4_700, 4_800, 4_900, 5_000] } },
  { name: 'the first restart stays immediate whatever the jitter', policy: withJitter, past: [], nowMs: 5_000,
    random: 0.999_999, expected: { allowed: true, delayMs: 0, history: [5_000] } },
  { name: 'intensity 0 never restarts', policy: never, past: [], nowMs: 5_000,
    expected: { allowed: false, history: [] } },
  { name: 'a time after now (clock skew) counts as inside the window', policy: noJitter,
    past: [5_100, 5_200, 5_300], nowMs: 5_000, expected: { allowed: false, history: [5_100, 5_200, 5_300] } },
];

for (const c of restartCases) {
  test(`recordRestart: ${c.name}`, (t) => {
    const random = (): number => c.random ?? 0.5;
    t.deepEqual(recordRestart(c.policy, c.past, c.nowMs, random), c.expected);
  });
}

test('recordRestart: a fake clock walking through a crash loop allows intensity restarts, then refuses', (t) => {
  let history: readonly number[] = [];
  const delays: number[] = [];
  let nowMs = 0;
  for (;;) {
    const verdict = recordRestart(noJitter, history, nowMs, () => 0.5);
    history = verdict.history;
    if (!verdict.allowed) break;
    delays.push(verdict.delayMs);
    nowMs += verdict.delayMs + 1;
  }
  t.deepEqual(delays, [0, 10, 20]);
  t.is(history.length, noJitter.intensity);
});

test('recordRestart: does not mutate the history it is given', (t) => {
  const past = Object.freeze([4_900]);
  recordRestart(noJitter, past, 5_000, () => 0.5);
  t.deepEqual(past, [4_900]);
});

interface InvalidCase {
  field: string;
  policy: unknown;
}

const invalidCases: InvalidCase[] = [
  { field: 'intensity', policy: { ...noJitter, intensity: -1 } },
  { field: 'intensity', policy: { ...noJitter, intensity: 2.5 } },
  { field: 'intensity', policy: { ...noJitter, intensity: Number.NaN } },
  { field: 'periodMs', policy: { ...noJitter, periodMs: 0 } },
  { field: 'periodMs', policy: { ...noJitter, periodMs: Number.POSITIVE_INFINITY } },
  { field: 'backoff', policy: { ...noJitter, backoff: undefined } },
  { field: 'backoff.minMs', policy: { ...noJitter, backoff: { minMs: -1, maxMs: 10, jitter: 0 } } },
  { field: 'backoff.maxMs', policy: { ...noJitter, backoff: { minMs: 20, maxMs: 10, jitter: 0 } } },
  { field: 'backoff.jitter', policy: { ...noJitter, backoff: { minMs: 1, maxMs: 10, jitter: 1.5 } } },
  { field: 'backoff.jitter', policy: { ...noJitter, backoff: { minMs: 1, maxMs: 10, jitter: -0.1 } } },
  { field: 'onExhausted', policy: { ...noJitter, onExhausted: 'restart' } },
];

for (const c of invalidCases) {
  test(`validatePolicy names the bad field ${c.field} (${JSON.stringify(c.policy)})`, (t) => {
    const error = t.throws(() => validatePolicy(c.policy as RestartPolicy), { instanceOf: InvalidRestartPolicyError });
    t.is(error?.field, c.field);
    t.true(error?.message.includes(c.field));
  });
}

test('validatePolicy returns a frozen copy', (t) => {
  const valid = validatePolicy(noJitter);
  t.deepEqual(valid, noJitter);
  t.true(Object.isFrozen(valid));
  t.true(Object.isFrozen(valid.backoff));
});

test('restartPolicy fills what is not overridden from the defaults', (t) => {
  const policy = restartPolicy({ intensity: 2, backoff: { maxMs: 100 } });
  t.deepEqual(policy, {
    ...defaultRestartPolicy,
    intensity: 2,
    backoff: { ...defaultRestartPolicy.backoff, maxMs: 100 },
  });
});

test('restartPolicy validates the merged result', (t) => {
  const error = t.throws(() => restartPolicy({ backoff: { maxMs: 1 } }), { instanceOf: InvalidRestartPolicyError });
  t.is(error?.field, 'backoff.maxMs');
});
