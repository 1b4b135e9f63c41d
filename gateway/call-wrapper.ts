/**
 * What every public call goes through, around its handler: refusal while draining, authentication and the
 * tenant's rate limit, decoding the request (bytes that are not the method's message are INVALID_ARGUMENT, counted
 * like any call), the deadline budget, the mapping of errors to statuses (never INTERNAL for bad input, never a
 * crash), the routing path of the call for its metrics (counted by call-accounting.ts, with the status it really
 * ended with), and the tenant's usage (calls by status, messages and bytes sent, CPU time) when a meter is given.
 *
 * A call's CPU time is the wall time of its synchronous stretches on this worker (authentication and the
 * handler's start, then the answer's encoding and writing): the event loop runs one stretch at a time, so that is
 * the CPU it spent on the call, measured with two clock reads per stretch (a CPU-time read per stretch would cost
 * more than the metering budget; on a machine with more runnable processes than cores, the stretches include time
 * the worker waited for a core). Time waiting on an actor or a peer is not the call's.
 */
import { status, type handleServerStreamingCall, type handleUnaryCall, type MethodDefinition, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../platform/logger.ts';
import type { UsageMeter } from '../platform/usage-meter.ts';
import type { Authenticator } from './authenticator.ts';
import { callRecordOf, statusNameOf, type CallRecord } from './call-accounting.ts';
import { GatewayError, invalidArgument, toServiceError } from './errors.ts';
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

/**
 * A method as registered with the server: grpc-js hands its handler the request's bytes (see rawRequests), and
 * the wrapper decodes them with the method's own deserializer.
 */
export type RawMethod<Req, Res> = MethodDefinition<Req, Res>;

function deadlineMs(call: { getDeadline(): Date | number }, defaultMs: number, nowMs: number): number {
  const d = call.getDeadline();
  const given = d instanceof Date ? d.getTime() : d;
  return Math.min(given, nowMs + defaultMs);
}

/** The method name of `/carbon.v1.PredictionService/Predict`. */
function nameOf(definition: { readonly path: string }): string {
  return definition.path.slice(definition.path.lastIndexOf('/') + 1);
}

/** The request message in `bytes`, or INVALID_ARGUMENT saying why it is not one. */
function decodeRequest<Req>(definition: Pick<RawMethod<Req, unknown>, 'path' | 'requestDeserialize'>, bytes: Buffer): Req {
  try {
    return definition.requestDeserialize(bytes);
  } catch (err) {
    throw invalidArgument('request', `${bytes.length} bytes that are not a ${nameOf(definition)} request message (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * One call's account: whose it is once known, the CPU time and bytes it has used so far, the status it ended with
 * (from call accounting) and whether the wrapper is done with it; the tenant is metered once both are known.
 */
interface Account {
  readonly meter: UsageMeter | undefined;
  readonly method: string;
  tenant: Tenant | undefined;
  cpuMs: number;
  bytes: number;
  code: status | undefined;
  done: boolean;
}

function openAccount(deps: WrapperDeps, method: string, record: CallRecord | undefined): Account {
  const account: Account = { meter: deps.meter(), method, tenant: undefined, cpuMs: 0, bytes: 0, code: undefined, done: false };
  if (record !== undefined) {
    record.onEnd = (code) => {
      account.code = code;
      meterCall(account);
    };
  }
  return account;
}

/** The wrapper is done with the call (its answer is sent, or the call was over before). */
function closeAccount(account: Account): void {
  account.done = true;
  meterCall(account);
}

/** Counts a finished call in the tenant's usage; calls refused before their tenant was known are no tenant's. */
function meterCall(account: Account): void {
  if (!account.done || account.code === undefined || account.meter === undefined || account.tenant === undefined) return;
  account.meter.call(account.tenant.name, account.method, statusNameOf(account.code), account.bytes, Math.round(account.cpuMs * 1_000));
}

/**
 * The call's record in call accounting, and its context once authenticated and within its quota: a Promise only
 * when the quota was asked for remotely. The tenant goes into the account as soon as it is known, so that a
 * refused call is its tenant's too.
 */
function begin(deps: WrapperDeps, method: string, call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>, record: CallRecord | undefined, account: Account): CallContext | Promise<CallContext> {
  // Every server these wrappers serve on counts its calls (server.ts); a call it does not know of is a wiring bug.
  if (record === undefined) throw new Error(`${method}: the server has no call accounting interceptor`);
  if (deps.draining()) throw new GatewayError('DRAINING', 'this worker is draining (shutting down): retry, another worker answers');
  const now = Date.now();
  const tenant = deps.auth.identify(call.metadata, method, () => call.getPeer());
  account.tenant = tenant;
  const context = (): CallContext => {
    const ctx: CallContext = { tenant, method, deadlineMs: deadlineMs(call, deps.defaultDeadlineMs, now), path: 'none' };
    // Call accounting reads the path the handler sets on its context when the call ends.
    record.context = ctx;
    return ctx;
  };
  const admitted = deps.auth.admit(tenant);
  return admitted instanceof Promise ? admitted.then(context) : context();
}

function failure(deps: WrapperDeps, method: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  deps.log.error('gateway_call_failed', { method, err });
  return new GatewayError('INTERNAL', 'internal error; it is logged on the server');
}

export function unary<Req, Res>(deps: WrapperDeps, definition: RawMethod<Req, Res>, handle: (request: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Buffer, Res> {
  const method = nameOf(definition);
  // Defined once per method, not per call: the per-call closures below are inline and unnamed.
  const finish = (account: Account, send: () => void): void => {
    const t = performance.now();
    send();
    account.cpuMs += performance.now() - t;
    closeAccount(account);
  };
  const fail = (callback: sendUnaryData<Res>, account: Account, err: unknown): void => {
    const e = failure(deps, method, err);
    finish(account, () => callback(toServiceError(e)));
  };
  const succeed = (callback: sendUnaryData<Res>, account: Account, response: Res): void => {
    // grpc-js encodes the answer inside the callback: its size is credited to the account then.
    if (account.meter !== undefined) onSerialized(response as object, (bytes) => (account.bytes += bytes));
    finish(account, () => callback(null, response));
  };
  return (call, callback) => {
    const started = performance.now();
    const record = callRecordOf(call.metadata);
    const account = openAccount(deps, method, record);
    const run = (ctx: CallContext): void => {
      const t = performance.now();
      let request: Req;
      try {
        request = decodeRequest(definition, call.request);
      } catch (err) {
        account.cpuMs += performance.now() - t;
        fail(callback, account, err);
        return;
      }
      handle(request, ctx).then(
        (response) => succeed(callback, account, response),
        (err: unknown) => fail(callback, account, err),
      );
      account.cpuMs += performance.now() - t;
    };
    let ctx: CallContext | Promise<CallContext>;
    try {
      ctx = begin(deps, method, call, record, account);
    } catch (err) {
      account.cpuMs += performance.now() - started;
      fail(callback, account, err);
      return;
    }
    account.cpuMs += performance.now() - started;
    if (ctx instanceof Promise) ctx.then(run, (err: unknown) => fail(callback, account, err));
    else run(ctx);
  };
}

/**
 * A server stream: `handle` runs it and resolves when it ended (client gone, deadline, drain); a GatewayError
 * thrown at any point ends it with that status. Each message written counts as a streamed message of the tenant,
 * with its bytes once encoded. A stream that its client cancelled, or whose deadline passed, ended with that
 * status already (grpc-js sent it): the end is not answered again.
 */
export function serverStream<Req, Res>(deps: WrapperDeps, definition: RawMethod<Req, Res>, handle: (call: ServerWritableStream<Buffer, Res>, request: Req, ctx: CallContext) => Promise<void>): handleServerStreamingCall<Buffer, Res> {
  const method = nameOf(definition);
  return (call) => {
    const started = performance.now();
    const record = callRecordOf(call.metadata);
    const account = openAccount(deps, method, record);
    const end = (send: () => void): void => {
      const t = performance.now();
      if (!call.cancelled && !call.destroyed) send();
      account.cpuMs += performance.now() - t;
      closeAccount(account);
    };
    // grpc-js ends a server stream with a status when the error is emitted on it.
    const fail = (err: unknown) => {
      const e = failure(deps, method, err);
      end(() => call.emit('error', toServiceError(e)));
    };
    const run = (c: CallContext): void => {
      const t = performance.now();
      let request: Req;
      try {
        request = decodeRequest(definition, call.request);
      } catch (err) {
        account.cpuMs += performance.now() - t;
        fail(err);
        return;
      }
      if (account.meter !== undefined) meterWrites(call, account.meter, c.tenant.name, method, account);
      handle(call, request, c).then(() => end(() => call.end()), fail);
      account.cpuMs += performance.now() - t;
    };
    try {
      const c = begin(deps, method, call, record, account);
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
