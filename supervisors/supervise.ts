/**
 * The one adapter from a RestartPolicy to nact's `onCrash`. nact (7.6.2) has no restart limit and no backoff, and
 * several of its decisions crash the process when applied to an actor that is already gone; this adapter counts
 * restarts per actor path, waits the backoff, checks the target still runs, and never throws.
 *
 * How nact calls it (lib/actor.js, handleFault): `onCrash(msg, err, ctx, child)`, awaited, so a promise delays the
 * decision while the crashed actor's mailbox keeps filling. For the actor's own crash `child` is undefined and
 * `msg` is the message it failed on (undefined when its initialStateFunc threw). When a child returns `escalate`,
 * the parent's onCrash runs with the child's `msg` and `err`, the parent's own ctx, and `child` = the child's ref;
 * the child stays wedged (busy) until the parent resets or stops it.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { logger as platformLogger, type Logger } from '../platform/logger.ts';
import { actorCrashes, actorRestarts, actorsActive, escalations, recoverySeconds } from '../platform/metrics.ts';
import { recordRestart, validatePolicy, type RestartPolicy } from './restart-policy.ts';

/** Metric label of the supervision level; 'actor' is an actor that belongs to no named level. */
export type SupervisionLevel = 'commodity' | 'partition' | 'root' | 'sink' | 'gateway' | 'actor';

/** What crashed: the actor on a message, the actor while building its initial state, or a child that escalated. */
export type CrashPhase = 'message' | 'init' | 'child';

/**
 * What the adapter told nact. `reset`: the actor restarts with a fresh state and keeps the rest of its mailbox;
 * `resetChild`: the same for the child that escalated; `escalate`: the parent decides; `escalateToProcess`: the
 * process-level handler was called and the actor stopped; `stop`: stopped for good; `none`: the actor or child
 * was stopped meanwhile (by its parent, a revoke, a shutdown), so there was nothing left to restart.
 */
export type CrashDecision = 'reset' | 'resetChild' | 'escalate' | 'escalateToProcess' | 'stop' | 'none';

/** Everything known about one crash once the adapter has decided; given to `onCrashed` and logged. */
export interface CrashInfo {
  readonly level: SupervisionLevel;
  /** Path of the actor whose onCrash ran (the parent, when a child escalated). */
  readonly path: string;
  /** Path of the child that escalated; undefined for the actor's own crash. */
  readonly childPath: string | undefined;
  readonly phase: CrashPhase;
  readonly err: unknown;
  /** The message being processed when it crashed (the child's message when a child escalated). */
  readonly msg: unknown;
  /** Short, stable classification of `err` for the metric label (see classifyCrash). */
  readonly reason: string;
  readonly decision: CrashDecision;
  /** Backoff waited before the decision was applied. */
  readonly delayMs: number;
  /** Restarts of this actor (or by it, of its children) inside the policy window, this one included. */
  readonly restartsInPeriod: number;
  /** When the crash reached the adapter, on `deps.nowMs`'s clock. */
  readonly crashedAtMs: number;
}

/** The supervision metrics, behind an interface so that tests can count without the global registry. */
export interface SupervisionMetrics {
  crashed(level: SupervisionLevel): void;
  restarted(level: SupervisionLevel, reason: string): void;
  escalated(level: SupervisionLevel): void;
  recovered(seconds: number): void;
  /** An actor of this kind started (spawnTyped) or stopped: carbon_actors_active. */
  spawned(kind: SupervisionLevel): void;
  stopped(kind: SupervisionLevel): void;
}

export const platformSupervisionMetrics: SupervisionMetrics = {
  crashed: (level) => actorCrashes.inc({ level }),
  restarted: (level, reason) => actorRestarts.inc({ level, reason }),
  escalated: (level) => escalations.inc({ level }),
  recovered: (seconds) => recoverySeconds.observe(seconds),
  spawned: (kind) => actorsActive.inc({ kind }),
  stopped: (kind) => actorsActive.dec({ kind }),
};

/** The adapter's side of the world, injectable so that tests choose the clock, the dice and the failures. */
export interface SupervisionDeps {
  /** Monotonic milliseconds. */
  nowMs: () => number;
  /** Uniform in [0, 1), for the backoff jitter. */
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  logger: Logger;
  metrics: SupervisionMetrics;
  /** Whether this very actor (not a later one at the same path) still runs. */
  isLive: (ref: object) => boolean;
}

