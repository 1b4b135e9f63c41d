/**
 * A thin typed layer over nact 7.6.2: branded refs that carry their message type, spawning under a restart
 * policy, dispatch that says whether anyone was there, and queries that always time out with a typed error.
 *
 * It also covers for three nact behaviours (measured, see docs/supervision.md):
 * - a throwing initialStateFunc under `reset` spins on microtasks and hangs the process, and the messages that
 *   slip through meanwhile run on the *previous* state: here initialState never throws into nact; a failure
 *   becomes a crash (ActorInitError) on the actor's next turn, so the restart policy bounds it;
 * - `reset` of an actor that did not itself crash (a parent's resetChild after an escalation passed through it)
 *   resumes its mailbox even if a message is still in flight: here messages of one actor never overlap, and a
 *   result computed by the previous incarnation never overwrites the fresh state;
 * - `reset` drops the failing message and nact can only append to a mailbox: `replayAfterRestart` puts messages
 *   back at the *front* of the mailbox, so a retried tick keeps its order.
 */
import { performance } from 'node:perf_hooks';
import { Nobody, dispatch, query, spawn, start as startNact, stop } from 'nact';
import type { Ref } from 'nact';
import type { AnyRef, TypedRef } from '../actors/typed-ref.ts';
import { defaultRestartPolicy, type RestartPolicy } from './restart-policy.ts';
import {
  ActorInitError,
  createRecoveryClock,
  findLiveActor,
  findNactTarget,
  resolveDeps,
  supervise,
  type CrashInfo,
  type SupervisionDeps,
  type SupervisionLevel,
} from './supervise.ts';

declare const systemBrand: unique symbol;

/** The actor system, root of the tree. */
export type SystemRef = Ref<never> & { readonly [systemBrand]: true };
export type ParentRef = SystemRef | AnyRef;

/** What a handler may know about the actor it runs in. */
export interface TypedContext<Msg> {
  readonly self: TypedRef<Msg>;
  /** nact path, e.g. `system-id://worker/partition-3/WTI`. */
  readonly path: string;
  readonly name: string;
}

/** The message a crash dropped (nact's reset discards it), offered to `replayAfterRestart`. */
export interface DroppedMessage<Msg> {
  readonly msg: Msg;
  readonly err: unknown;
}

export interface SpawnOptions<State, Msg> {
  /** Unique among the parent's children; nact allows letters, digits and `-$_.+!*'(),`. */
  name: string;
  /** Builds a fresh state: at spawn and at every restart. Synchronous (nact stores a Promise as the state). */
  initialState: () => State;
  /** One message; returns the next state. Messages of one actor never run concurrently. */
  handle: (state: State, msg: Msg, ctx: TypedContext<Msg>) => State | Promise<State>;
  /** Defaults to defaultRestartPolicy. */
  policy?: RestartPolicy;
  /** Metric label and log field; defaults to 'actor'. */
  level?: SupervisionLevel;
  /**
   * Told how long each message's handling ran, in microseconds: its synchronous part, which is the CPU the actor
   * spent on it (an async handler's waits are not). For usage metering.
   */
  onBusy?: (us: number) => void;
  /**
   * Told about each crash of this actor, and of each child escalating to it (then `info.msg` is the child's).
   * Called before nact applies the decision. Its errors are logged, not thrown.
   */
  onCrashed?: (info: CrashInfo) => void;
  /**
   * Called at each restart (not at spawn) with the last message a crash dropped, if any; the messages it returns
   * are handled first, in order, before the rest of the mailbox (e.g. the dropped tick again, unless it has crashed
   * too often). If it throws, the restart counts as failed (ActorInitError) and it is asked again next time.
   */
  replayAfterRestart?: (dropped: DroppedMessage<Msg> | undefined) => readonly Msg[];
  /** See SuperviseOptions.escalateToProcess: for the worker root. */
  escalateToProcess?: (info: CrashInfo) => void;
  deps?: Partial<SupervisionDeps>;
}

/** A query got no reply in time; the actor may be slow, or may have crashed on the query (nact drops it). */
export class ActorQueryTimeoutError extends Error {
  readonly code = 'ACTOR_QUERY_TIMEOUT';
  readonly retriable = true;
  constructor(readonly path: string, readonly timeoutMs: number) {
    super(`query to ${path} got no reply within ${timeoutMs} ms`);
    this.name = 'ActorQueryTimeoutError';
  }
}

/** The actor was stopped, or never existed. */
export class ActorNotFoundError extends Error {
  readonly code = 'ACTOR_NOT_FOUND';
  readonly retriable = false;
  constructor(readonly path: string) {
    super(`no running actor at ${path}`);
    this.name = 'ActorNotFoundError';
  }
}

