import test from 'ava';
import type { ActorProps, Ref } from 'nact';
import { createLogger, type Logger } from '../platform/logger.ts';
import { restartPolicy } from './restart-policy.ts';
import {
  ActorInitError,
  classifyCrash,
  createRecoveryClock,
  supervise,
  type CrashContext,
  type CrashInfo,
  type SupervisionDeps,
  type SupervisionMetrics,
} from './supervise.ts';

const tokens = {
  reset: Symbol('reset'),
  resetChild: Symbol('resetChild'),
  escalate: Symbol('escalate'),
  stop: Symbol('stop'),
};

function fakeCtx(path = 'sys://worker/p0/WTI', parent: object = { type: 'actor' }): CrashContext {
  return { path: { toString: () => path }, self: { path }, parent, ...tokens };
}

interface Recorded {
  events: string[];
  infos: CrashInfo[];
  logLines: string[];
  sleeps: number[];
  deps: Partial<SupervisionDeps>;
}

/** Deps whose every effect is recorded; the clock is advanced by hand. */
function recorded(clock = { nowMs: 0 }): Recorded {
  const events: string[] = [];
  const logLines: string[] = [];
  const sleeps: number[] = [];
  const metrics: SupervisionMetrics = {
    crashed: (level) => events.push(`crashed ${level}`),
    restarted: (level, reason) => events.push(`restarted ${level} ${reason}`),
    escalated: (level) => events.push(`escalated ${level}`),
    recovered: (seconds) => events.push(`recovered ${seconds}`),
    spawned: (kind) => events.push(`spawned ${kind}`),
    stopped: (kind) => events.push(`stopped ${kind}`),
  };
  return {
    events,
    infos: [],
    logLines,
    sleeps,
    deps: {
      nowMs: () => clock.nowMs,
      random: () => 0.5,
      sleep: async (ms) => { sleeps.push(ms); },
      logger: createLogger({}, (line) => logLines.push(line)),
      metrics,
      isLive: () => true,
    },
  };
}

const quick = restartPolicy({ intensity: 2, periodMs: 1_000, backoff: { minMs: 10, maxMs: 100, jitter: 0 } });

const pending = Symbol('pending');
/** A decision that has not settled yet: an already-settled value wins the race when listed first. */
async function settledOrPending(decision: unknown): Promise<unknown> {
  return Promise.race([decision, Promise.resolve(pending)]);
}

test('an isolated crash is restarted at once: reset returned synchronously, crash and restart counted', (t) => {
  const r = recorded();
  const onCrash = supervise(quick, { level: 'commodity', deps: r.deps, onCrashed: (info) => r.infos.push(info) });
  const decision = onCrash({ type: 'tick' }, new TypeError('bad'), fakeCtx());
  t.is(decision, tokens.reset);
  t.deepEqual(r.events, ['crashed commodity', 'restarted commodity TypeError']);
  t.deepEqual(r.sleeps, []);
  t.like(r.infos[0], {
    level: 'commodity', path: 'sys://worker/p0/WTI', childPath: undefined, phase: 'message', reason: 'TypeError',
    decision: 'reset', delayMs: 0, restartsInPeriod: 1, msg: { type: 'tick' },
  });
  t.like(JSON.parse(r.logLines[0] ?? '{}'), {
    level: 'warn', event: 'actor_crashed', supervisionLevel: 'commodity', msgType: 'tick', decision: 'reset',
  });
});

test('a repeated crash waits the backoff before reset', async (t) => {
  const clock = { nowMs: 0 };
  const r = recorded(clock);
  const onCrash = supervise(quick, { level: 'commodity', deps: r.deps });
  t.is(onCrash({}, new Error('1'), fakeCtx()), tokens.reset);
  clock.nowMs = 5;
  const second = onCrash({}, new Error('2'), fakeCtx());
  t.true(second instanceof Promise);
  t.is(await second, tokens.reset);
  t.deepEqual(r.sleeps, [10]);
});

