/**
 * What every public call goes through, around its handler: refusal while draining, authentication and the
 * tenant's rate limit, the deadline budget, the mapping of errors to statuses (never INTERNAL for bad input,
 * never a crash), and the metrics (carbon_grpc_calls_total{method,code,path}, carbon_grpc_call_seconds{method}).
 */
import { status, type handleServerStreamingCall, type handleUnaryCall, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../platform/logger.ts';
import { grpcCalls, grpcSeconds } from '../platform/metrics.ts';
import type { Authenticator } from './authenticator.ts';
import { GatewayError, statusOfCode, toServiceError } from './errors.ts';
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

/** The call's context once authenticated and within its quota: a Promise only when the quota was asked for remotely. */
function begin(deps: WrapperDeps, method: string, call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>): CallContext | Promise<CallContext> {
  if (deps.draining()) throw new GatewayError('DRAINING', 'this worker is draining (shutting down): retry, another worker answers');
  const now = Date.now();
  const context = (tenant: Tenant): CallContext => ({ tenant, method, deadlineMs: deadlineMs(call, deps.defaultDeadlineMs, now), path: 'none' });
  const tenant = deps.auth.authenticate(call.metadata, method, () => call.getPeer());
  return tenant instanceof Promise ? tenant.then(context) : context(tenant);
}

function failure(deps: WrapperDeps, method: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  deps.log.error('gateway_call_failed', { method, err });
  return new GatewayError('INTERNAL', 'internal error; it is logged on the server');
}

export function unary<Req, Res>(deps: WrapperDeps, method: string, handle: (request: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  const seconds = grpcSeconds.labels(method);
  // Defined once per method, not per call: the per-call closures below are inline and unnamed.
  const fail = (started: number, ctx: CallContext | undefined, callback: sendUnaryData<Res>, err: unknown): void => {
    const e = failure(deps, method, err);
    countCall(method, statusOfCode[e.code].status, ctx?.path ?? 'none');
    seconds.observe((performance.now() - started) / 1_000);
    callback(toServiceError(e));
  };
  const succeed = (started: number, ctx: CallContext, callback: sendUnaryData<Res>, response: Res): void => {
    countCall(method, status.OK, ctx.path);
    seconds.observe((performance.now() - started) / 1_000);
    callback(null, response);
  };
  return (call, callback) => {
    const started = performance.now();
    const run = (ctx: CallContext): void => {
      handle(call.request, ctx).then(
        (response) => succeed(started, ctx, callback, response),
        (err: unknown) => fail(started, ctx, callback, err),
      );
    };
    let ctx: CallContext | Promise<CallContext>;
    try {
      ctx = begin(deps, method, call);
    } catch (err) {
      fail(started, undefined, callback, err);
      return;
    }
    if (ctx instanceof Promise) ctx.then(run, (err: unknown) => fail(started, undefined, callback, err));
    else run(ctx);
  };
}

/**
 * A server stream: `handle` runs it and resolves when it ended (client gone, deadline, drain); a GatewayError
 * thrown at any point ends it with that status.
 */
export function serverStream<Req, Res>(deps: WrapperDeps, method: string, handle: (call: ServerWritableStream<Req, Res>, ctx: CallContext) => Promise<void>): handleServerStreamingCall<Req, Res> {
  return (call) => {
    const started = performance.now();
    let ctx: CallContext | undefined;
    const fail = (err: unknown) => {
      const e = failure(deps, method, err);
      countCall(method, statusOfCode[e.code].status, ctx?.path ?? 'none');
      grpcSeconds.observe({ method }, (performance.now() - started) / 1_000);
      // grpc-js ends a server stream with a status when the error is emitted on it.
      call.emit('error', toServiceError(e));
    };
    const run = (c: CallContext): void => {
      ctx = c;
      handle(call, c).then(() => {
        countCall(method, status.OK, c.path);
        grpcSeconds.observe({ method }, (performance.now() - started) / 1_000);
        if (!call.cancelled && !call.destroyed) call.end();
      }, fail);
    };
    try {
      const c = begin(deps, method, call);
      if (c instanceof Promise) c.then(run, fail);
      else run(c);
    } catch (err) {
      fail(err);
    }
  };
}
