/**
 * Every call of the public server counted once, with the status it really ended with and whose fault that was:
 * carbon_grpc_calls_total{method, code, path, fault} and carbon_grpc_call_seconds{method}. A grpc-js server
 * interceptor, so that it sees the calls no handler of ours answers: a request larger than the limit, bytes that
 * do not decompress, a malformed grpc-timeout, a stream ended by its deadline or cancelled by its client.
 *
 * grpc-js answers some of those with statuses that blame the server (INTERNAL for a malformed grpc-timeout or
 * gzip body, UNIMPLEMENTED for a unary call without its one message): they are answered here with the catalogue's
 * code for the client's mistake instead, with the `carbon-error-code` trailer like every other error.
 */
import { ServerInterceptingCall, status, type Metadata, type ServerInterceptingCallInterface, type ServerInterceptor, type ServiceDefinition } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { grpcCalls, grpcSeconds } from '../platform/metrics.ts';
import { ERROR_CODE_TRAILER, errorTrailers, isGatewayErrorCode, statusOfCode, type Fault, type GatewayErrorCode } from './errors.ts';
import { TIGHT_BUDGET_MS, type ServingPathName } from './owner-answer.ts';

type SentStatus = Parameters<ServerInterceptingCallInterface['sendStatus']>[0];

/** What the handler side tells about a call in progress; read once the call ends. */
export interface CallRecord {
  /** The handler's context, once made: it sets the path by which the answer was obtained. */
  context: { readonly path: ServingPathName | 'none' } | undefined;
  /** Told the status the call ended with, once (the wrapper meters the tenant's calls by it). */
  onEnd: ((code: status) => void) | undefined;
}

/** The record of each call, under the request metadata object that grpc-js hands to the handler of that call. */
const records = new WeakMap<Metadata, CallRecord>();

/** The record of the call whose request metadata this is; undefined outside a server with `callAccounting`. */
export function callRecordOf(metadata: Metadata): CallRecord | undefined {
  return records.get(metadata);
}

/** A status grpc-js sends by itself, as the catalogue names it; `field` prefixes the message of INVALID_ARGUMENT. */
interface GrpcJsAnswer {
  readonly code: status;
  readonly details: RegExp;
  readonly as: GatewayErrorCode;
  readonly field?: string;
}

const grpcJsAnswers: readonly GrpcJsAnswer[] = [
  { code: status.INTERNAL, details: /^Invalid grpc-timeout value/, as: 'INVALID_ARGUMENT', field: 'grpc-timeout' },
  { code: status.INTERNAL, details: /^Failed to decompress message/, as: 'INVALID_ARGUMENT', field: 'request' },
  { code: status.INTERNAL, details: /^Error deserializing request/, as: 'INVALID_ARGUMENT', field: 'request' },
  { code: status.UNIMPLEMENTED, details: /^Received (a second|no) request message/, as: 'INVALID_ARGUMENT', field: 'request' },
  { code: status.UNIMPLEMENTED, details: /^Received message compressed with unsupported encoding/, as: 'UNSUPPORTED_ENCODING' },
  { code: status.RESOURCE_EXHAUSTED, details: /^Received message (larger than max|that decompresses to a size larger than)/, as: 'REQUEST_TOO_LARGE' },
  { code: status.DEADLINE_EXCEEDED, details: /^Deadline exceeded/, as: 'DEADLINE_EXCEEDED' },
];

/**
 * The status to send instead of `sent`, and its catalogue code: a status of ours (it carries the trailer) as it
 * is; one of grpc-js's own in the catalogue's terms; anything else as it is, without a code (a bug, the server's).
 */
export function answerOf(sent: SentStatus): { readonly answer: SentStatus; readonly code: GatewayErrorCode | undefined } {
  const ours = sent.metadata?.get(ERROR_CODE_TRAILER)[0];
  if (isGatewayErrorCode(ours)) return { answer: sent, code: ours };
  if (sent.code === status.OK) return { answer: sent, code: undefined };
  const known = grpcJsAnswers.find((a) => a.code === sent.code && a.details.test(sent.details ?? ''));
  if (known === undefined) return { answer: sent, code: undefined };
  const details = known.field === undefined ? sent.details : `${known.field}: ${sent.details}`;
  return { answer: { code: statusOfCode[known.as].status, details, metadata: errorTrailers(known.as, sent.metadata?.clone()) }, code: known.as };
}