/** Starts an actor system. nact 7.6.2 ignores a plain string name (its typings accept one); it needs `{ name }`. */
export function start(options: { name?: string } = {}): SystemRef {
  const startWith = startNact as unknown as (options: { name?: string }) => Ref<never>;
  return startWith(options) as SystemRef;
}

/** Stops the system and every actor in it. */
export function stopSystem(system: SystemRef): void {
  stop(system);
}

/** Stops an actor and its children. Messages dispatched to it afterwards are dropped (dispatchTo returns false). */
export function stopActor(ref: AnyRef): void {
  stop(ref);
}

/**
 * Sends `msg`; returns false when nothing runs at `ref` (stopped, never existed, or a query that already timed
 * out), where nact's own dispatch drops the message without a word.
 */
export function dispatchTo<Msg>(ref: TypedRef<Msg>, msg: NoInfer<Msg>): boolean {
  // The same lookup nact's dispatch does (lib/functions.js), kept so that the caller learns the outcome.
  const target = findNactTarget(ref) as { dispatch?: (msg: unknown) => void } | undefined;
  if (typeof target?.dispatch !== 'function') return false;
  target.dispatch(msg);
  return true;
}

function pathOfRef(ref: object): string {
  return String((ref as { path?: unknown }).path);
}

/**
 * The running child of `parent` named `name`, or undefined (none, stopped, or `parent` itself stopped). The
 * caller names the message type the child was spawned with.
 */
export function liveChild<ChildMsg>(parent: AnyRef, name: string): TypedRef<ChildMsg> | undefined {
  const child = findLiveActor(parent)?.childReferences.get(name);
  return child !== undefined && findLiveActor(child) !== undefined ? (child as TypedRef<ChildMsg>) : undefined;
}

/**
 * Asks `ref` and waits at most `timeoutMs` for the reply sent to `replyTo`. Rejects with ActorQueryTimeoutError,
 * or ActorNotFoundError when nothing runs at `ref`.
 */
export async function queryWithTimeout<Msg, Reply>(
  ref: TypedRef<Msg>,
  makeMsg: (replyTo: TypedRef<Reply>) => NoInfer<Msg>,
  timeoutMs: number,
): Promise<Reply> {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`queryWithTimeout: timeoutMs must be a positive number of milliseconds (got ${timeoutMs})`);
  }
  if (findLiveActor(ref) === undefined) throw new ActorNotFoundError(pathOfRef(ref));
  try {
    // nact truncates the timeout to an integer; a fraction below 1 would time out at once.
    const reply: unknown = await query(ref, (replyTo: Ref<Reply>) => makeMsg(replyTo as TypedRef<Reply>), Math.ceil(timeoutMs));
    return reply as Reply;
  } catch (err) {
    // nact's only signals (lib/actor.js, lib/functions.js): these two messages on plain Errors.
    if (err instanceof Error && err.message === 'Query Timeout') throw new ActorQueryTimeoutError(pathOfRef(ref), timeoutMs);
    if (err instanceof Error && err.message.startsWith('Actor stopped or never existed')) {
      throw new ActorNotFoundError(pathOfRef(ref));
    }
    throw err;
  }
}

/** Sent by an actor to itself when its initial state failed, so that the failure crashes it on its next turn. */
const initFailedSignal: unique symbol = Symbol('initFailed');

/** One life of an actor between restarts; the state is replaced in place as messages are handled. */
type Incarnation<State> = { kind: 'ready'; state: State } | { kind: 'failed'; error: ActorInitError };

interface NactContext {
  readonly path: { toString(): string };
  readonly self: object;
  readonly name: string;
}

/**
 * Spawns an actor under `parent`, supervised by `policy` at `level` (see supervise.ts), and returns its typed
 * ref. nact's state is an Incarnation that this layer owns; `handle` only ever sees `State`.
 */
