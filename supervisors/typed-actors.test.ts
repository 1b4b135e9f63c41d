import test from 'ava';
import type { TypedRef } from '../actors/typed-ref.ts';
import { createLogger } from '../platform/logger.ts';
import { eventually } from '../test/eventually.ts';
import { restartPolicy } from './restart-policy.ts';
import type { CrashInfo, SupervisionDeps, SupervisionMetrics } from './supervise.ts';
import {
  ActorNotFoundError,
  ActorQueryTimeoutError,
  dispatchTo,
  liveChild,
  queryWithTimeout,
  spawnTyped,
  start,
  stopActor,
  stopSystem,
  type SystemRef,
} from './typed-actors.ts';

/** A counter actor's protocol, as the actors built on this layer write theirs. */
type CounterMsg =
  | { type: 'add'; n: number }
  | { type: 'crash' }
  | { type: 'slow'; until: Promise<void> }
  | { type: 'get'; replyTo: TypedRef<number[]> }
  | { type: 'ignore' };

interface CounterState {
  seen: number[];
}

function handleCounter(state: CounterState, msg: CounterMsg): CounterState | Promise<CounterState> {
  switch (msg.type) {
    case 'add':
      return { seen: [...state.seen, msg.n] };
    case 'crash':
      throw Object.assign(new Error('crash requested'), { code: 'chaos' });
    case 'slow':
      return msg.until.then(() => ({ seen: [...state.seen, -1] }));
    case 'get':
      dispatchTo(msg.replyTo, state.seen);
      return state;
    case 'ignore':
      return state;
    default: {
      const unhandled: never = msg;
      throw new Error(`unhandled message ${JSON.stringify(unhandled)}`);
    }
  }
}

const immediate = restartPolicy({ intensity: 3, periodMs: 60_000, backoff: { minMs: 0, maxMs: 0, jitter: 0 } });

interface Recorder {
  events: string[];
  deps: Partial<SupervisionDeps>;
}

function quietDeps(): Recorder {
  const events: string[] = [];
  const metrics: SupervisionMetrics = {
    crashed: (level) => events.push(`crashed ${level}`),
    restarted: (level, reason) => events.push(`restarted ${level} ${reason}`),
    escalated: (level) => events.push(`escalated ${level}`),
    recovered: () => events.push('recovered'),
    spawned: (kind) => events.push(`spawned ${kind}`),
    stopped: (kind) => events.push(`stopped ${kind}`),
  };
  return { events, deps: { metrics, logger: createLogger({}, () => undefined) } };
}

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

const seenByWithin = (ref: TypedRef<CounterMsg>, timeoutMs: number): Promise<number[]> =>
  queryWithTimeout<CounterMsg, number[]>(ref, (replyTo) => ({ type: 'get', replyTo }), timeoutMs);
const seenBy = (ref: TypedRef<CounterMsg>): Promise<number[]> => seenByWithin(ref, 5_000);

test('a crashing actor restarts with a fresh state and keeps the rest of its mailbox', async (t) => {
  await withSystem(async (system) => {
    const r = quietDeps();
    let inits = 0;
    const counter = spawnTyped<CounterState, CounterMsg>(system, {
      name: 'counter', level: 'commodity', policy: immediate, deps: r.deps,
      initialState: () => { inits += 1; return { seen: [] }; },
      handle: handleCounter,
    });
    for (const msg of [{ type: 'add', n: 1 }, { type: 'add', n: 2 }, { type: 'crash' }, { type: 'add', n: 3 }, { type: 'add', n: 4 }] as const) {
      t.true(dispatchTo(counter, msg));
    }
    t.deepEqual(await seenBy(counter), [3, 4]);
    t.is(inits, 2);
    t.deepEqual(r.events.filter((e) => !e.startsWith('spawned')), ['crashed commodity', 'restarted commodity chaos', 'recovered']);
  })();
});

test('replayAfterRestart puts the dropped message back in front of the mailbox, in order', async (t) => {
  await withSystem(async (system) => {
    const r = quietDeps();
    let crashesLeft = 1;
    const offered: Array<CounterMsg | undefined> = [];
    const counter = spawnTyped<CounterState, CounterMsg>(system, {
      name: 'replaying', policy: immediate, deps: r.deps,
      initialState: () => ({ seen: [] }),
      handle: (state, msg) => {
        if (msg.type === 'add' && msg.n === 2 && crashesLeft > 0) {
          crashesLeft -= 1;
          throw new Error('transient');
        }
        return handleCounter(state, msg);
      },
      replayAfterRestart: (dropped) => {
        offered.push(dropped?.msg);
        return dropped === undefined ? [] : [{ type: 'add', n: 100 }, dropped.msg];
      },
    });
    for (const n of [1, 2, 3, 4]) dispatchTo(counter, { type: 'add', n });
    t.deepEqual(await seenBy(counter), [100, 2, 3, 4]);
    t.deepEqual(offered, [{ type: 'add', n: 2 }]);
  })();
});

