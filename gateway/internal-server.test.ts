/** The internal endpoint speaks gRPC: the generated grpc-js client calls it, and OwnerClients reaches it. */
import test, { type ExecutionContext } from 'ava';
import { credentials, Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { eventually } from '../test/eventually.ts';
import { GatewayInternalClient, OwnerSnapshotOutcome, OwnerSnapshotRequest, OwnerSnapshotResponse } from '../proto/gen/carbon/v1/internal.ts';
import { loadGatewayConfig } from './gateway-config.ts';
import { grpcFrame, GrpcMessageReader, grpcStatusOf, OWNER_SNAPSHOTS_PATH } from './grpc-wire.ts';
import { listenInternal, type InternalServer } from './internal-server.ts';
import { ownerRefusal, type OwnerSnapshotHandler } from './internal-service.ts';
import { OwnerClients } from './owner-client.ts';
import { peerTransport } from './transport-credentials.ts';

const env = { CARBON_GRPC_PORT: '0', CARBON_GRPC_INTERNAL_PORT_BASE: '0' };
const config = loadGatewayConfig(loadConfig(env), env);
const quiet = createLogger({}, () => undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Owns WTI and SLOW_<ms> (answered after <ms>); the answer's owner field tells the budget it came with; fails for
 * BOOM; throws for THROW.
 */
const handler: OwnerSnapshotHandler = async ({ commodity, partition }, deadlineMs) => {
  if (commodity === 'BOOM') return ownerRefusal('w', OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_FAILED, 'owner could not answer for BOOM: 100% busy');
  if (commodity === 'THROW') throw new Error('a bug');
  const owner = `budget-${Math.round((deadlineMs - Date.now()) / 100) / 10}s`;
  const slow = /^SLOW_(\d+)$/.exec(commodity);
  if (slow) await sleep(Number(slow[1]));
  const outcome = commodity === 'WTI' || slow ? OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED : OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_NOT_OWNER;
  return { outcome, modelVersion: partition, fromActor: true, owner, id: 0, failure: '', predictions: [], horizons: [] };
};

/** An internal server with the handler above, and a peer's OwnerClients; both closed when the test ends. */
async function ownerAndPeers(t: ExecutionContext): Promise<{ server: InternalServer; peers: OwnerClients; endpoint: string }> {
  const server = await listenInternal(config, undefined, 'w', handler, quiet);
  const peers = new OwnerClients(peerTransport(config, undefined));
  t.teardown(async () => {
    peers.close();
    await server.close(100);
  });
  return { server, peers, endpoint: `127.0.0.1:${server.port}` };
}

test('a grpc-js client of the generated stubs asks on one stream and gets each answer by its id, in the order they are ready', async (t) => {
  const server = await listenInternal(config, undefined, 'w', handler, quiet);
  const client = new GatewayInternalClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
  t.teardown(async () => {
    client.close();
    await server.close(100);
  });
  const call = client.ownerSnapshots(new Metadata(), { deadline: Date.now() + 10_000 });
  const answers: OwnerSnapshotResponse[] = [];
  call.on('data', (r: OwnerSnapshotResponse) => answers.push(r));
  const ended = new Promise<StatusObject>((resolve) => call.on('status', resolve));
  call.write({ commodity: 'SLOW_150', partition: 1, id: 11, budgetMs: 5_000 });
  call.write({ commodity: 'WTI', partition: 3, id: 12, budgetMs: 2_000 });
  call.write({ commodity: 'BRENT', partition: 4, id: 13, budgetMs: 0 });
  call.write({ commodity: 'BOOM', partition: 5, id: 14, budgetMs: 1_000 });
  call.write({ commodity: 'THROW', partition: 6, id: 15, budgetMs: 1_000 });
  call.end();
  t.is((await ended).code, status.OK, 'the owner ends the stream once every question is answered');
  t.deepEqual(answers.map((a) => a.id), [12, 13, 14, 15, 11], 'the slow one last');
  const byId = new Map(answers.map((a) => [a.id, a]));
  t.like(byId.get(12), { outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED, modelVersion: 3, owner: 'budget-2s' });
  t.like(byId.get(13), { outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_NOT_OWNER, owner: 'budget-1s' }, 'no budget: the default');
  t.like(byId.get(14), { outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_FAILED, failure: 'owner could not answer for BOOM: 100% busy' });
  t.like(byId.get(15), { outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_FAILED, failure: 'internal error; it is logged on the owner' });
  t.like(byId.get(11), { outcome: OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED, modelVersion: 1, owner: 'budget-5s' });
  const unknown = await new Promise<ServiceError | null>((resolve) => {
    client.makeUnaryRequest('/carbon.v1.GatewayInternal/Nothing', () => Buffer.alloc(0), () => ({}), {}, (err) => resolve(err));
  });
  t.is(unknown?.code, status.UNIMPLEMENTED);
});

test('an oversized question ends the stream with RESOURCE_EXHAUSTED naming the sizes', async (t) => {
  const server = await listenInternal(config, undefined, 'w', handler, quiet);
  const client = new GatewayInternalClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
  t.teardown(async () => {
    client.close();
    await server.close(100);
  });
  const call = client.ownerSnapshots();
  call.on('data', () => undefined);
  const ended = new Promise<StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => undefined);
  call.write({ commodity: 'X'.repeat(5_000), partition: 1, id: 1, budgetMs: 1_000 });
  const s = await ended;
  t.is(s.code, status.RESOURCE_EXHAUSTED);
  t.regex(s.details, /message of 50\d\d bytes exceeds 4096/);
});

test('a stream that ends inside a question gets the questions before it answered, then INVALID_ARGUMENT', async (t) => {
  const server = await listenInternal(config, undefined, 'w', handler, quiet);
  const session = connect(`http://127.0.0.1:${server.port}`);
  t.teardown(async () => {
    session.close();
    await server.close(100);
  });
  const stream = session.request({ ':method': 'POST', ':path': OWNER_SNAPSHOTS_PATH, 'content-type': 'application/grpc', te: 'trailers' });
  const reader = new GrpcMessageReader(4_096);
  const answers: OwnerSnapshotResponse[] = [];
  stream.on('data', (chunk: Buffer) => {
    const messages = reader.push(chunk);
    if (Array.isArray(messages)) answers.push(...messages.map((m) => OwnerSnapshotResponse.decode(m)));
  });
  const trailers = new Promise<IncomingHttpHeaders>((resolve) => stream.on('trailers', resolve));
  const whole = grpcFrame(OwnerSnapshotRequest.encode({ commodity: 'SLOW_50', partition: 2, id: 7, budgetMs: 1_000 }).finish());
  const next = grpcFrame(OwnerSnapshotRequest.encode({ commodity: 'WTI', partition: 3, id: 8, budgetMs: 1_000 }).finish());
  stream.end(Buffer.concat([whole, next.subarray(0, 4)]));
  const ended = grpcStatusOf(await trailers);
  t.deepEqual(answers.map((a) => [a.id, a.outcome]), [[7, OwnerSnapshotOutcome.OWNER_SNAPSHOT_OUTCOME_OWNED]], 'the whole question is answered before the stream ends');
  t.is(ended?.code, status.INVALID_ARGUMENT);
  t.regex(ended?.message ?? '', /ended inside a question \(4 bytes of a frame\)/);
});

test('OwnerClients forwards to it: owned answers, and the reason of every failure', async (t) => {
  const { server, peers, endpoint } = await ownerAndPeers(t);
  const owned = await peers.forward(endpoint, 'WTI', 5, 1_000);
  t.true(owned.ok && owned.response.modelVersion === 5 && owned.response.owner === 'budget-1s');
  t.deepEqual(await peers.forward(endpoint, 'BRENT', 5, 1_000), { ok: false, cause: 'declined', reason: `${endpoint}: not the owner` });
  t.deepEqual(await peers.forward(endpoint, 'BOOM', 5, 1_000), { ok: false, cause: 'failed', reason: `${endpoint}: owner could not answer for BOOM: 100% busy` });
  t.deepEqual(await peers.forward(endpoint, 'SLOW_300', 5, 50), { ok: false, cause: 'silent', reason: `${endpoint}: no answer within 50 ms` });
  // The owner's event loop is free (SLOW_ only waits on a timer): it answers the ping, and the peer is trusted again.
  await eventually(async () => (await peers.forward(endpoint, 'WTI', 6, 1_000)).ok, { what: 'a question that timed out leaves the stream usable once the owner answers a ping' });
  await server.close(100);
  const gone = await peers.forward(endpoint, 'WTI', 5, 1_000);
  t.like(gone, { ok: false, cause: 'failed' }, 'a peer that went away');
});

test('a peer that leaves a question unanswered and answers no ping is not asked again until its session is given up', async (t) => {
  // A wedged process (SIGSTOP, a blocked event loop): the kernel accepts the connection and the bytes, nothing answers.
  const received: Buffer[] = [];
  let connections = 0;
  let closed = 0;
  const wedged = createNetServer((socket) => {
    connections++;
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('close', () => closed++);
  });
  await new Promise<void>((resolve) => wedged.listen(0, '127.0.0.1', resolve));
  const peers = new OwnerClients(peerTransport(config, undefined));
  t.teardown(() => {
    peers.close();
    wedged.close();
  });
  const endpoint = `127.0.0.1:${(wedged.address() as AddressInfo).port}`;
  t.like(await peers.forward(endpoint, 'WTI', 1, 10), { ok: false, cause: 'silent' });
  // A tight budget left unanswered says little of the peer: it is asked again.
  t.deepEqual(await peers.forward(endpoint, 'WTI', 1, 50), { ok: false, cause: 'silent', reason: `${endpoint}: no answer within 50 ms` });
  const bytesAfterFirst = received.reduce((n, c) => n + c.length, 0);
  const next = await Promise.all(['WTI', 'BRENT', 'HENRY_HUB'].map((c) => peers.forward(endpoint, c, 1, 5_000)));
  for (const r of next) t.like(r, { ok: false, cause: 'unresponsive' });
  t.regex(next[0]!.ok ? '' : next[0]!.reason, /unresponsive: it left a question unanswered and has not answered a ping for \d+ ms/);
  // The ping went out after the first question's timeout; the three questions that followed were never written.
  t.true(received.reduce((n, c) => n + c.length, 0) - bytesAfterFirst <= 17, 'nothing but the ping (17 bytes) was sent after the first question');
  await eventually(() => closed === 1, { what: 'the session given up once its ping went unanswered', timeoutMs: 10_000, intervalMs: 50 });
  t.like(await peers.forward(endpoint, 'WTI', 1, 50), { ok: false, cause: 'silent' }, 'then the peer is asked again, on a new connection');
  t.is(connections, 2);
});

test('many questions in flight at once on the one stream each get their own answer', async (t) => {
  const { peers, endpoint } = await ownerAndPeers(t);
  const asked = Array.from({ length: 200 }, (_, i) => ({ commodity: `SLOW_${(i * 7) % 40}`, partition: i }));
  const results = await Promise.all(asked.map((q) => peers.forward(endpoint, q.commodity, q.partition, 5_000)));
  t.deepEqual(results.map((r) => (r.ok ? r.response.modelVersion : r.reason)), asked.map((q) => q.partition));
});

test('a closing owner answers the questions in flight before its stream ends; later ones fail', async (t) => {
  const { server, peers, endpoint } = await ownerAndPeers(t);
  t.true((await peers.forward(endpoint, 'WTI', 1, 1_000)).ok, 'the stream is open');
  const inFlight = peers.forward(endpoint, 'SLOW_200', 2, 2_000);
  await sleep(50);
  const closed = server.close(1_000);
  const answered = await inFlight;
  t.true(answered.ok && answered.response.modelVersion === 2, JSON.stringify(answered));
  await closed;
  t.false((await peers.forward(endpoint, 'WTI', 3, 1_000)).ok);
});