/**
 * Whose fault a call's end was; `none` for OK. A unary call that ran out of a budget below TIGHT_BUDGET_MS at its
 * arrival ran out of the time its caller gave it.
 */
export function faultOf(code: status, catalogue: GatewayErrorCode | undefined, call: { readonly streaming: boolean; readonly budgetMs: number }): Fault | 'none' {
  if (code === status.OK) return 'none';
  // The client went away or gave up (a server stream runs until its client's deadline by design).
  if (code === status.CANCELLED) return 'client';
  if (code === status.DEADLINE_EXCEEDED) return call.streaming || call.budgetMs < TIGHT_BUDGET_MS ? 'client' : 'server';
  return catalogue === undefined ? 'server' : statusOfCode[catalogue].fault;
}

const statusNames: Record<number, string> = Object.fromEntries(Object.entries(status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]));

/** `NOT_FOUND` for 5: the code label of the call metrics. */
export function statusNameOf(code: status): string {
  return statusNames[code] ?? String(code);
}

/** Label children resolved once per label set: prom-client would otherwise hash the labels on every call. */
const counters = new Map<string, { inc(): void }>();
const timers = new Map<string, { observe(seconds: number): void }>();
function countCall(method: string, code: status, path: string, fault: string, seconds: number): void {
  const key = `${method} ${code} ${path} ${fault}`;
  let counter = counters.get(key);
  if (counter === undefined) counters.set(key, (counter = grpcCalls.labels(method, statusNameOf(code), path, fault)));
  counter.inc();
  let timer = timers.get(method);
  if (timer === undefined) timers.set(method, (timer = grpcSeconds.labels(method)));
  timer.observe(seconds);
}

/** `Predict` of `/carbon.v1.PredictionService/Predict`. */
function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1) || path;
}

function deadlineMsOf(call: ServerInterceptingCallInterface): number {
  const d = call.getDeadline();
  return d instanceof Date ? d.getTime() : d;
}

/**
 * The interceptor; it must be the server's first, so that the call it is given is grpc-js's own. A call without a
 * deadline gets `defaultDeadlineMs` from the wrapper, which is the budget judged for a DEADLINE_EXCEEDED. The
 * methods of `service` have their series at 0 from the start (answers by each path, and the server's failures),
 * so that the panels and rate() see their first calls.
 */
export function callAccounting(service: ServiceDefinition, defaultDeadlineMs: number): ServerInterceptor {
  for (const { path } of Object.values(service)) {
    const method = methodName(path);
    for (const route of ['local', 'forwarded', 'degraded'] as const) grpcCalls.inc({ method, code: 'OK', path: route, fault: 'none' }, 0);
    grpcCalls.inc({ method, code: 'INTERNAL', path: 'none', fault: 'server' }, 0);
  }
  return (method, call) => {
    const name = methodName(method.path);
    const started = performance.now();
    const arrivedMs = Date.now();
    const budgetMs = Math.min(deadlineMsOf(call) - arrivedMs, defaultDeadlineMs);
    const record: CallRecord = { context: undefined, onEnd: undefined };
    let ended = false;
    const end = (code: status, catalogue: GatewayErrorCode | undefined): void => {
      if (ended) return;
      ended = true;
      countCall(name, code, record.context?.path ?? 'none', faultOf(code, catalogue, { streaming: method.responseStream, budgetMs }), (performance.now() - started) / 1_000);
      record.onEnd?.(code);
    };
    // grpc-js ends some calls from inside this call object, through its own sendStatus (an oversized or
    // undecodable message, a malformed grpc-timeout, a deadline passing): replacing the method on the instance,
    // rather than wrapping the call, is what sees those as well as the handler's.
    const send = call.sendStatus.bind(call);
    call.sendStatus = (sent) => {
      const { answer, code } = answerOf(sent);
      end(answer.code, code);
      send(answer);
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (metadata, forward) => {
          records.set(metadata, record);
          forward(metadata);
        },
        // After a status was sent, grpc-js reports the end as a cancel too: only a call that got none was cancelled.
        onCancel: () => end(status.CANCELLED, undefined),
      }),
    });
  };
}