test('a query that gets no reply rejects with the typed timeout error', async (t) => {
  await withSystem(async (system) => {
    const silent = spawnTyped<CounterState, CounterMsg>(system, {
      name: 'silent', deps: quietDeps().deps, initialState: () => ({ seen: [] }), handle: (state) => state,
    });
    const error = await t.throwsAsync(seenByWithin(silent, 20), { instanceOf: ActorQueryTimeoutError });
    t.is(error?.code, 'ACTOR_QUERY_TIMEOUT');
    t.is(error?.timeoutMs, 20);
    t.true(error?.path.endsWith('/silent'));
  })();
});

test('a query the actor crashes on also ends in the typed timeout error', async (t) => {
  await withSystem(async (system) => {
    const crashy = spawnTyped<CounterState, CounterMsg>(system, {
      name: 'crashy', policy: immediate, deps: quietDeps().deps, initialState: () => ({ seen: [] }),
      handle: (state, msg) => { if (msg.type === 'get') throw new Error('no'); return state; },
    });
    await t.throwsAsync(seenByWithin(crashy, 20), { instanceOf: ActorQueryTimeoutError });
  })();
});

test('a stopped actor: dispatchTo says so, queries reject with ActorNotFoundError, the gauge goes back down', async (t) => {
  await withSystem(async (system) => {
    const r = quietDeps();
    const counter = spawnTyped<CounterState, CounterMsg>(system, {
      name: 'doomed', level: 'commodity', deps: r.deps, initialState: () => ({ seen: [] }), handle: handleCounter,
    });
    t.true(dispatchTo(counter, { type: 'add', n: 1 }));
    stopActor(counter);
    t.false(dispatchTo(counter, { type: 'add', n: 2 }));
    await t.throwsAsync(seenBy(counter), { instanceOf: ActorNotFoundError });
    await eventually(() => r.events.includes('stopped commodity'), { what: 'afterStop' });
    t.deepEqual(r.events, ['spawned commodity', 'stopped commodity']);
  })();
});

test('liveChild finds a running child by name, and nothing once it or its parent stopped', async (t) => {
  await withSystem(async (system) => {
    const r = quietDeps();
    const counter = (parent: TypedRef<CounterMsg> | SystemRef, name: string) => spawnTyped<CounterState, CounterMsg>(parent, {
      name, level: 'commodity', deps: r.deps, initialState: () => ({ seen: [] }), handle: handleCounter,
    });
    const parent = counter(system, 'parent');
    const child = counter(parent, 'WTI');
    const other = counter(parent, 'BRENT');
    t.true(dispatchTo(child, { type: 'add', n: 7 }));
    const found = liveChild<CounterMsg>(parent, 'WTI');
    t.is(found, child);
    t.deepEqual(await seenBy(found as TypedRef<CounterMsg>), [7], 'a query reaches the child itself');
    t.is(liveChild<CounterMsg>(parent, 'GOLD'), undefined, 'no such child');
    t.is(liveChild<CounterMsg>(child, 'WTI'), undefined, 'children are looked up under their own parent only');
    stopActor(child);
    t.is(liveChild<CounterMsg>(parent, 'WTI'), undefined, 'a stopped child');
    t.is(liveChild<CounterMsg>(parent, 'BRENT'), other);
    stopActor(parent);
    t.is(liveChild<CounterMsg>(parent, 'BRENT'), undefined, 'a stopped parent');
  })();
});

test('queryWithTimeout refuses a timeout that is not a positive number', async (t) => {
  await withSystem(async (system) => {
    const counter = spawnTyped<CounterState, CounterMsg>(system, {
      name: 'c', deps: quietDeps().deps, initialState: () => ({ seen: [] }), handle: handleCounter,
    });
    await t.throwsAsync(seenByWithin(counter, 0), { instanceOf: RangeError });
  })();
});

test('an initial state that throws a few times: the actor recovers and loses no message', async (t) => {
  await withSystem(async (system) => {
    const r = quietDeps();
    let failuresLeft = 2;
    const counter = spawnTyped<CounterState, CounterMsg>(system, {
      name: 'late-starter', level: 'commodity', policy: immediate, deps: r.deps,
      initialState: () => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          throw new Error('store not ready');
        }
        return { seen: [] };
      },
      handle: handleCounter,
    });
    dispatchTo(counter, { type: 'add', n: 7 });
    t.deepEqual(await seenBy(counter), [7]);
    t.is(r.events.filter((e) => e === 'restarted commodity ACTOR_INIT_FAILED').length, 2);
  })();
});

