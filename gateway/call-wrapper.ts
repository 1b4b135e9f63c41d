/**
 * What every public call goes through, around its handler: refusal while draining, authentication and the
 * tenant's rate limit, the deadline budget, the mapping of errors to statuses (never INTERNAL for bad input,
 * never a crash), the metrics (carbon_grpc_calls_total{method,code,path}, carbon_grpc_call_seconds{method}), and
 * the tenant's usage (calls by status, messages and bytes sent, CPU time) when a meter is given.
 *
 * A call's CPU time is the wall time of its synchronous stretches on this worker (authentication and the
 * handler's start, then the answer's encoding and writing): the event loop runs one stretch at a time, so that is
 * the CPU it spent on the call, measured with two clock reads per stretch (a CPU-time read per stretch would cost
 * more than the metering budget; on a machine with more runnable processes than cores, the stretches include time
 * the worker waited for a core). Time waiting on an actor or a peer is not the call's.
 */
import { status, type handleServerStreamingCall, type handleUnaryCall, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../platform/logger.ts';
import { grpcCalls, grpcSeconds } from '../platform/metrics.ts';
import type { UsageMeter } from '../platform/usage-meter.ts';
import type { Authenticator } from './authenticator.ts';
import { GatewayError, statusOfCode, toServiceError } from './errors.ts';
import { onSerialized } from './metered-service.ts';
import type { Budget, ServingPathName } from './owner-answer.ts';
import type { Tenant } from './tenants.ts';

export interface CallContext extends Budget {
  readonly tenant: Tenant;
  readonly method: string;
  /** Set by the handler once it knows how the answer was obtained. */
  path: ServingPathName | 'none';
}

export interface WrapperDeps {
  readonly auth: Authenticator;
  readonly defaultDeadlineMs: number;
  readonly draining: () => boolean;
  readonly log: Logger;
  /** Usage per tenant, read at the start of each call; undefined: not metered (CARBON_METERING=false, or switched off). */
  readonly meter: () => UsageMeter | undefined;
}

const statusName: Record<number, string> = Object.fromEntries(Object.entries(status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));

/** Label children resolved once per (method, code, path): prom-client would otherwise hash labels on every call. */
const counters = new Map<string, Map<number, Map<string, { inc(): void }>>>();
function countCall(method: string, code: status, path: string): void {
  let byCode = counters.get(method);
  if (byCode === undefined) counters.set(method, (byCode = new Map()));
  let byPath = byCode.get(code);
  if (byPath === undefined) byCode.set(code, (byPath = new Map()));
  let c = byPath.get(path);
  if (c === undefined) {
    c = grpcCalls.labels(method, statusName[code] ?? String(code), path);
    byPath.set(path, c);
  }
  c.inc();
}

function deadlineMs(call: { getDeadline(): Date | number }, defaultMs: number, nowMs: number): number {
  const d = call.getDeadline();
  const given = d instanceof Date ? d.getTime() : d;
  return Math.min(given, nowMs + defaultMs);
}

/** One call's account: whose it is once known, and the CPU time and bytes it has used so far. */
interface Account {
  readonly meter: UsageMeter | undefined;
  tenant: Tenant | undefined;
  cpuMs: number;
  bytes: number;
}

/**
 * The call's context once authenticated and within its quota: a Promise only when the quota was asked for
 * remotely. The tenant goes into the account as soon as it is known, so that a refused call is its tenant's too.
 */
function begin(deps: WrapperDeps, method: string, call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>, account: Account): CallContext | Promise<CallContext> {
  if (deps.draining()) throw new GatewayError('DRAINING', 'this worker is draining (shutting down): retry, another worker answers');
  const now = Date.now();
  const tenant = deps.auth.identify(call.metadata, method, () => call.getPeer());
  account.tenant = tenant;
  const context = (): CallContext => ({ tenant, method, deadlineMs: deadlineMs(call, deps.defaultDeadlineMs, now), path: 'none' });
  const admitted = deps.auth.admit(tenant);
  return admitted instanceof Promise ? admitted.then(context) : context();
}

function failure(deps: WrapperDeps, method: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  deps.log.error('gateway_call_failed', { method, err });
  return new GatewayError('INTERNAL', 'internal error; it is logged on the server');
}

/** Counts a finished call in the tenant's usage; calls refused before their tenant was known are no tenant's. */
function meterCall(deps: WrapperDeps, method: string, code: status, account: Account): void {
  if (account.meter === undefined || account.tenant === undefined) return;
  account.meter.call(account.tenant.name, method, statusName[code] ?? String(code), account.bytes, Math.round(account.cpuMs * 1_000));
}

export function unary<Req, Res>(deps: WrapperDeps, method: string, handle: (request: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  const seconds = grpcSeconds.labels(method);
  // Defined once per method, not per call: the per-call closures below are inline and unnamed.
  const finish = (started: number, code: status, path: string, account: Account, send: () => void): void => {
    countCall(method, code, path);
    seconds.observe((performance.now() - started) / 1_000);
    const t = performance.now();
    send();
    account.cpuMs += performance.now() - t;
    meterCall(deps, method, code, account);
  };
  const fail = (started: number, ctx: CallContext | undefined, callback: sendUnaryData<Res>, account: Account, err: unknown): void => {
    const e = failure(deps, method, err);
    finish(started, statusOfCode[e.code].status, ctx?.path ?? 'none', account, () => callback(toServiceError(e)));
  };
  const succeed = (started: number, ctx: CallContext, callback: sendUnaryData<Res>, account: Account, response: Res): void => {
    // grpc-js encodes the answer inside the callback: its size is credited to the account then.
    if (account.meter !== undefined) onSerialized(response as object, (bytes) => (account.bytes += bytes));
    finish(started, status.OK, ctx.path, account, () => callback(null, response));
  };
  return (call, callback) => {
    const started = performance.now();
    const account: Account = { meter: deps.meter(), tenant: undefined, cpuMs: 0, bytes: 0 };
    const run = (ctx: CallContext): void => {
      const t = performance.now();
      handle(call.request, ctx).then(
        (response) => succeed(started, ctx, callback, account, response),
        (err: unknown) => fail(started, ctx, callback, account, err),
      );
      account.cpuMs += performance.now() - t;
    };
    let ctx: CallContext | Promise<CallContext>;
    try {
      ctx = begin(deps, method, call, account);
    } catch (err) {
      account.cpuMs += performance.now() - started;
      fail(started, undefined, callback, account, err);
      return;
    }
    account.cpuMs += performance.now() - started;
    if (ctx instanceof Promise) ctx.then(run, (err: unknown) => fail(started, undefined, callback, account, err));
    else run(ctx);
  };
}

/**
 * A server stream: `handle` runs it and resolves when it ended (client gone, deadline, drain); a GatewayError
 * thrown at any point ends it with that status. Each message written counts as a streamed message of the tenant,
 * with its bytes once encoded.
 */
export function serverStream<Req, Res>(deps: WrapperDeps, method: string, handle: (call: ServerWritableStream<Req, Res>, ctx: CallContext) => Promise<void>): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const started = performance.now();
    const account: Account = { meter: deps.meter(), tenant: undefined, cpuMs: 0, bytes: 0 };
    let ctx: CallContext | undefined;
    const end = (code: status, send: () => void): void => {
      countCall(method, code, ctx?.path ?? 'none');
      grpcSeconds.observe({ method }, (performance.now() - started) / 1_000);
      const t = performance.now();
      send();
      account.cpuMs += performance.now() - t;
      meterCall(deps, method, code, account);
    };
    const fail = (err: unknown) => {
      const e = failure(deps, method, err);
      // grpc-js ends a server stream with a status when the error is emitted on it.
      end(statusOfCode[e.code].status, () => call.emit('error', toServiceError(e)));
    };
    const run = (c: CallContext): void => {
      ctx = c;
      if (account.meter !== undefined) meterWrites(call, account.meter, c.tenant.name, method, account);
      const t = performance.now();
      handle(call, c).then(() => {
        end(status.OK, () => {
          if (!call.cancelled && !call.destroyed) call.end();
        });
      }, fail);
      account.cpuMs += performance.now() - t;
    };
    try {
      const c = begin(deps, method, call, account);
      account.cpuMs += performance.now() - started;
      if (c instanceof Promise) c.then(run, fail);
      else run(c);
    } catch (err) {
      account.cpuMs += performance.now() - started;
      fail(err);
    }
  };
}

/** Each message written on `call`: a streamed message of the tenant, its bytes counted when grpc-js encodes it. */
function meterWrites<Res>(call: ServerWritableStream<unknown, Res>, meter: UsageMeter, tenant: string, method: string, account: Account): void {
  const write = call.write.bind(call) as (chunk: Res, ...rest: unknown[]) => boolean;
  (call as { write: (chunk: Res, ...rest: unknown[]) => boolean }).write = (chunk: Res, ...rest: unknown[]): boolean => {
    const t = performance.now();
    onSerialized(chunk as object, (bytes) => meter.streamMessage(tenant, method, bytes));
    const ok = write(chunk, ...rest);
    account.cpuMs += performance.now() - t;
    return ok;
  };
}