test('past the intensity it escalates, counts it, and forgets the history', async (t) => {
  const clock = { nowMs: 0 };
  const r = recorded(clock);
  const onCrash = supervise(quick, { level: 'commodity', deps: r.deps, onCrashed: (info) => r.infos.push(info) });
  const ctx = fakeCtx();
  t.is(await onCrash({}, new Error('1'), ctx), tokens.reset);
  t.is(await onCrash({}, new Error('2'), ctx), tokens.reset);
  t.is(await onCrash({}, new Error('3'), ctx), tokens.escalate);
  t.true(r.events.includes('escalated commodity'));
  t.like(r.infos[2], { decision: 'escalate', restartsInPeriod: 2 });
  // Whoever restarts it next (its parent) gets an actor with a clean slate.
  t.is(await onCrash({}, new Error('4'), ctx), tokens.reset);
  t.like(r.infos[3], { decision: 'reset', delayMs: 0, restartsInPeriod: 1 });
});

test('restart histories are per actor path', async (t) => {
  const r = recorded();
  const onCrash = supervise(quick, { level: 'commodity', deps: r.deps });
  t.is(await onCrash({}, new Error(), fakeCtx('sys://a')), tokens.reset);
  t.is(await onCrash({}, new Error(), fakeCtx('sys://a')), tokens.reset);
  t.is(await onCrash({}, new Error(), fakeCtx('sys://b')), tokens.reset);
  t.is(await onCrash({}, new Error(), fakeCtx('sys://a')), tokens.escalate);
});

test('a restart window that has passed is forgotten', async (t) => {
  const clock = { nowMs: 0 };
  const r = recorded(clock);
  const onCrash = supervise(quick, { level: 'commodity', deps: r.deps });
  await onCrash({}, new Error(), fakeCtx());
  await onCrash({}, new Error(), fakeCtx());
  clock.nowMs = 1_000;
  t.is(onCrash({}, new Error(), fakeCtx()), tokens.reset);
});

test("onExhausted 'stop' stops the actor instead of escalating", async (t) => {
  const r = recorded();
  const onCrash = supervise(restartPolicy({ intensity: 0, onExhausted: 'stop' }), { level: 'sink', deps: r.deps });
  t.is(await onCrash({}, new Error(), fakeCtx()), tokens.stop);
  t.deepEqual(r.events, ['crashed sink', 'escalated sink']);
});

test('at the top, exhaustion calls the process-level handler and stops the actor', async (t) => {
  const r = recorded();
  const calls: CrashInfo[] = [];
  const onCrash = supervise(restartPolicy({ intensity: 0 }), {
    level: 'root', deps: r.deps, escalateToProcess: (info) => calls.push(info),
  });
  t.is(await onCrash({}, new Error('fatal'), fakeCtx('sys://worker', { type: 'system' })), tokens.stop);
  t.is(calls.length, 1);
  t.like(calls[0], { level: 'root', decision: 'escalateToProcess', path: 'sys://worker' });
});

test("a top-level actor without a process handler is stopped, not handed to nact's console logger", async (t) => {
  const r = recorded();
  const onCrash = supervise(restartPolicy({ intensity: 0 }), { level: 'actor', deps: r.deps });
  t.is(await onCrash({}, new Error(), fakeCtx('sys://lonely', { type: 'system' })), tokens.stop);
  t.true(r.logLines.some((line) => line.includes('"actor_escalation_unhandled"')));
});

test('a child that escalated is reset with resetChild under the parent level policy', (t) => {
  const r = recorded();
  const onCrash = supervise(quick, { level: 'partition', deps: r.deps, onCrashed: (info) => r.infos.push(info) });
  const child = { path: 'sys://worker/p0/WTI' };
  t.is(onCrash({ type: 'tick' }, new Error('boom'), fakeCtx('sys://worker/p0'), child), tokens.resetChild);
  // The child's own crash was counted at its level; here only the restart the parent decided.
  t.deepEqual(r.events, ['restarted partition Error']);
  t.like(r.infos[0], { phase: 'child', path: 'sys://worker/p0', childPath: 'sys://worker/p0/WTI', decision: 'resetChild' });
});

