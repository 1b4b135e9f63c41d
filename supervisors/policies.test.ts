import test from 'ava';
import {
  commodityActorPolicy,
  partitionSupervisorPolicy,
  workerProcessPolicy,
  workerRootPolicy,
} from './policies.ts';
import { poisonTries } from '../platform/config.ts';
import { recordRestart, validatePolicy, type RestartPolicy } from './restart-policy.ts';

const levels: Array<[string, RestartPolicy]> = [
  ['commodity actor', commodityActorPolicy],
  ['partition supervisor', partitionSupervisorPolicy],
  ['worker root', workerRootPolicy],
  ['worker process', workerProcessPolicy],
];

/** Delays of the restarts a policy allows in a burst of crashes 1 ms apart, for a fixed random draw. */
function burstDelays(policy: RestartPolicy, random: number): number[] {
  let history: readonly number[] = [];
  const delays: number[] = [];
  for (let nowMs = 0; ; nowMs += 1) {
    const verdict = recordRestart(policy, history, nowMs, () => random);
    if (!verdict.allowed) return delays;
    delays.push(verdict.delayMs);
    history = verdict.history;
  }
}

for (const [name, policy] of levels) {
  test(`${name} policy is valid and frozen`, (t) => {
    t.deepEqual(validatePolicy(policy), policy);
    t.true(Object.isFrozen(policy));
  });

  test(`${name} policy restarts an isolated crash immediately`, (t) => {
    t.deepEqual(recordRestart(policy, [], 1_000, () => 0.999), { allowed: true, delayMs: 0, history: [1_000] });
  });
}

test('commodity actor policy: every restart it allows waits at most 10 ms, whatever the jitter draws', (t) => {
  for (const random of [0, 0.5, 0.999_999]) {
    const delays = burstDelays(commodityActorPolicy, random);
    t.is(delays.length, commodityActorPolicy.intensity);
    t.true(delays.every((d) => d <= 10), `delays ${delays.join(', ')} with random ${random}`);
  }
});

test('commodity actor policy: delays grow 0, 1, 2, 4, 8 ms without jitter', (t) => {
  t.deepEqual(burstDelays(commodityActorPolicy, 0.5), [0, 1, 2, 4, 8]);
});

test('each level above the commodity actor allows fewer restarts over a longer period', (t) => {
  const pairs: Array<[RestartPolicy, RestartPolicy]> = [
    [commodityActorPolicy, partitionSupervisorPolicy],
    [partitionSupervisorPolicy, workerRootPolicy],
  ];
  for (const [below, above] of pairs) {
    t.true(above.intensity <= below.intensity);
    t.true(above.periodMs >= below.periodMs);
  }
});

test('a poison message is dead-lettered before the commodity actor runs out of restarts', (t) => {
  t.true(poisonTries.default < commodityActorPolicy.intensity);
  t.true(poisonTries.max < commodityActorPolicy.intensity);
});