export interface SuperviseOptions {
  level: SupervisionLevel;
  /** Told about every crash once decided, before nact applies the decision. Its errors are logged, not thrown. */
  onCrashed?: (info: CrashInfo) => void;
  /**
   * For the top of the actor tree (the worker root): when its restarts are exhausted, call this instead of
   * escalating to nact's actor system (which only logs to the console and stops the actor). The worker exits the
   * process here so that the cluster primary restarts it. The actor is stopped after the call.
   */
  escalateToProcess?: (info: CrashInfo) => void;
  /** Marks own crashes on this clock, so that the owner can observe crash -> next message processed. */
  recovery?: RecoveryClock;
  deps?: Partial<SupervisionDeps>;
}

/** nact's typings declare its decision tokens with the Symbol wrapper type; at run time they are symbols. */
export type NactDecision = Symbol;

/** The part of nact's supervision context that the adapter uses; nact's SupervisionContext satisfies it. */
export interface CrashContext {
  readonly path: { toString(): string };
  readonly self: object;
  readonly parent?: object;
  readonly reset: NactDecision;
  readonly resetChild: NactDecision;
  readonly escalate: NactDecision;
  readonly stop: NactDecision;
}

/** An nact `onCrash` (assignable to ActorProps['onCrash']). */
export type CrashHandler = (
  msg: unknown,
  err: unknown,
  ctx: CrashContext,
  child?: object,
) => NactDecision | Promise<NactDecision>;