test('a crash of the initial state is classified as phase init', (t) => {
  const r = recorded();
  const onCrash = supervise(quick, { level: 'commodity', deps: r.deps, onCrashed: (info) => r.infos.push(info) });
  onCrash(undefined, new Error('init'), fakeCtx());
  onCrash(Symbol('signal'), new ActorInitError('sys://x', new Error('init')), fakeCtx('sys://x'));
  t.is(r.infos[0]?.phase, 'init');
  t.like(r.infos[1], { phase: 'init', reason: 'ACTOR_INIT_FAILED' });
});

test('nothing is applied to an actor that was stopped during the backoff', async (t) => {
  const clock = { nowMs: 0 };
  const r = recorded(clock);
  let live = true;
  const onCrash = supervise(quick, {
    level: 'commodity', deps: { ...r.deps, isLive: () => live }, onCrashed: (info) => r.infos.push(info),
  });
  onCrash({}, new Error(), fakeCtx());
  live = false;
  const decision = onCrash({}, new Error(), fakeCtx());
  await Promise.resolve();
  t.is(await settledOrPending(decision), pending);
  t.is(r.infos[1]?.decision, 'none');
  t.is(r.events.filter((e) => e.startsWith('restarted')).length, 1);
});

test('nothing is applied to a child that is gone by the time the parent decides', async (t) => {
  const r = recorded();
  const child = { path: 'sys://worker/p0/WTI' };
  const onCrash = supervise(quick, { level: 'partition', deps: { ...r.deps, isLive: (ref) => ref !== child } });
  t.is(await settledOrPending(onCrash({}, new Error(), fakeCtx('sys://worker/p0'), child)), pending);
});

const throwingLogger: Logger = {
  debug: () => { throw new Error('log down'); },
  info: () => { throw new Error('log down'); },
  warn: () => { throw new Error('log down'); },
  error: () => { throw new Error('log down'); },
  child: () => throwingLogger,
};

const throwingMetrics: SupervisionMetrics = {
  crashed: () => { throw new Error('metrics down'); },
  restarted: () => { throw new Error('metrics down'); },
  escalated: () => { throw new Error('metrics down'); },
  recovered: () => { throw new Error('metrics down'); },
  spawned: () => { throw new Error('metrics down'); },
  stopped: () => { throw new Error('metrics down'); },
};

// Serial: it borrows process.stderr, the adapter's last resort when the logger itself throws.
test.serial('the adapter never throws when logger, metrics and hooks all throw, and still decides by the policy', async (t) => {
  const stderrWrite = process.stderr.write;
  const stderrLines: string[] = [];
  process.stderr.write = ((line: string) => { stderrLines.push(line); return true; }) as typeof process.stderr.write;
  try {
    const r = recorded();
    const onCrash = supervise(restartPolicy({ intensity: 1, backoff: { minMs: 0, maxMs: 0, jitter: 0 } }), {
      level: 'root',
      deps: { ...r.deps, logger: throwingLogger, metrics: throwingMetrics },
      onCrashed: () => { throw new Error('hook down'); },
      escalateToProcess: () => { throw new Error('exit failed'); },
    });
    const ctx = fakeCtx('sys://worker', { type: 'system' });
    t.is(await onCrash({}, new Error('1'), ctx), tokens.reset);
    t.is(await onCrash({}, new Error('2'), ctx), tokens.stop);
    // The failures were reported somewhere, even with the logger down.
    t.true(stderrLines.some((line) => line.includes('supervision_hook_failed')));
    t.true(stderrLines.some((line) => line.includes('supervision_process_escalation_failed')));
  } finally {
    process.stderr.write = stderrWrite;
  }
});

