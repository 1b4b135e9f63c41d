/**
 * The supervision levels wired as the worker wires them (commodity actor -> partition supervisor -> worker root
 * -> process-level handler), with stand-in actors: crashes climb the tree one level at a time, each level applies
 * its own policy, and the top hands over to the process.
 */
import test from 'ava';
import { createLogger } from '../platform/logger.ts';
import { actorCrashes, actorRestarts, actorsActive, escalations, recoverySeconds } from '../platform/metrics.ts';
import { commodityActorPolicy, partitionSupervisorPolicy } from '../supervisors/policies.ts';
import { restartPolicy, type RestartPolicy } from '../supervisors/restart-policy.ts';
import type { TypedRef } from '../actors/typed-ref.ts';
import type { CrashInfo, SupervisionDeps, SupervisionLevel, SupervisionMetrics } from '../supervisors/supervise.ts';
import {
  dispatchTo,
  queryWithTimeout,
  spawnTyped,
  start,
  stopActor,
  stopSystem,
  type ParentRef,
  type SystemRef,
} from '../supervisors/typed-actors.ts';
import { eventually } from './eventually.ts';

/** A stand-in for any actor of the tree: counts what it saw, crashes on request. */
type NodeMsg =
  | { type: 'tick'; n: number }
  | { type: 'crash' }
  | { type: 'get'; replyTo: TypedRef<number[]> };

function handleNode(seen: number[], msg: NodeMsg): number[] {
  switch (msg.type) {
    case 'tick':
      return [...seen, msg.n];
    case 'crash':
      throw Object.assign(new Error('injected'), { code: 'chaos' });
    case 'get':
      dispatchTo(msg.replyTo, seen);
      return seen;
    default: {
      const unhandled: never = msg;
      throw new Error(`unhandled ${JSON.stringify(unhandled)}`);
    }
  }
}

const seenBy = (ref: TypedRef<NodeMsg>): Promise<number[]> =>
  queryWithTimeout<NodeMsg, number[]>(ref, (replyTo) => ({ type: 'get', replyTo }), 5_000);

const givesUpAtOnce = restartPolicy({ intensity: 0 });
const zeroBackoff = { minMs: 0, maxMs: 0, jitter: 0 };

interface Tree {
  root: TypedRef<NodeMsg>;
  partition: TypedRef<NodeMsg>;
  commodity: TypedRef<NodeMsg>;
  /** onCrashed reports per level, in the order they came. */
  reports: CrashInfo[];
  processEscalations: CrashInfo[];
}

interface TreePolicies {
  commodity: RestartPolicy;
  partition: RestartPolicy;
  root: RestartPolicy;
}

function spawnTree(system: SystemRef, policies: TreePolicies, deps: Partial<SupervisionDeps>): Tree {
  const reports: CrashInfo[] = [];
  const processEscalations: CrashInfo[] = [];
  const node = (parent: ParentRef, name: string, level: SupervisionLevel, policy: RestartPolicy): TypedRef<NodeMsg> =>
    spawnTyped<number[], NodeMsg>(parent, {
      name, level, policy, deps,
      initialState: () => [],
      handle: handleNode,
      onCrashed: (info) => reports.push(info),
      ...(level === 'root' ? { escalateToProcess: (info: CrashInfo) => processEscalations.push(info) } : {}),
    });
  const root = node(system, 'worker', 'root', policies.root);
  const partition = node(root, 'partition-0', 'partition', policies.partition);
  const commodity = node(partition, 'WTI', 'commodity', policies.commodity);
  return { root, partition, commodity, reports, processEscalations };
}

function recordingMetrics(): { counts: Map<string, number>; metrics: SupervisionMetrics } {
  const counts = new Map<string, number>();
  const bump = (key: string): void => { counts.set(key, (counts.get(key) ?? 0) + 1); };
  return {
    counts,
    metrics: {
      crashed: (level) => bump(`crashed ${level}`),
      restarted: (level, reason) => bump(`restarted ${level} ${reason}`),
      escalated: (level) => bump(`escalated ${level}`),
      recovered: () => bump('recovered'),
      spawned: (kind) => bump(`spawned ${kind}`),
      stopped: (kind) => bump(`stopped ${kind}`),
    },
  };
}

const quietLogger = createLogger({}, () => undefined);

function withSystem(run: (system: SystemRef) => Promise<void>): () => Promise<void> {
  return async () => {
    const system = start();
    try {
      await run(system);
    } finally {
      stopSystem(system);
    }
  };
}