export function spawnTyped<State, Msg>(parent: ParentRef, options: SpawnOptions<State, Msg>): TypedRef<Msg> {
  const level = options.level ?? 'actor';
  const deps = resolveDeps(options.deps);
  const recovery = createRecoveryClock(deps.nowMs, (seconds) => deps.metrics.recovered(seconds));

  let context: TypedContext<Msg> | undefined;
  let current: Incarnation<State> | undefined;
  let dropped: DroppedMessage<Msg> | undefined;
  let recoveryPending = false;
  /** Settles (never rejects) when the message being handled asynchronously is done. */
  let inFlight: Promise<void> | undefined;

  const contextOf = (nactCtx: NactContext): TypedContext<Msg> => {
    context ??= { self: nactCtx.self as TypedRef<Msg>, path: String(nactCtx.path), name: nactCtx.name };
    return context;
  };

  /** Puts messages at the front of this actor's mailbox; nact calls processNext right after a reset. */
  const putFirst = (self: object, messages: readonly unknown[]): void => {
    const actor = findLiveActor(self);
    if (actor === undefined) return; // stopped during the reset: nothing will be processed anyway
    for (let i = messages.length - 1; i >= 0; i -= 1) actor.mailbox.unshift({ message: messages[i], sender: new Nobody() });
  };

  const initialStateFunc = (nactCtx: NactContext): Incarnation<State> => {
    const restarted = current !== undefined;
    const { path } = contextOf(nactCtx);
    let replay: readonly Msg[] = [];
    try {
      const state = options.initialState();
      if (restarted && options.replayAfterRestart !== undefined) replay = options.replayAfterRestart(dropped);
      current = { kind: 'ready', state };
      dropped = undefined;
    } catch (cause) {
      current = { kind: 'failed', error: new ActorInitError(path, cause) };
    }
    if (current.kind === 'failed') {
      // At spawn nobody will call processNext, so send the signal; at a restart nact is about to.
      if (restarted) putFirst(nactCtx.self, [initFailedSignal]);
      else dispatch(nactCtx.self as Ref<unknown>, initFailedSignal);
    } else if (replay.length > 0) {
      putFirst(nactCtx.self, replay);
    }
    return current;
  };

  const processed = (path: string): void => {
    if (!recoveryPending) return;
    recoveryPending = false;
    recovery.processed(path);
  };

  const onBusy = options.onBusy;
  const handleOne = (msg: Msg | typeof initFailedSignal, nactCtx: NactContext): Incarnation<State> | Promise<Incarnation<State>> => {
    const incarnation = current;
    if (incarnation === undefined) throw new Error(`${String(nactCtx.path)} received a message before its initial state`);
    if (incarnation.kind === 'failed') throw incarnation.error;
    if (msg === initFailedSignal) return incarnation; // left over from an earlier incarnation whose init failed
    const ctx = contextOf(nactCtx);
    const busyFrom = onBusy === undefined ? 0 : performance.now();
    let next: State | Promise<State>;
    try {
      next = options.handle(incarnation.state, msg, ctx);
    } finally {
      onBusy?.((performance.now() - busyFrom) * 1_000);
    }
    if (!(next instanceof Promise)) {
      incarnation.state = next;
      processed(ctx.path);
      return incarnation;
    }
    const settled = next.then((state: State) => {
      // After a reset this writes into the old incarnation, which nobody reads any more.
      incarnation.state = state;
      if (incarnation === current) processed(ctx.path);
      return incarnation;
    });
    // Only orders the next message after this one; the error itself reaches nact through `settled`.
    const marker: Promise<void> = settled.then(
      () => { if (inFlight === marker) inFlight = undefined; },
      () => { if (inFlight === marker) inFlight = undefined; },
    );
    inFlight = marker;
    return settled;
  };

  const receive = (
    _nactState: unknown,
    msg: Msg | typeof initFailedSignal,
    nactCtx: NactContext,
  ): Incarnation<State> | Promise<Incarnation<State>> => {
    if (inFlight !== undefined) return inFlight.then(() => receive(_nactState, msg, nactCtx));
    return handleOne(msg, nactCtx);
  };

  const onCrash = supervise(options.policy ?? defaultRestartPolicy, {
    level,
    ...(options.escalateToProcess === undefined ? {} : { escalateToProcess: options.escalateToProcess }),
    deps,
    onCrashed: (info) => {
      const own = info.phase !== 'child';
      if (own) {
        recovery.crashed(info.path, info.crashedAtMs);
        recoveryPending = true;
        if (info.msg !== initFailedSignal && info.msg !== undefined) dropped = { msg: info.msg as Msg, err: info.err };
      }
      const { onCrashed } = options;
      if (onCrashed === undefined) return;
      onCrashed(own && info.msg === initFailedSignal ? { ...info, msg: undefined } : info);
    },
  });

  /** Gauge bookkeeping must not break spawning or stopping (afterStop runs in a bare setImmediate in nact). */
  const countActor = (change: 'spawned' | 'stopped', path: string): void => {
    try {
      deps.metrics[change](level);
    } catch (failure) {
      try {
        deps.logger.error('actor_metrics_failed', { supervisionLevel: level, path, change, err: failure });
      } catch {
        // Neither metrics nor logs work; a lost gauge update must not take the process down.
      }
    }
  };

  let stopCounted = false;
  const nactSpawn = spawn as unknown as (
    parent: ParentRef,
    f: typeof receive,
    name: string,
    properties: {
      initialStateFunc: typeof initialStateFunc;
      onCrash: typeof onCrash;
      afterStop: () => void;
    },
  ) => TypedRef<Msg>;
  const ref = nactSpawn(parent, receive, options.name, {
    initialStateFunc,
    onCrash,
    afterStop: () => {
      // nact runs afterStop again if stop is applied to a stopped actor; count the actor once.
      if (stopCounted) return;
      stopCounted = true;
      countActor('stopped', pathOfRef(ref));
    },
  });
  countActor('spawned', pathOfRef(ref));
  return ref;
}