test('when deciding itself fails, the adapter escalates instead of throwing', async (t) => {
  const r = recorded();
  const onCrash = supervise(quick, { level: 'commodity', deps: { ...r.deps, random: () => { throw new Error('dice'); } } });
  onCrash({}, new Error(), fakeCtx());
  t.is(await onCrash({}, new Error(), fakeCtx()), tokens.escalate);
  t.true(r.logLines.some((line) => line.includes('supervision_decision_failed')));
});

test('a context whose path cannot be printed still gets a decision', async (t) => {
  const r = recorded();
  const onCrash = supervise(quick, { level: 'commodity', deps: r.deps });
  const ctx: CrashContext = { ...fakeCtx(), path: { toString: () => { throw new Error('no path'); } } };
  t.is(await onCrash({}, new Error(), ctx), tokens.escalate);
});

test('a backoff sleep that rejects still leads to the restart', async (t) => {
  const clock = { nowMs: 0 };
  const r = recorded(clock);
  const onCrash = supervise(quick, { level: 'commodity', deps: { ...r.deps, sleep: async () => { throw new Error('timer'); } } });
  onCrash({}, new Error(), fakeCtx());
  t.is(await onCrash({}, new Error(), fakeCtx()), tokens.reset);
  t.true(r.logLines.some((line) => line.includes('supervision_backoff_failed')));
});

test('own crashes are marked on the recovery clock; escalated children are not', (t) => {
  const r = recorded({ nowMs: 42 });
  const marks: string[] = [];
  const onCrash = supervise(quick, {
    level: 'partition', deps: r.deps,
    recovery: { crashed: (path, atMs) => marks.push(`${path}@${atMs}`), processed: () => undefined },
  });
  onCrash({}, new Error(), fakeCtx('sys://p'));
  onCrash({}, new Error(), fakeCtx('sys://p'), { path: 'sys://p/c' });
  t.deepEqual(marks, ['sys://p@42']);
});

test('the recovery clock measures from the first crash of a streak to the next processed message', (t) => {
  const clock = { nowMs: 0 };
  const observed: number[] = [];
  const recovery = createRecoveryClock(() => clock.nowMs, (seconds) => observed.push(seconds));
  t.is(recovery.processed('a'), undefined);
  recovery.crashed('a', 100);
  recovery.crashed('a', 150);
  clock.nowMs = 350;
  t.is(recovery.processed('a'), 0.25);
  t.is(recovery.processed('a'), undefined);
  t.deepEqual(observed, [0.25]);
});

class ChaosError extends Error {
  override name = 'ChaosError';
}

const classifications: Array<[string, unknown, string]> = [
  ['a string code', Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'ECONNRESET'],
  ['a Postgres SQLSTATE', Object.assign(new Error('dup'), { code: '23505' }), '23505'],
  ['a numeric code', Object.assign(new Error('x'), { code: 503 }), '503'],
  ['a chaos code', Object.assign(new Error('injected'), { code: 'chaos' }), 'chaos'],
  ['no code: the class name', new TypeError('x'), 'TypeError'],
  ['a custom class', new ChaosError('x'), 'ChaosError'],
  ['a plain Error', new Error('x'), 'Error'],
  ['a code that would blow up the label set', Object.assign(new Error('x'), { code: 'has spaces and more' }), 'Error'],
  ['a name that would blow up the label set', Object.assign(new Error('x'), { name: 'a'.repeat(100) }), 'Error'],
  ['a thrown string', 'oops', 'non_error'],
  ['a thrown undefined', undefined, 'non_error'],
];

for (const [name, err, reason] of classifications) {
  test(`classifyCrash: ${name} -> ${reason}`, (t) => {
    t.is(classifyCrash(err), reason);
  });
}

test('the adapter fits where nact expects an onCrash', (t) => {
  const props: ActorProps<number, string, Ref<unknown>> = { onCrash: supervise(quick, { level: 'commodity' }) };
  t.is(typeof props.onCrash, 'function');
});
