/**
 * The public gRPC port fuzzed (issue 17): a seeded run of generated calls (fuzz-options.ts says how many) against
 * one running `carbon start` cluster, as raw HTTP/2 so that grpc-js's client cannot refuse to send them: every RPC,
 * with arbitrary or mutated request bytes, oversized messages, lying or repeated frames, compression flags and
 * encodings, arbitrary metadata and credentials, and arbitrary grpc-timeout values. Properties: every gRPC request
 * is answered with a documented status (never INTERNAL or UNKNOWN), every error carries its catalogue code, which
 * maps to that status; a request that is not gRPC gets HTTP 415; every call is counted in carbon_grpc_calls_total
 * with the code it got; no worker or primary crashes.
 */
import test from 'ava';
import fc from 'fast-check';
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import { isGatewayErrorCode, statusOfCode } from '../gateway/errors.ts';
import { grpcFrame } from '../gateway/grpc-wire.ts';
import { GetFeaturesRequest, ListCommoditiesRequest, ListModelsRequest, PredictRequest, StreamPredictionsRequest } from '../proto/gen/carbon/v1/prediction_service.ts';
import { startCluster, testEnvironment } from './cluster-harness.ts';
import { eventually } from './eventually.ts';
import { fuzzParameters, fuzzRuns } from './fuzz-options.ts';
import { tenantsJson, TOKENS } from './gateway-harness.ts';
import { rawCall, type RawAnswer, type RawCall } from './grpc-raw-call.ts';
import { sampleValues } from './prometheus-text.ts';

const MAX_REQUEST_BYTES = 16 * 1024;
const SERVICE = '/carbon.v1.PredictionService';
const HEALTH_CHECK = '/grpc.health.v1.Health/Check';

/** Arbitrary strings that a commodity field may get: ids, near-ids and anything. */
const commodity = fc.oneof(
  fc.constantFrom('WTI', 'BRENT', 'SYN_001', 'NO_SUCH_ONE', ''),
  fc.stringMatching(/^[A-Z][A-Z0-9_]{0,40}$/),
  fc.string({ unit: 'binary', maxLength: 60 }),
);
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const horizon = fc.option(fc.oneof(fc.constantFrom(1, 5, 20, 0, 365, 366), int32), { nil: undefined });

/** Each RPC with a generator of its request messages, well-formed as protobuf but with any field values. */
const rpcs = [
  { path: `${SERVICE}/Predict`, stream: false, message: fc.record({ commodity, horizonTicks: horizon, acceptStale: fc.boolean() }).map((r) => PredictRequest.encode(r).finish()) },
  { path: `${SERVICE}/GetFeatures`, stream: false, message: fc.record({ commodity }).map((r) => GetFeaturesRequest.encode(r).finish()) },
  { path: `${SERVICE}/StreamPredictions`, stream: true, message: fc.record({ commodities: fc.array(commodity, { maxLength: 300 }), horizonTicks: horizon }).map((r) => StreamPredictionsRequest.encode(r).finish()) },
  { path: `${SERVICE}/ListCommodities`, stream: false, message: fc.constant(ListCommoditiesRequest.encode({}).finish()) },
  { path: `${SERVICE}/ListModels`, stream: false, message: fc.record({ commodity, limit: fc.oneof(fc.constantFrom(0, 1, 1_000, 1_001, -1), int32) }).map((r) => ListModelsRequest.encode(r).finish()) },
  { path: HEALTH_CHECK, stream: false, message: fc.constant(new Uint8Array()) },
] as const;

/** A byte-level edit of an encoded message. */
type Edit = { readonly kind: 'flip'; readonly at: number; readonly byte: number } | { readonly kind: 'cut'; readonly at: number } | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array };
const mutation: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

function mutate(message: Uint8Array, edits: readonly Edit[]): Buffer {
  let b = Buffer.from(message);
  for (const e of edits) {
    const at = e.at % (b.length + 1);
    if (e.kind === 'flip') {
      if (b.length > 0) b[at % b.length] = e.byte;
    } else if (e.kind === 'cut') {
      b = b.subarray(0, at);
    } else {
      b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
    }
  }
  return b;
}

/** The message bytes of a case: a valid message, a mutated one, arbitrary bytes, or one over the size limit. */
const messageOf = (valid: fc.Arbitrary<Uint8Array>) => fc.oneof(
  { weight: 3, arbitrary: valid.map((m) => Buffer.from(m)) },
  { weight: 3, arbitrary: fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([m, edits]) => mutate(m, edits)) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 120 }).map((u) => Buffer.from(u)) },
  { weight: 1, arbitrary: fc.record({ extra: fc.integer({ min: 1, max: 3 * MAX_REQUEST_BYTES }), fill: fc.integer({ min: 0, max: 255 }) }).map(({ extra, fill }) => Buffer.alloc(MAX_REQUEST_BYTES + extra, fill)) },
);