test('a commodity actor that runs out of restarts is restarted by its partition supervisor, under the named policies', async (t) => {
  await withSystem(async (system) => {
    const { metrics, counts } = recordingMetrics();
    const tree = spawnTree(
      system,
      { commodity: commodityActorPolicy, partition: partitionSupervisorPolicy, root: givesUpAtOnce },
      { metrics, logger: quietLogger },
    );
    const crashes = commodityActorPolicy.intensity + 1;
    for (let i = 0; i < crashes; i += 1) dispatchTo(tree.commodity, { type: 'crash' });
    dispatchTo(tree.commodity, { type: 'tick', n: 42 });

    // The same actor, restarted by its parent with a fresh state, still has the tick that queued behind the crashes.
    t.deepEqual(await seenBy(tree.commodity), [42]);
    const own = tree.reports.filter((info) => info.level === 'commodity');
    t.deepEqual(own.map((info) => info.decision), ['reset', 'reset', 'reset', 'reset', 'reset', 'escalate']);
    // Backoff grew only on repeated crashes, and stayed within the 10 ms the commodity policy promises.
    t.deepEqual(own.slice(0, 5).map((info) => info.delayMs > 0), [false, true, true, true, true]);
    t.true(own.every((info) => info.delayMs <= 10));
    const byParent = tree.reports.filter((info) => info.level === 'partition');
    t.is(byParent.length, 1);
    t.like(byParent[0], { phase: 'child', decision: 'resetChild', reason: 'chaos', delayMs: 0 });
    t.true(byParent[0]?.childPath?.endsWith('/worker/partition-0/WTI'));
    t.is(tree.processEscalations.length, 0);
    t.is(counts.get('crashed commodity'), crashes);
    t.is(counts.get('restarted commodity chaos'), commodityActorPolicy.intensity);
    t.is(counts.get('escalated commodity'), 1);
    t.is(counts.get('restarted partition chaos'), 1);
    t.is(counts.get('crashed partition'), undefined);
  })();
});

test('escalation climbs commodity -> partition -> root and ends in the process-level handler', async (t) => {
  await withSystem(async (system) => {
    const { metrics, counts } = recordingMetrics();
    const tree = spawnTree(
      system,
      { commodity: givesUpAtOnce, partition: givesUpAtOnce, root: givesUpAtOnce },
      { metrics, logger: quietLogger },
    );
    dispatchTo(tree.commodity, { type: 'crash' });
    await eventually(() => tree.processEscalations.length === 1, { what: 'the process-level handler' });
    t.like(tree.processEscalations[0], { level: 'root', phase: 'child', decision: 'escalateToProcess', reason: 'chaos' });
    t.true(tree.processEscalations[0]?.childPath?.endsWith('/worker/partition-0'));
    t.deepEqual(
      tree.reports.map((info) => `${info.level} ${info.phase} ${info.decision}`),
      ['commodity message escalate', 'partition child escalate', 'root child escalateToProcess'],
    );
    t.deepEqual([counts.get('escalated commodity'), counts.get('escalated partition'), counts.get('escalated root')], [1, 1, 1]);
    t.is(counts.get('crashed commodity'), 1);
    // The root stops itself (and the tree) after handing over; the worker would exit here.
    await eventually(() => !dispatchTo(tree.root, { type: 'tick', n: 1 }), { what: 'the root to stop' });
    t.false(dispatchTo(tree.commodity, { type: 'tick', n: 1 }));
  })();
});

test('the worker root restarts a partition subtree, then gives up to the process when its own limit is reached', async (t) => {
  await withSystem(async (system) => {
    const { metrics } = recordingMetrics();
    const tree = spawnTree(
      system,
      {
        commodity: givesUpAtOnce,
        partition: givesUpAtOnce,
        root: restartPolicy({ intensity: 1, periodMs: 60_000, backoff: zeroBackoff }),
      },
      { metrics, logger: quietLogger },
    );
    dispatchTo(tree.partition, { type: 'tick', n: 1 });
    t.deepEqual(await seenBy(tree.partition), [1]);
    dispatchTo(tree.commodity, { type: 'crash' });
    await eventually(() => tree.reports.some((info) => info.level === 'root'), { what: 'the root to decide' });
    t.like(tree.reports.find((info) => info.level === 'root'), { decision: 'resetChild', phase: 'child' });
    // Subtree restart: the partition supervisor starts afresh and its commodity actors are gone (respawned on demand).
    t.deepEqual(await seenBy(tree.partition), []);
    t.false(dispatchTo(tree.commodity, { type: 'tick', n: 2 }));
    t.is(tree.processEscalations.length, 0);

    const respawned = spawnTyped<number[], NodeMsg>(tree.partition, {
      name: 'WTI', level: 'commodity', policy: givesUpAtOnce, deps: { metrics, logger: quietLogger },
      initialState: () => [], handle: handleNode,
    });
    dispatchTo(respawned, { type: 'crash' });
    await eventually(() => tree.processEscalations.length === 1, { what: 'the process-level handler' });
    t.like(tree.processEscalations[0], { level: 'root', restartsInPeriod: 1 });
  })();
});