test('an initial state that always throws does not hang the process: it escalates after intensity restarts', async (t) => {
  await withSystem(async (system) => {
    const r = quietDeps();
    let attempts = 0;
    const escalated: CrashInfo[] = [];
    const parent = spawnTyped<CounterState, CounterMsg>(system, {
      name: 'parent', level: 'partition', deps: r.deps,
      policy: restartPolicy({ intensity: 0 }),
      escalateToProcess: (info) => escalated.push(info),
      initialState: () => ({ seen: [] }), handle: handleCounter,
    });
    const childInfos: CrashInfo[] = [];
    spawnTyped<CounterState, CounterMsg>(parent, {
      name: 'broken', level: 'commodity', policy: immediate, deps: r.deps,
      onCrashed: (info) => childInfos.push(info),
      initialState: () => { attempts += 1; throw new Error('always'); },
      handle: handleCounter,
    });
    await eventually(() => escalated.length === 1, { what: 'escalation to the process handler' });
    t.is(attempts, 1 + immediate.intensity);
    t.like(escalated[0], { level: 'partition', phase: 'child', reason: 'ACTOR_INIT_FAILED' });
    t.true(escalated[0]?.childPath?.endsWith('/parent/broken'));
    t.deepEqual(childInfos.map((info) => info.decision), ['reset', 'reset', 'reset', 'escalate']);
    // The internal signal that turned the failure into a crash is not shown to the owner as a message.
    t.true(childInfos.every((info) => info.msg === undefined && info.phase === 'init'));
  })();
});

test('messages of one actor never overlap, even when nact resets it with a message in flight', async (t) => {
  await withSystem(async (system) => {
    const r = quietDeps();
    const rootInfos: CrashInfo[] = [];
    const root = spawnTyped<CounterState, CounterMsg>(system, {
      name: 'root', level: 'root', policy: immediate, deps: r.deps,
      onCrashed: (info) => rootInfos.push(info),
      initialState: () => ({ seen: [] }), handle: handleCounter,
    });
    let active = 0;
    let maxActive = 0;
    let middleInits = 0;
    const middle = spawnTyped<CounterState, CounterMsg>(root, {
      name: 'middle', level: 'partition', policy: restartPolicy({ intensity: 0 }), deps: r.deps,
      initialState: () => { middleInits += 1; return { seen: [] }; },
      handle: async (state, msg) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        try {
          return await handleCounter(state, msg);
        } finally {
          active -= 1;
        }
      },
    });
    const leaf = spawnTyped<CounterState, CounterMsg>(middle, {
      name: 'leaf', level: 'commodity', policy: restartPolicy({ intensity: 0 }), deps: r.deps,
      initialState: () => ({ seen: [] }), handle: handleCounter,
    });
    let release = (): void => undefined;
    const until = new Promise<void>((resolve) => { release = resolve; });
    dispatchTo(middle, { type: 'slow', until });
    dispatchTo(middle, { type: 'add', n: 1 });
    // leaf gives up at once, middle too, and root resets middle while 'slow' is still running in it.
    dispatchTo(leaf, { type: 'crash' });
    await eventually(() => middleInits === 2, { what: 'root resets middle' });
    t.like(rootInfos[0], { decision: 'resetChild', phase: 'child' });
    // The reset scheduled the next message with setImmediate; one turn lets it start, or queue behind 'slow'.
    await new Promise<void>((resolve) => { setImmediate(resolve); });
    t.false(dispatchTo(leaf, { type: 'add', n: 2 }), 'resetting middle stopped its children');
    release();
    // The fresh incarnation saw only 'add 1'; the old one's result from 'slow' did not overwrite it.
    t.deepEqual(await seenBy(middle), [1]);
    t.is(maxActive, 1);
  })();
});

/** Checked by the compiler (npm run typecheck), never run: what the refs' types allow and refuse. */
export function refTypesAllowAndRefuse(counter: TypedRef<CounterMsg>, addOnly: TypedRef<{ type: 'add'; n: number }>): void {
  // A ref that accepts every CounterMsg may stand where one that accepts only 'add' is expected...
  const narrowed: TypedRef<{ type: 'add'; n: number }> = counter;
  // @ts-expect-error ...but not the other way round.
  const widened: TypedRef<CounterMsg> = addOnly;
  // @ts-expect-error a message the actor does not accept
  dispatchTo(counter, { type: 'nope' });
  dispatchTo(narrowed, { type: 'add', n: 1 });
  dispatchTo(widened, { type: 'ignore' });
}