type Framing = 'frame' | 'gzip' | 'bad-gzip' | 'unknown-encoding' | 'no-frame' | 'two-frames' | 'short-frame' | 'trailing-bytes';
const framing = fc.constantFrom<Framing>('frame', 'frame', 'frame', 'frame', 'gzip', 'bad-gzip', 'unknown-encoding', 'no-frame', 'two-frames', 'short-frame', 'trailing-bytes');

function compressedFrame(bytes: Buffer): Buffer {
  const frame = grpcFrame(bytes);
  frame[0] = 1;
  return frame;
}

function bodyOf(message: Buffer, how: Framing): { body: Buffer; headers: OutgoingHttpHeaders } {
  switch (how) {
    case 'frame': return { body: grpcFrame(message), headers: {} };
    case 'gzip': return { body: compressedFrame(gzipSync(message)), headers: { 'grpc-encoding': 'gzip' } };
    case 'bad-gzip': return { body: compressedFrame(message), headers: { 'grpc-encoding': 'gzip' } };
    case 'unknown-encoding': return { body: compressedFrame(message), headers: { 'grpc-encoding': 'br' } };
    case 'no-frame': return { body: Buffer.alloc(0), headers: {} };
    case 'two-frames': return { body: Buffer.concat([grpcFrame(message), grpcFrame(message)]), headers: {} };
    case 'short-frame': {
      const frame = grpcFrame(message);
      frame.writeUInt32BE(message.length + 7, 1);
      return { body: frame, headers: {} };
    }
    case 'trailing-bytes': return { body: Buffer.concat([grpcFrame(message), Buffer.from([0, 0, 0])]), headers: {} };
  }
}

/** Header names a case may add: anything but the protocol's own. */
const metadataKey = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,15}$/).filter((k) => !k.startsWith('grpc-') && !['content-type', 'te', 'host', 'connection', 'authorization', 'user-agent'].includes(k));
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const metadata = fc.array(fc.oneof(
  fc.tuple(metadataKey, headerValue),
  fc.tuple(metadataKey.map((k) => `${k}-bin`), fc.oneof(fc.base64String({ maxLength: 40 }), headerValue)),
), { maxLength: 4 });
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(`Bearer ${TOKENS.all}`, `Bearer ${TOKENS.wti}`, `Bearer ${TOKENS.slow}`, 'Bearer ', 'Basic dXNlcjpwdw==', `Bearer ${TOKENS.all} extra`),
  headerValue.map((v) => `Bearer ${v}`),
  headerValue,
);
/**
 * grpc-timeout: absent, well-formed, or anything. A stream runs until its deadline or its client cancels, so a
 * stream's well-formed ones are short, and its malformed ones have no space at either end (HTTP/2 drops such a
 * header, leaving a stream without a deadline: the cancelled streams below cover those).
 */
const timeout = (stream: boolean) => fc.oneof(
  { weight: stream ? 0 : 2, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: stream ? 20 : 99_999_999 }), fc.constantFrom(...(stream ? ['m', 'u', 'n'] : ['H', 'M', 'S', 'm', 'u', 'n']))).map(([n, u]) => `${n}${u}`) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9A-Za-z .-]{1,12}$/).filter((v) => !/\d{1,8}\s*[HMSmun]/.test(v) && (!stream || v.trim() === v)) },
);
const contentType = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom('application/grpc', 'application/grpc+proto') },
  { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', 'application/grp') },
);

// One record per RPC under oneof, not a chain from the RPC: chain builds its arbitraries again for every case, ten
// times the cost of the call itself.
const fuzzCall: fc.Arbitrary<RawCall & { readonly rpc: string }> = fc.oneof(...rpcs.map((rpc) =>
  fc.record({ message: messageOf(rpc.message), framing, metadata, authorization, timeout: timeout(rpc.stream), contentType }).map((c) => {
    const { body, headers } = bodyOf(c.message, c.framing);
    const h: OutgoingHttpHeaders = { 'content-type': c.contentType, te: 'trailers', ...headers };
    if (c.timeout !== undefined) h['grpc-timeout'] = c.timeout;
    if (c.authorization !== undefined) h.authorization = c.authorization;
    for (const [k, v] of c.metadata) h[k] = v;
    return { rpc: rpc.path, path: rpc.path, headers: h, body };
  }),
));

const statusName = (code: number): string => status[code] ?? String(code);