test('a throwing initial state deep in the tree is bounded by the policies and reaches the process handler', async (t) => {
  await withSystem(async (system) => {
    const { metrics } = recordingMetrics();
    const tree = spawnTree(
      system,
      {
        commodity: givesUpAtOnce,
        partition: restartPolicy({ intensity: 2, backoff: zeroBackoff }),
        root: givesUpAtOnce,
      },
      { metrics, logger: quietLogger },
    );
    let attempts = 0;
    spawnTyped<number[], NodeMsg>(tree.partition, {
      name: 'BRENT', level: 'commodity', policy: restartPolicy({ intensity: 3, backoff: zeroBackoff }),
      deps: { metrics, logger: quietLogger },
      onCrashed: (info) => tree.reports.push(info),
      initialState: () => { attempts += 1; throw new Error('cannot build state'); },
      handle: handleNode,
    });
    await eventually(() => tree.processEscalations.length === 1, { what: 'the process-level handler' });
    // Each life is 1 start + 3 own restarts; 3 lives: the spawn and 2 restarts by the partition supervisor.
    t.is(attempts, (1 + 3) * 3);
    t.like(tree.processEscalations[0], { reason: 'ACTOR_INIT_FAILED' });
  })();
});

async function counterValue(metric: { get(): Promise<{ values: Array<{ value: number; labels: object }> }> }, labels: object): Promise<number> {
  const { values } = await metric.get();
  const wanted = Object.entries(labels);
  const match = values.find((v) => wanted.every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value));
  return match?.value ?? 0;
}

async function recoveryCount(): Promise<number> {
  const { values } = await recoverySeconds.get();
  return values.find((v) => v.metricName === 'carbon_recovery_seconds_count')?.value ?? 0;
}

// Serial: it reads the process-wide prom-client registry, which the other tests in this file leave alone.
test.serial('crashes, restarts, escalations, recovery and live actors are counted in the platform metrics', async (t) => {
  await withSystem(async (system) => {
    const before = {
      crashes: await counterValue(actorCrashes, { level: 'commodity' }),
      restarts: await counterValue(actorRestarts, { level: 'commodity', reason: 'chaos' }),
      escalations: await counterValue(escalations, { level: 'commodity' }),
      active: await counterValue(actorsActive, { kind: 'commodity' }),
      recoveries: await recoveryCount(),
    };
    const commodity = spawnTyped<number[], NodeMsg>(system, {
      name: 'WTI', level: 'commodity', policy: restartPolicy({ intensity: 1, backoff: zeroBackoff }),
      deps: { logger: quietLogger }, initialState: () => [], handle: handleNode,
    });
    t.is(await counterValue(actorsActive, { kind: 'commodity' }), before.active + 1);
    dispatchTo(commodity, { type: 'crash' });
    dispatchTo(commodity, { type: 'tick', n: 1 });
    t.deepEqual(await seenBy(commodity), [1]);
    t.is(await counterValue(actorCrashes, { level: 'commodity' }), before.crashes + 1);
    t.is(await counterValue(actorRestarts, { level: 'commodity', reason: 'chaos' }), before.restarts + 1);
    t.is(await recoveryCount(), before.recoveries + 1);
    dispatchTo(commodity, { type: 'crash' });
    await eventually(async () => (await counterValue(actorsActive, { kind: 'commodity' })) === before.active, {
      what: 'the exhausted actor to stop',
    });
    t.is(await counterValue(escalations, { level: 'commodity' }), before.escalations + 1);
    t.is(await counterValue(actorCrashes, { level: 'commodity' }), before.crashes + 2);
  })();
});

test('a child stopped while its parent waits out the backoff is left alone (nact would reject on resetChild)', async (t) => {
  await withSystem(async (system) => {
    const { metrics } = recordingMetrics();
    let releaseBackoff = (): void => undefined;
    const sleeps: number[] = [];
    const reports: CrashInfo[] = [];
    const partition = spawnTyped<number[], NodeMsg>(system, {
      name: 'partition-0', level: 'partition', policy: restartPolicy({ intensity: 5, backoff: { minMs: 50, maxMs: 50, jitter: 0 } }),
      deps: {
        metrics, logger: quietLogger,
        sleep: (ms) => { sleeps.push(ms); return new Promise<void>((resolve) => { releaseBackoff = resolve; }); },
      },
      onCrashed: (info) => reports.push(info),
      initialState: () => [], handle: handleNode,
    });
    const commodity = spawnTyped<number[], NodeMsg>(partition, {
      name: 'WTI', level: 'commodity', policy: givesUpAtOnce, deps: { metrics, logger: quietLogger },
      initialState: () => [], handle: handleNode,
    });
    dispatchTo(commodity, { type: 'crash' });
    await eventually(() => reports.length === 1, { what: 'the first, immediate restart' });
    dispatchTo(commodity, { type: 'crash' });
    await eventually(() => sleeps.length === 1, { what: 'the parent to wait out its backoff' });
    stopActor(commodity);
    releaseBackoff();
    await eventually(() => reports.length === 2, { what: 'the parent to decide' });
    t.deepEqual(reports.map((info) => info.decision), ['resetChild', 'none']);
    // The partition supervisor itself is unharmed.
    dispatchTo(partition, { type: 'tick', n: 1 });
    t.deepEqual(await seenBy(partition), [1]);
  })();
});