/** Thrown by the typed layer when an actor's initialState threw; `cause` is what it threw. */
export class ActorInitError extends Error {
  readonly code = 'ACTOR_INIT_FAILED';
  readonly retriable = true;
  constructor(readonly path: string, cause: unknown) {
    super(`initial state of ${path} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ActorInitError';
  }
}

const labelSafe = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * The restart reason label: the error's `code` when it has a short one (ECONNRESET, 23505, ACTOR_INIT_FAILED,
 * chaos), else its class name (Error, TypeError), else 'non_error' for thrown non-errors. Anything else would make
 * label values unbounded, so odd names fall back to 'Error'.
 */
export function classifyCrash(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if ((typeof code === 'string' || typeof code === 'number') && labelSafe.test(String(code))) return String(code);
  }
  if (err instanceof Error) return labelSafe.test(err.name) ? err.name : 'Error';
  return 'non_error';
}

// nact keeps its running systems in lib/system-map.js; its public API cannot tell whether a ref still runs.
const requireCjs = createRequire(import.meta.url);
const nactSystems = requireCjs('nact/lib/system-map.js') as { find(systemName: string, ref: unknown): unknown };

/** The fields of nact's Actor class (lib/actor.js, 7.6.2) that this layer reads or uses. */
export interface NactActorInternals {
  readonly reference: unknown;
  readonly stopped: boolean;
  readonly mailbox: { unshift(entry: { message: unknown; sender: unknown }): void };
  /** The refs of its running children, by name. */
  readonly childReferences: ReadonlyMap<string, object>;
}

/** What nact would deliver a message for `ref` to now (an actor, a pending query, a system), or undefined. */
export function findNactTarget(ref: object): unknown {
  const systemName = (ref as { system?: { name?: unknown } }).system?.name;
  return typeof systemName === 'string' ? nactSystems.find(systemName, ref) : undefined;
}

/** The running actor that `ref` was made for; undefined once it stopped (even if a new one took its path). */
export function findLiveActor(ref: object): NactActorInternals | undefined {
  const found = findNactTarget(ref);
  if (typeof found !== 'object' || found === null) return undefined;
  const actor = found as NactActorInternals;
  return actor.reference === ref && !actor.stopped ? actor : undefined;
}

let defaultDeps: SupervisionDeps = {
  nowMs: () => performance.now(),
  random: Math.random,
  sleep: (ms) => new Promise((resolve) => { setTimeout(resolve, ms); }),
  logger: platformLogger,
  metrics: platformSupervisionMetrics,
  isLive: (ref) => findLiveActor(ref) !== undefined,
};

/**
 * The metrics every actor spawned from now on reports to, unless its spawn names others: a cluster worker also
 * tells its primary, which keeps the counts of a worker that dies (supervisors/cluster/supervision-reports.ts).
 * Once, at the start of the process.
 */
export function useSupervisionMetrics(metrics: SupervisionMetrics): void {
  defaultDeps = { ...defaultDeps, metrics };
}

export function resolveDeps(overrides: Partial<SupervisionDeps> = {}): SupervisionDeps {
  return { ...defaultDeps, ...overrides };
}

/** Time from an actor's crash to the next message it processed, per actor path (carbon_recovery_seconds). */
export interface RecoveryClock {
  /** Marks a crash; in a crash streak, the first one counts. */
  crashed(path: string, atMs: number): void;
  /** Call after a message was processed; returns the recovery seconds it observed, if a crash was pending. */
  processed(path: string): number | undefined;
}

export function createRecoveryClock(
  nowMs: () => number = () => performance.now(),
  observe: (seconds: number) => void = (seconds) => recoverySeconds.observe(seconds),
): RecoveryClock {
  const crashedAtMs = new Map<string, number>();
  return {
    crashed: (path, atMs) => {
      if (!crashedAtMs.has(path)) crashedAtMs.set(path, atMs);
    },
    processed: (path) => {
      const since = crashedAtMs.get(path);
      if (since === undefined) return undefined;
      crashedAtMs.delete(path);
      const seconds = Math.max(0, nowMs() - since) / 1000;
      observe(seconds);
      return seconds;
    },
  };
}

/**
 * nact has no "do nothing" decision: every one of them acts on the actor or its parent, and on an actor that is
 * already stopped they throw inside nact (an unhandled rejection) or run its afterStop twice. A promise that never
 * settles leaves nact's handleFault waiting; both are garbage once nothing refers to them.
 */
function noDecision(): Promise<NactDecision> {
  return new Promise<NactDecision>(() => undefined);
}

function pathOf(ctx: CrashContext): string {
  try {
    return String(ctx.path);
  } catch {
    return 'unknown'; // only for the failure log line of a context whose path cannot be printed
  }
}

function refPath(ref: object): string {
  return String((ref as { path?: unknown }).path);
}

function isSystemRef(ref: object | undefined): boolean {
  return (ref as { type?: unknown } | undefined)?.type === 'system';
}

function messageType(msg: unknown): string | undefined {
  if (typeof msg !== 'object' || msg === null || !('type' in msg)) return undefined;
  const type = (msg as { type: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

/**
 * Turns a policy into an nact `onCrash` for one supervision level. Share one adapter between actors of the same
 * kind or make one per actor: restart histories are kept per actor path either way.
 *
 * - Own crash, restart allowed: counts the crash, waits the backoff, then `reset` (fresh state from
 *   initialStateFunc, failing message dropped, rest of the mailbox kept) and counts the restart.
 * - A child escalated, restart allowed: waits this level's backoff, then `resetChild` (one_for_one).
 * - Restarts exhausted: counts an escalation and forgets this path's history (whoever restarts it next starts it
 *   afresh), then `escalate` to the parent, or `escalateToProcess`, or `stop`, per the policy.
 */
export function supervise(policy: RestartPolicy, options: SuperviseOptions): CrashHandler {
  const checked = validatePolicy(policy);
  const { level } = options;
  const deps = resolveDeps(options.deps);
  const histories = new Map<string, readonly number[]>();

  /** Last resort for failures of the adapter's own helpers: stderr, and nothing if even that throws. */
  const reportFailure = (event: string, failure: unknown, path: string): void => {
    try {
      deps.logger.error(event, { supervisionLevel: level, path, err: failure });
    } catch {
      try {
        process.stderr.write(`${JSON.stringify({ level: 'error', event, supervisionLevel: level, path, err: String(failure) })}\n`);
      } catch {
        // Nowhere left to report to; the decision must still go back to nact.
      }
    }
  };

  const safely = (what: string, path: string, action: () => void): void => {
    try {
      action();
    } catch (failure) {
      reportFailure(`supervision_${what}_failed`, failure, path);
    }
  };

  const announce = (info: CrashInfo): void => {
    safely('log', info.path, () => {
      const fields = {
        supervisionLevel: level, path: info.path, childPath: info.childPath, phase: info.phase, reason: info.reason,
        decision: info.decision, delayMs: info.delayMs, restartsInPeriod: info.restartsInPeriod,
        msgType: messageType(info.msg), err: info.err,
      };
      if (info.decision === 'reset' || info.decision === 'resetChild' || info.decision === 'none') {
        deps.logger.warn('actor_crashed', fields);
      } else {
        deps.logger.error('actor_restarts_exhausted', fields);
      }
    });
    const { onCrashed } = options;
    if (onCrashed !== undefined) safely('hook', info.path, () => onCrashed(info));
  };

  const isLive = (ref: object, path: string): boolean => {
    try {
      return deps.isLive(ref);
    } catch (failure) {
      reportFailure('supervision_liveness_failed', failure, path);
      return false;
    }
  };

  /** When deciding itself failed: let the level above decide, if there is still an actor to escalate from. */
  const fallback = (ctx: CrashContext, path: string): NactDecision | Promise<NactDecision> =>
    isLive(ctx.self, path) ? ctx.escalate : noDecision();

  const restart = (ctx: CrashContext, child: object | undefined, info: CrashInfo): NactDecision | Promise<NactDecision> => {
    try {
      if (!isLive(ctx.self, info.path) || (child !== undefined && !isLive(child, info.path))) {
        announce({ ...info, decision: 'none' });
        return noDecision();
      }
      safely('metrics', info.path, () => deps.metrics.restarted(level, info.reason));
      announce(info);
      return child === undefined ? ctx.reset : ctx.resetChild;
    } catch (failure) {
      reportFailure('supervision_decision_failed', failure, info.path);
      return fallback(ctx, info.path);
    }
  };

  const giveUp = (ctx: CrashContext, info: CrashInfo): NactDecision | Promise<NactDecision> => {
    safely('metrics', info.path, () => deps.metrics.escalated(level));
    if (!isLive(ctx.self, info.path)) {
      announce({ ...info, decision: 'none' });
      return noDecision();
    }
    if (checked.onExhausted === 'stop') {
      announce({ ...info, decision: 'stop' });
      return ctx.stop;
    }
    const { escalateToProcess } = options;
    if (escalateToProcess !== undefined) {
      const decided: CrashInfo = { ...info, decision: 'escalateToProcess' };
      announce(decided);
      safely('process_escalation', info.path, () => escalateToProcess(decided));
      return ctx.stop;
    }
    if (ctx.parent === undefined || isSystemRef(ctx.parent)) {
      // nact's actor system would only console.log and stop it; say so in our own logs instead.
      safely('log', info.path, () => deps.logger.error('actor_escalation_unhandled', { supervisionLevel: level, path: info.path }));
      announce({ ...info, decision: 'stop' });
      return ctx.stop;
    }
    announce({ ...info, decision: 'escalate' });
    return ctx.escalate;
  };

  const forgetQuietActors = (nowMs: number): void => {
    for (const [path, history] of histories) {
      const last = history[history.length - 1];
      if (last === undefined || nowMs - last >= checked.periodMs) histories.delete(path);
    }
  };

  const decide = (msg: unknown, err: unknown, ctx: CrashContext, child: object | undefined) => {
    const crashedAtMs = deps.nowMs();
    const path = String(ctx.path);
    const phase: CrashPhase =
      child !== undefined ? 'child' : msg === undefined || err instanceof ActorInitError ? 'init' : 'message';
    if (child === undefined) {
      safely('metrics', path, () => deps.metrics.crashed(level));
      const { recovery } = options;
      if (recovery !== undefined) safely('recovery', path, () => recovery.crashed(path, crashedAtMs));
    }
    forgetQuietActors(crashedAtMs);
    const verdict = recordRestart(checked, histories.get(path) ?? [], crashedAtMs, deps.random);
    const info: CrashInfo = {
      level, path, childPath: child === undefined ? undefined : refPath(child), phase, err, msg,
      reason: classifyCrash(err), decision: child === undefined ? 'reset' : 'resetChild', delayMs: 0,
      restartsInPeriod: verdict.history.length, crashedAtMs,
    };
    if (!verdict.allowed) {
      histories.delete(path);
      return giveUp(ctx, info);
    }
    histories.set(path, verdict.history);
    if (verdict.delayMs === 0) return restart(ctx, child, info);
    const delayed: CrashInfo = { ...info, delayMs: verdict.delayMs };
    return deps.sleep(verdict.delayMs).then(
      () => restart(ctx, child, delayed),
      (failure: unknown) => {
        reportFailure('supervision_backoff_failed', failure, path);
        return restart(ctx, child, delayed);
      },
    );
  };

  return (msg, err, ctx, child) => {
    try {
      return decide(msg, err, ctx, child);
    } catch (failure) {
      reportFailure('supervision_decision_failed', failure, pathOf(ctx));
      return fallback(ctx, pathOf(ctx));
    }
  };
}