test('garbage at every RPC is answered with a documented status, never INTERNAL, and every call is counted with its code', async (t) => {
  const runs = fuzzRuns();
  t.timeout(120_000 + runs * 40);
  const env = await testEnvironment(t, 4);
  const dir = mkdtempSync(join(tmpdir(), 'carbon-fuzz-grpc-'));
  const tokensFile = join(dir, 'tenants.json');
  writeFileSync(tokensFile, tenantsJson());
  const cluster = await startCluster(t, env, { CARBON_TOKENS_FILE: tokensFile, CARBON_GRPC_MAX_REQUEST_BYTES: String(MAX_REQUEST_BYTES) });
  const pidsBefore = (await cluster.workerPids()).sort();
  const counted = async (): Promise<Map<string, number>> => {
    const byCode = new Map<string, number>();
    for (const code of Object.keys(status).filter((k) => Number.isNaN(Number(k)))) {
      const n = sampleValues(await cluster.metrics(), 'carbon_grpc_calls_total', { code }).reduce((a, b) => a + b, 0);
      if (n > 0) byCode.set(code, n);
    }
    return byCode;
  };
  const before = await counted();

  // A few connections, each spread by the primary to a worker; a GOAWAY or a broken session is replaced.
  const sessions: ClientHttp2Session[] = [];
  const sessionFor = (i: number): ClientHttp2Session => {
    let s = sessions[i];
    if (s === undefined || s.closed || s.destroyed) {
      s = connect(`http://${cluster.grpcAddress}`);
      s.on('error', () => undefined);
      sessions[i] = s;
    }
    return s;
  };
  t.teardown(() => {
    for (const s of sessions) s.destroy();
  });

  const received = new Map<string, number>();
  const tally = (code: string) => received.set(code, (received.get(code) ?? 0) + 1);
  const documented = new Set(Object.values(statusOfCode).map((m) => m.status));
  let n = 0;
  const verdict = (call: RawCall & { rpc: string }, a: RawAnswer): string | undefined => {
    const grpc = String(call.headers['content-type']).startsWith('application/grpc');
    if (!grpc) return a.kind === 'http' && a.httpStatus === 415 ? undefined : `not gRPC: expected HTTP 415, got ${JSON.stringify(a)}`;
    if (a.kind !== 'status') return `no gRPC status: ${JSON.stringify(a)}`;
    if (a.code === status.OK) return undefined;
    if (a.code === status.INTERNAL || a.code === status.UNKNOWN) return `${statusName(a.code)} "${a.message}"`;
    if (!documented.has(a.code)) return `undocumented status ${statusName(a.code)} "${a.message}"`;
    // The standard health service's own answer for a service it does not know (docs/api.md).
    if (call.rpc === HEALTH_CHECK && a.code === status.NOT_FOUND && a.errorCode === undefined) return undefined;
    if (!isGatewayErrorCode(a.errorCode)) return `${statusName(a.code)} "${a.message}" without a catalogue code (carbon-error-code ${a.errorCode})`;
    if (statusOfCode[a.errorCode].status !== a.code) return `${a.errorCode} sent as ${statusName(a.code)}`;
    return undefined;
  };
  await fc.assert(fc.asyncProperty(fuzzCall, async (call) => {
    const a = await rawCall(sessionFor(n++ % 3), call);
    const problem = verdict(call, a);
    if (problem !== undefined) throw new Error(`${call.rpc}: ${problem}`);
    if (a.kind === 'status') tally(statusName(a.code));
  }), fuzzParameters(runs));

  // Streams cancelled by their client before any answer: counted as CANCELLED.
  const cancels = 20;
  for (let i = 0; i < cancels; i++) {
    const a = await rawCall(sessionFor(i % 3), {
      path: `${SERVICE}/StreamPredictions`,
      headers: { 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${TOKENS.all}` },
      body: grpcFrame(StreamPredictionsRequest.encode({ commodities: ['WTI'] }).finish()),
      cancelAfterMs: 50,
    });
    t.is(a.kind, 'cancelled', JSON.stringify(a));
    tally('CANCELLED');
  }

  const expected = new Map([...received].map(([code, k]) => [code, k + (before.get(code) ?? 0)]));
  let got = new Map<string, number>();
  await eventually(async () => {
    got = await counted();
    return [...expected].every(([code, k]) => got.get(code) === k) && [...got.keys()].every((code) => expected.has(code));
  }, { what: 'every call counted with the code it got', timeoutMs: 20_000, intervalMs: 250 }).catch(() => undefined);
  t.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...expected].sort()), 'carbon_grpc_calls_total by code, against the codes the calls got');
  t.deepEqual((await cluster.workerPids()).sort(), pidsBefore, 'no worker died');
  t.is(await cluster.metric('carbon_worker_restarts_total'), 0);
  t.is(cluster.child.exitCode, null, 'the primary runs');
  t.log(`${runs} generated calls and ${cancels} cancelled streams; answers by code: ${[...received].sort().map(([c, k]) => `${c} ${k}`).join(', ')}`);
});
